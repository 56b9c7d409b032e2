"""Render report.html in headless Chromium: every plot loads, nothing is fetched, no console errors, screenshot kept.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (installed by ``.ci/run``) and ``selenium`` (the
``test`` extra); skipped, saying why, when Chromium is not installed. The screenshot stays in the run's workdir
and is copied to ``$MIXKIT_CI_ARTIFACTS`` (default ``runs/ci-artifacts/``) for CI to upload. The browser
fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mixkit.report.html import write_report


def test_report_renders_in_chromium(
    chromium: Any, synthetic: tuple[Any, dict[str, Any]], keep_artifact_fn: Any
) -> None:
    recipe, expect = synthetic
    page = write_report(recipe)
    state = chromium.inspect(page)
    chromium.assert_clean(state, plots=expect["plots"])
    shot = chromium.screenshot(expect["workdir"] / "report.png")
    assert shot.stat().st_size > 50_000  # a real page, not a blank frame
    keep_artifact_fn(shot, "report/report.png")
    keep_artifact_fn(page, "report/report.html")


def test_checker_catches_broken_pages(chromium: Any, tmp_path: Path) -> None:
    """The checks can fail: a broken inline image, an external URL and a script error are all detected."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body>'
        '<img alt="bad" src="data:image/png;base64,AAAA"><a href="https://example.invalid/">x</a>'
        '<script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    state = chromium.inspect(page)
    assert state["images"][0]["w"] == 0
    assert state["external"] == ["https://example.invalid/"]
    assert any("boom" in e["message"] for e in state["logs"] if e["level"] == "SEVERE")
    for broken in (
        {**state, "external": [], "logs": []},
        {**state, "images": [], "logs": []},
        {**state, "images": [], "external": []},
    ):
        try:
            chromium.assert_clean(broken)
        except AssertionError:
            continue
        raise AssertionError(f"assert_clean accepted a broken page: {broken}")


def test_empty_workdir_renders_without_errors(chromium: Any, synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    shutil.rmtree(expect["workdir"])
    state = chromium.inspect(write_report(recipe))
    chromium.assert_clean(state, plots=0)
