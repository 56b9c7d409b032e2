"""Fixtures of the report tests: a synthetic but complete run workdir (every file each report section reads,
written the way the stages do) and where CI artifacts are kept.

Everything lives here rather than in a helper module, so the tests import nothing by file name and work under
any pytest import mode."""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mixkit.recipe import load_recipe

RECIPE = """\
name: synthetic
seed: 7
sources:
  - {name: web_en, path: data/en.jsonl, channel: en}
  - {name: web_zh, path: data/zh.jsonl, channel: zh}
  - {name: code, path: "data/code/*.jsonl", channel: code}
report:
  dropped_samples: 2
  sample_chars: 60
"""

DROPPED_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.large_string()),
        ("channel", pa.string()),
        ("source", pa.string()),
        ("meta", pa.string()),
        ("step", pa.string()),
        ("reason", pa.string()),
    ]
)

# curate stats per shard: channel -> (source, input, quarantined, steps {name: (in, out, {reason: n})})
CURATE = {
    "en": (
        "web_en",
        1000,
        {"invalid_json": 6, "missing_text": 4},
        {
            "lang_id": (990, 900, {"wrong_language": 90}),
            "gopher_quality": (900, 700, {"too_few_words": 120, "symbol_ratio": 80}),
        },
    ),
    "zh": (
        "web_zh",
        600,
        {"invalid_utf8": 3},
        {"lang_id": (597, 560, {"wrong_language": 37}), "gopher_quality": (560, 500, {"too_few_words": 60})},
    ),
    "code": (
        "code",
        300,
        {},
        {"lang_id": (300, 300, {}), "gopher_quality": (300, 290, {"symbol_ratio": 10})},
    ),
}
DEDUP = {
    "en": (
        700,
        640,
        {"minhash": {"near_duplicate": 50}, "decontaminate": {"benchmark_overlap": 10}},
        {"1": 500, "2": 30, "3": 6, "5": 2, "40": 1},
        {"mmlu": 7, "gsm8k": 3},
    ),
    "zh": (500, 480, {"minhash": {"near_duplicate": 20}}, {"1": 466, "2": 15, "4": 1}, {"cmmlu": 2}),
    "code": (290, 290, {}, {"1": 290}, {"mmlu": 0}),
}


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, sort_keys=True, indent=1), encoding="utf-8")


