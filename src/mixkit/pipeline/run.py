"""`mixkit run`: every stage a recipe declares, in data-flow order, each skipped when its fingerprint (its own
settings, the fingerprint of the stage before it, and its inputs) matches the last completed run."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from mixkit import __version__
from mixkit.logs import add_file_log
from mixkit.pipeline.layout import Workdir
from mixkit.utils import atomic_open, file_signatures, fingerprint, write_json

log = logging.getLogger("mixkit.run")

# (stage, "module:function", does the recipe declare it?). Order is the data flow.
STAGES: list[tuple[str, str, Callable[[Any], bool]]] = [
    ("curate", "mixkit.pipeline.curate_stage:run_curate", lambda r: True),
    ("dedup", "mixkit.dedup.stage:run_dedup", lambda r: bool(r.dedup and r.dedup.steps)),
    ("pack", "mixkit.pack.stage:run_pack", lambda r: r.pack is not None or r.mix is not None),
    ("mix", "mixkit.mix.stage:run_mix", lambda r: r.mix is not None),
    ("train", "mixkit.train.loop:run_train", lambda r: r.train is not None),
]


def _call(target: str, recipe: Any, **kwargs: Any) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)(recipe, **kwargs)


def _stage_settings(recipe: Any, stage: str) -> Any:
    data = recipe.model_dump(mode="json")
    keep = {
        "curate": ["sources", "curate", "seed"],
        "dedup": ["dedup", "seed"],
        "pack": ["tokenizer", "pack", "seed"],
        "mix": ["mix", "seed"],
        "train": ["train", "seed"],
    }[stage]
    return {k: data.get(k) for k in keep}


def _file_sigs(recipe: Any, patterns: list[str]) -> list[Any]:
    """(path, size, mtime) of every file under the given recipe-relative paths or globs."""
    return file_signatures([str(recipe.resolve(p)) for p in patterns])


def _stage_inputs(recipe: Any, stage: str) -> Any:
    """What a stage reads besides the previous stage's output: input files, benchmark files, the tokenizer."""
    if stage == "curate":
        # stat the inputs and the files steps read; planning the shards would read every JSONL file once more
        from mixkit.pipeline.curate_stage import step_file_params

        patterns = [p for src in recipe.sources for p in src.paths]
        return _file_sigs(recipe, patterns + step_file_params(recipe))
    if stage == "dedup":
        patterns: list[str] = []
        for entry in recipe.dedup.steps:
            params = next(iter(entry.values())) if isinstance(entry, dict) else None
            for key in ("benchmarks", "index_in"):
                value = (params or {}).get(key)
                patterns += [value] if isinstance(value, str) else list(value or [])
        return _file_sigs(recipe, patterns)
    if stage == "pack" and recipe.tokenizer:
        return _file_sigs(recipe, [recipe.tokenizer])
    if stage == "train" and recipe.train is not None and recipe.train.model.path:
        return _file_sigs(recipe, [recipe.train.model.path])
    return None


def _prepare_train_dir(wd: Workdir, fp: str) -> bool:
    """Resume a training run this same stage started and did not finish; move an older, different run aside
    (never delete checkpoints). Returns whether to resume."""
    started = wd.markers("stages") / "train.started"
    has_run = wd.train.is_dir() and any(wd.train.iterdir())
    if has_run and started.exists() and started.read_text().strip() == fp:
        log.info("train: resuming the unfinished run with the same settings")
        return True
    if has_run:
        n = 1
        while (aside := wd.root / f"train.previous-{n}").exists():
            n += 1
        wd.train.rename(aside)
        log.warning("train: settings or data changed; the previous run was moved to %s", aside)
    with atomic_open(started) as fh:
        fh.write(fp.encode())
    return False


def run_recipe(path: str | Path, workers: int | None = None, force: bool = False) -> dict[str, Any]:
    """Run all declared stages of the recipe at ``path`` and write the report; returns per-stage outcomes."""
    from mixkit.recipe import load_recipe

    recipe = load_recipe(path)
    wd = Workdir.of(recipe)
    wd.root.mkdir(parents=True, exist_ok=True)
    log_path = add_file_log(wd.root, "run")
    log.info("mixkit %s: running %s (workdir %s, log %s)", __version__, path, wd.root, log_path)
    outcome: dict[str, Any] = {}
    upstream = ""
    for stage, target, declared in STAGES:
        if not declared(recipe):
            continue
        inputs = _stage_inputs(recipe, stage)
        fp = fingerprint(
            {
                "v": __version__,
                "stage": stage,
                "settings": _stage_settings(recipe, stage),
                "upstream": upstream,
                "inputs": inputs,
            }
        )
        marker = wd.markers("stages") / f"{stage}.json"
        if not force and marker.exists() and orjson.loads(marker.read_bytes()).get("fingerprint") == fp:
            log.info("%s: up to date (fingerprint %s), skipped", stage, fp)
            outcome[stage] = "skipped"
        else:
            t0 = time.perf_counter()
            log.info("%s: running", stage)
            kwargs: dict[str, Any] = {"workers": workers} if stage in ("curate", "dedup") and workers else {}
            if stage == "curate" and recipe.dedup and recipe.dedup.steps:
                kwargs["show_ledger"] = False  # the ledger is shown once, after dedup, with both stages
            if stage == "train":
                kwargs["resume"] = _prepare_train_dir(wd, fp)
            result = _call(target, recipe, **kwargs)
            if isinstance(result, dict) and result.get("status") == "interrupted":
                log.warning("%s: interrupted; run the same command again to resume", stage)
                outcome[stage] = "interrupted"
                return outcome
            seconds = time.perf_counter() - t0
            write_json(marker, {"stage": stage, "fingerprint": fp, "seconds": round(seconds, 3)})
            outcome[stage] = f"done in {seconds:.1f}s"
        upstream = fp
    if outcome.get("curate") == "skipped" or "dedup" in outcome:
        # the ledger spans curate and dedup: rebuild it from every stage's stats and show the final funnel
        from mixkit.pipeline.ledger import build_ledger

        build_ledger(recipe, write=True, show=True)
    if recipe.report.enabled:
        report = _call("mixkit.report.html:write_report", recipe)
        outcome["report"] = str(report)
        log.info("report written: %s", report)
    return outcome
