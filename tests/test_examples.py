"""Every shipped example recipe runs end to end (the README's `make demo`), and its outputs open in the tools
users have: pyarrow and Hugging Face `datasets`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "examples").glob("*/recipe.yaml"))


@pytest.fixture(scope="session")
def quickstart_data():
    from mixkit.examples.quickstart import build_quickstart

    return build_quickstart(ROOT / "examples" / "quickstart")


def _relocated(recipe_path: Path, tmp_path: Path) -> Path:
    """The shipped recipe with its workdir in tmp_path and its inputs pointing back at the example folder."""
    data = yaml.safe_load(recipe_path.read_text(encoding="utf-8"))
    base = recipe_path.parent
    data["workdir"] = str(tmp_path / "run")
    for src in data["sources"]:
        paths = src["path"] if isinstance(src["path"], list) else [src["path"]]
        src["path"] = [str(base / p) for p in paths]
    if data.get("tokenizer"):
        data["tokenizer"] = str(base / data["tokenizer"])
    for section in ("dedup",):
        for step in (data.get(section) or {}).get("steps", []):
            params = next(iter(step.values())) if isinstance(step, dict) else None
            if isinstance(params, dict) and "benchmarks" in params:
                params["benchmarks"] = [str(base / b) for b in params["benchmarks"]]
    out = tmp_path / "recipe.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("recipe_path", RECIPES, ids=[p.parent.name for p in RECIPES])
def test_shipped_recipe_runs(recipe_path, quickstart_data, tmp_path):
    recipe = _relocated(recipe_path, tmp_path)
    first = subprocess.run(
        [sys.executable, "-m", "mixkit.cli", "run", str(recipe)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert first.returncode == 0, first.stderr[-4000:]
    assert "balanced" in first.stderr
    ledger = orjson.loads((tmp_path / "run" / "ledger.json").read_bytes())
    assert (
        ledger["balanced"] and ledger["input"] == ledger["kept"] + ledger["dropped"] + ledger["quarantined"]
    )
    assert ledger["quarantined"] >= 5  # the corpus carries deliberately broken records

    files = sorted((tmp_path / "run" / "curated").glob("*/*.parquet"))
    assert files
    table = pq.read_table(files[0])
    assert table.column_names == ["id", "text", "channel", "source", "meta"]
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(
        "parquet", data_files=[str(f) for f in files], split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert len(ds) == sum(pq.ParquetFile(f).metadata.num_rows for f in files)

    run = tmp_path / "run"
    declared = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    if declared.get("mix"):
        plan = orjson.loads((run / "plan.json").read_bytes())
        assert plan and (run / "tokens" / "index.json").exists()
    if declared.get("train"):
        metrics = [orjson.loads(line) for line in (run / "train" / "metrics.jsonl").read_bytes().splitlines()]
        train_rows = [m for m in metrics if m.get("kind", "train") == "train" and "channel_loss" in m]
        assert train_rows and set(train_rows[-1]["channel_loss"]) <= set(ledger["by_channel"])
        assert list((run / "train" / "tb").rglob("events.out.tfevents*"))
    assert (run / "report.html").exists() and f"report: {run / 'report.html'}" in first.stdout + first.stderr

    second = subprocess.run(
        [sys.executable, "-m", "mixkit.cli", "run", str(recipe)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert second.returncode == 0, second.stderr[-4000:]
    log = sorted((tmp_path / "run" / "logs").glob("run-*.log"))[-1].read_text()
    stages = [k for k in ("curate", "dedup", "pack", "mix", "train") if k == "curate" or declared.get(k)]
    for stage in stages:
        assert f"{stage}: up to date" in log, f"{stage} was not skipped on the second run"