def build_workdir(root: Path) -> dict[str, Any]:
    """Write recipe, inputs and every stage's outputs under ``root``; return what the report must show."""
    (root / "data" / "code").mkdir(parents=True)
    (root / "data" / "en.jsonl").write_text(
        "".join(json.dumps({"text": f"english doc {i}"}) + "\n" for i in range(50)), encoding="utf-8"
    )
    (root / "data" / "zh.jsonl").write_text(
        "".join(json.dumps({"text": f"中文文档 {i}"}, ensure_ascii=False) + "\n" for i in range(30)),
        encoding="utf-8",
    )
    for k in range(2):
        (root / "data" / "code" / f"part{k}.jsonl").write_text(
            json.dumps({"text": f"def f{k}(): pass"}) + "\n"
        )
    (root / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
    wd = root / "runs" / "synthetic"

    by_channel, by_step, dropped_reasons, quarantined = {}, {}, {}, {}
    for ch, (source, n_in, q, steps) in CURATE.items():
        kept = list(steps.values())[-1][1]
        dropped = {name: dict(r) for name, (_, _, r) in steps.items() if r}
        _write_json(
            wd / "stats" / "curate" / f"{source}-00000.json",
            {
                "stage": "curate",
                "shard": f"{source}-00000",
                "source": source,
                "channel": ch,
                "file": "x",
                "input": n_in,
                "kept": kept,
                "quarantined": q,
                "dropped": dropped,
                "steps": {
                    name: {"docs_in": a, "docs_out": b, "dropped": r, "counters": {}, "seconds": 0.1}
                    for name, (a, b, r) in steps.items()
                },
                "seconds": 1.0,
            },
        )
        d_in, d_kept, _d_dropped, _, _ = DEDUP[ch]
        by_channel[ch] = {
            "input": n_in,
            "kept": d_kept,
            "dropped": n_in - sum(q.values()) - d_kept,
            "quarantined": sum(q.values()),
        }
        for name, (a, b, r) in steps.items():
            agg = by_step.setdefault(name, {"stage": "curate", "docs_in": 0, "docs_out": 0, "dropped": {}})
            agg["docs_in"] += a
            agg["docs_out"] += b
            for reason, n in r.items():
                agg["dropped"][reason] = agg["dropped"].get(reason, 0) + n
                dropped_reasons[f"{name}:{reason}"] = dropped_reasons.get(f"{name}:{reason}", 0) + n
        for reason, n in q.items():
            quarantined[reason] = quarantined.get(reason, 0) + n
        assert d_in == kept
    for ch, (d_in, d_kept, dropped, clusters, decontam) in DEDUP.items():
        steps = {}
        remaining = d_in
        for name in ("minhash", "decontaminate"):
            r = dropped.get(name, {})
            out = remaining - sum(r.values())
            steps[name] = {"docs_in": remaining, "docs_out": out, "dropped": r, "counters": {}}
            remaining = out
        assert remaining == d_kept
        _write_json(
            wd / "stats" / "dedup" / f"{ch}.json",
            {
                "stage": "dedup",
                "channel": ch,
                "input": d_in,
                "kept": d_kept,
                "dropped": dropped,
                "steps": steps,
                # as mixkit.dedup.stage writes it: the order steps ran in, and what each step reported
                "order": ["minhash", "decontaminate"],
                "extra": {
                    "cluster_sizes": clusters,
                    "decontam": decontam,
                    "decontam_items": {b: max(1, n // 2) for b, n in decontam.items() if n},
                    "lsh": {
                        "bands": 14,
                        "rows": 8,
                        "num_perm": 112,
                        "p_detect": {"0.80": 0.92, "0.50": 0.05},
                    },
                },
            },
        )
    totals = {k: sum(r[k] for r in by_channel.values()) for k in ("input", "kept", "dropped", "quarantined")}
    _write_json(
        wd / "ledger.json",
        {
            **totals,
            "balanced": True,
            "stages": ["curate", "dedup"],
            "by_channel": by_channel,
            "by_step": by_step,
            "by_reason": {"dropped": dropped_reasons, "quarantined": quarantined},
            "problems": [],
        },
    )

    # dropped documents: two files, several row groups, one hostile text that must be escaped
    rows: list[dict[str, str]] = []
    for ch, (source, _, _, steps) in CURATE.items():
        for name, (_, _, reasons) in steps.items():
            for reason, n in reasons.items():
                for i in range(min(n, 25)):
                    text = f"{reason} sample {i} " + "lorem ipsum " * 20
                    if reason == "symbol_ratio" and i == 0 and ch == "en":
                        text = "<script>alert('x')</script> & <b>not bold</b>"
                    rows.append(
                        {
                            "id": f"{source}/{name}/{reason}/{i}",
                            "text": text,
                            "channel": ch,
                            "source": source,
                            "meta": "{}",
                            "step": name,
                            "reason": reason,
                        }
                    )
    (wd / "dropped").mkdir(parents=True)
    half = len(rows) // 2
    for k, chunk in enumerate((rows[:half], rows[half:])):
        table = pa.Table.from_pylist(chunk, schema=DROPPED_SCHEMA)
        pq.write_table(table, wd / "dropped" / f"part-{k:05d}.parquet", row_group_size=17)
    # the dedup stage's drops, named as mixkit.dedup writes them (step without the "dedup." prefix)
    dup = [
        {
            "id": f"web_en/dup/{i}",
            "text": f"near duplicate {i} " + "lorem ipsum " * 5,
            "channel": "en",
            "source": "web_en",
            "meta": "{}",
            "step": "minhash",
            "reason": "near_duplicate",
        }
        for i in range(12)
    ]
    pq.write_table(pa.Table.from_pylist(dup, schema=DROPPED_SCHEMA), wd / "dropped" / "dedup-en.parquet")

    (wd / "quarantine").mkdir(parents=True)
    with open(wd / "quarantine" / "web_en-00000.jsonl", "w", encoding="utf-8") as fh:
        for i in range(6):
            fh.write(
                json.dumps(
                    {
                        "reason": "invalid_json",
                        "detail": "Expecting value",
                        "source": "web_en",
                        "file": "data/en.jsonl",
                        "line": 100 + i,
                        "raw": "{not json " + "x" * 200,
                    }
                )
                + "\n"
            )
        for i in range(4):
            fh.write(
                json.dumps(
                    {
                        "reason": "missing_text",
                        "source": "web_en",
                        "file": "data/en.jsonl",
                        "line": 200 + i,
                        "raw": '{"title": "no text field"}',
                    }
                )
                + "\n"
            )
    with open(wd / "quarantine" / "web_zh-00000.jsonl", "w", encoding="utf-8") as fh:
        for i in range(3):  # bytes that are not UTF-8 are stored base64-encoded, as mixkit.io.readers does
            raw = base64.b64encode(b'{"text": "caf\xe9 ' + str(i).encode() + b'"}').decode("ascii")
            rec = {
                "reason": "invalid_utf8",
                "source": "web_zh",
                "file": "data/zh.jsonl",
                "line": i + 1,
                "raw": raw,
                "raw_encoding": "base64",
            }
            fh.write(json.dumps(rec) + "\n")

    # what `mixkit run` records per finished stage
    _write_json(
        wd / "markers" / "stages" / "curate.json",
        {"stage": "curate", "fingerprint": "abc123", "seconds": 1.5},
    )

    # the mix plan, made by the real planner from the packed token counts below
    from mixkit.mix.config import MixConfig
    from mixkit.mix.planner import build_plan
    from mixkit.mix.stage import blend_strings

    tokens = {"en": 160_000, "zh": 90_000, "code": 50_000}
    per_source = {"en": {"web_en": 160_000}, "zh": {"web_zh": 90_000}, "code": {"code": 50_000}}
    cfg = MixConfig(
        seq_len=512,
        total_tokens=204_800,
        max_epochs=4,
        period=64,
        stages=[
            {"name": "main", "tokens": "75%", "ratios": {"en": 0.5, "zh": 0.3, "code": 0.2}},
            {"name": "anneal", "ratios": {"en": 0.3, "zh": 0.3, "code": 0.4}},
        ],
    )
    plan = build_plan(cfg, list(tokens), list(tokens.values()), 7, per_source)
    plan.report["blend"] = blend_strings(plan, wd / "tokens")
    plan.save(wd / "plan.json")

    def summary(docs: int, tok: int, chars: int, src: str) -> dict[str, Any]:
        row = {"docs": docs, "tokens": tok, "chars": chars, "chars_per_token": round(chars / tok, 4)}
        return {**row, "sources": {src: dict(row)}}

    _write_json(
        wd / "tokens" / "stats.json",
        {
            "tokenizer": "tokenizer/tokenizer.json",
            "eos_token": "<|endoftext|>",
            "eos_id": 0,
            "vocab_size": 8000,
            "dtype": "uint16",
            "channels": ["en", "zh", "code"],
            "sources": [
                {"name": "web_en", "channel": "en"},
                {"name": "web_zh", "channel": "zh"},
                {"name": "code", "channel": "code"},
            ],
            "train": {
                "en": summary(630, 160_000, 720_000, "web_en"),
                "zh": summary(470, 90_000, 135_000, "web_zh"),
                "code": summary(285, 50_000, 160_000, "code"),
            },
            "val": {
                "en": summary(10, 2_000, 9_000, "web_en"),
                "zh": summary(10, 1_500, 2_250, "web_zh"),
                "code": summary(5, 1_000, 3_200, "code"),
            },
        },
    )
    recs = []
    weights = {"en": 0.5, "zh": 0.3, "code": 0.2}
    for step in range(0, 201, 10):
        stage = "main" if step < 150 else "anneal"
        base = 4.0 * math.exp(-step / 120) + 2.0
        recs.append(
            {
                "kind": "train",
                "step": step,
                "loss": base,
                "lr": 3e-4,
                "stage": stage,
                "channel_loss": {"en": base - 0.2, "zh": base + 0.4, "code": base - 0.6},
                "tokens": {"en": 1000 * step, "zh": 600 * step, "code": 400 * step},
            }
        )
        if step % 50 == 0:
            recs.append(
                {
                    "kind": "val",
                    "step": step,
                    "val_loss": {"en": base - 0.1, "zh": base + 0.5, "code": base - 0.5},
                }
            )
        if step in (60, 120):
            weights = {"en": weights["en"] - 0.05, "zh": weights["zh"] + 0.05, "code": 0.2}
            recs.append({"kind": "reweight", "step": step, "method": "ppl_trend", "weights": dict(weights)})
    (wd / "train").mkdir(parents=True)
    (wd / "train" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return {"workdir": wd, "plots": 9, "ledger": totals}


def artifact_dir() -> Path:
    """Where CI artifacts go: $MIXKIT_CI_ARTIFACTS, else runs/ci-artifacts/ under the repository (gitignored)."""
    env = os.environ.get("MIXKIT_CI_ARTIFACTS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "runs" / "ci-artifacts"


def keep_artifact(path: Path, name: str) -> Path:
    dest = artifact_dir() / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, dest)
    return dest


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """(recipe, expectations) of a complete synthetic run in a temporary folder."""
    expect = build_workdir(tmp_path)
    recipe = load_recipe(tmp_path / "recipe.yaml", check_inputs=False)
    return recipe, expect


@pytest.fixture
def keep_artifact_fn():
    """``keep(path, name)``: copy a file to the CI artifact folder (see ``artifact_dir``)."""
    return keep_artifact


# ------------------------------------------------------------------------------------------ headless Chromium
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_CHROMIUM = "headless Chromium checks need chromium and chromedriver on PATH: apt-get install -y chromium chromium-driver"


class Chromium:
    """A headless Chromium (selenium + chromedriver) that loads a page and reports what a reader would see."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def inspect(self, page: Path) -> dict[str, Any]:
        """Load ``page``; return its images' load state, fetched resources, external references, console log."""
        d = self.driver
        d.get_log("browser")  # drop anything left from a previous page
        d.set_window_size(1280, 1000)
        d.get(page.resolve().as_uri())
        images = d.execute_script(
            "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
            "w: i.naturalWidth, h: i.naturalHeight, data: i.src.startsWith('data:image/')}))"
        )
        resources = d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'))"
        )
        external = d.execute_script(
            "return Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || "
            "e.getAttribute('href')).filter(u => !(u.startsWith('data:') || u.startsWith('#')))"
        )
        return {"images": images, "resources": resources, "external": external, "logs": d.get_log("browser")}

    def screenshot(self, path: Path) -> Path:
        """Full-page screenshot of the loaded page, 1280 px wide (height up to 16000 px)."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, min(max(int(height), 800), 16000))
        self.driver.save_screenshot(str(path))
        return path

    def assert_clean(self, state: dict[str, Any], plots: int | None = None) -> None:
        """Every image is an inline plot that loaded; nothing fetched or referenced outside; no console
        warning or error."""
        if plots is not None:
            assert len(state["images"]) == plots, state["images"]
        for img in state["images"]:
            assert img["data"], f"plot {img['alt']!r} is not an inline image"
            assert img["complete"] and img["w"] > 0 and img["h"] > 0, (
                f"plot {img['alt']!r} did not load: {img}"
            )
        assert state["resources"] == [], f"the report fetched resources: {state['resources']}"
        assert state["external"] == [], f"the report references external URLs: {state['external']}"
        problems = [e for e in state["logs"] if e["level"] in ("SEVERE", "WARNING")]
        assert problems == [], f"console errors: {problems}"


@pytest.fixture(scope="session")
def chromium_session(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium per test process, or None when Chromium is not installed."""
    if not (CHROMIUM and CHROMEDRIVER):
        yield None
        return
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # chromium is there, so the test extra is incomplete: an error, not a skip
        pytest.fail("selenium is missing: pip install 'mixkit[test]'")
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
    # an explicit driver path: selenium's driver manager is never asked to download anything
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield Chromium(driver)
    driver.quit()


@pytest.fixture
def chromium(chromium_session: Chromium | None) -> Chromium:
    """The headless Chromium; the test is skipped, saying why, when Chromium is not installed."""
    if chromium_session is None:
        pytest.skip(NO_CHROMIUM)
    return chromium_session
