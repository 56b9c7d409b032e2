"""Render report.html in headless Chromium: every plot loads, nothing is fetched, no console errors, screenshot kept.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (installed by ``.ci/run``) and ``selenium`` (the
``test`` extra). The screenshot stays in the run's workdir and is copied to ``$MIXKIT_CI_ARTIFACTS`` (default
``runs/ci-artifacts/``) for CI to upload.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mixkit.report.html import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium test needs /usr/bin/chromium and chromedriver: apt-get install -y chromium "
    "chromium-driver",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium missing: pip install 'mixkit[test]'"
    )
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Explicit driver path: selenium's driver manager is never asked to download anything.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def inspect_page(driver: Any, page: Path) -> dict[str, Any]:
    """Load ``page`` and return its images' load state, fetched resources, external references and console log."""
    driver.get_log("browser")  # drop anything left from a previous page
    driver.get(page.resolve().as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
        "w: i.naturalWidth, h: i.naturalHeight, data: i.src.startsWith('data:image/')}))"
    )
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'))"
    )
    external = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || "
        "e.getAttribute('href')).filter(u => !(u.startsWith('data:') || u.startsWith('#')))"
    )
    logs = driver.get_log("browser")
    return {"images": images, "resources": resources, "external": external, "logs": logs}


def screenshot(driver: Any, path: Path) -> None:
    """Full-page screenshot at 1280 px wide (the window grows to the page height, capped at 16000 px)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 16000))
    driver.save_screenshot(str(path))


def test_report_renders_in_chromium(
    browser: Any, synthetic: tuple[Any, dict[str, Any]], keep_artifact_fn: Any
) -> None:
    recipe, expect = synthetic
    page = write_report(recipe)
    state = inspect_page(browser, page)
    assert len(state["images"]) == expect["plots"], state["images"]
    for img in state["images"]:
        assert img["data"], f"plot {img['alt']!r} is not an inline image"
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, f"plot {img['alt']!r} did not load: {img}"
    assert state["resources"] == [], f"the report fetched resources: {state['resources']}"
    assert state["external"] == [], f"the report references external URLs: {state['external']}"
    errors = [e for e in state["logs"] if e["level"] in ("SEVERE", "WARNING")]
    assert errors == [], f"console errors: {errors}"
    shot = expect["workdir"] / "report.png"
    screenshot(browser, shot)
    assert shot.stat().st_size > 50_000  # a real page, not a blank frame
    keep_artifact_fn(shot, "report/report.png")
    keep_artifact_fn(page, "report/report.html")


def test_checker_catches_broken_pages(browser: Any, tmp_path: Path) -> None:
    """The assertions above can fail: a broken inline image and a script error are both detected."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body>'
        '<img alt="bad" src="data:image/png;base64,AAAA"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    state = inspect_page(browser, page)
    assert state["images"][0]["w"] == 0
    assert any("boom" in e["message"] for e in state["logs"] if e["level"] == "SEVERE")


def test_empty_workdir_renders_without_errors(browser: Any, synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    shutil.rmtree(expect["workdir"])
    state = inspect_page(browser, write_report(recipe))
    assert state["images"] == []
    assert [e for e in state["logs"] if e["level"] == "SEVERE"] == []
