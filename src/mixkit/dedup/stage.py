"""The dedup stage: run ``recipe.dedup.steps`` in order over each channel's curated shards.

Reads ``<workdir>/curated/<channel>/*.parquet`` (sorted: that order is the input order), writes
``<workdir>/deduped/<channel>/`` (same file names and schema), one stats file per channel under
``stats/dedup/``, dropped documents to ``dropped/dedup-<channel>.parquet`` and, last, a completion marker holding
the fingerprint of the dedup config and of the input files: a rerun with the same fingerprint does nothing.
"""

from __future__ import annotations

import glob
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from mixkit.dedup.base import INDEX_DONE, DedupError, DroppedSink, GlobalPass, PassContext, file_rows
from mixkit.pipeline.layout import Workdir
from mixkit.pipeline.step import StepStats, build_step
from mixkit.recipe.checks import step_entries
from mixkit.utils import atomic_path, fingerprint, loads, write_json

log = logging.getLogger("mixkit.dedup")

MARKER = "dedup.done"


def _channel_files(wd: Workdir) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for f in sorted(wd.curated.glob("*/*.parquet")):
        out.setdefault(f.parent.name, []).append(f)
    return out


def _remove_stale_outputs(wd: Workdir, files: dict[str, list[Path]]) -> None:
    """Delete deduped shards (and stats) left by an earlier run whose input no longer exists, so later stages
    never read documents that this run did not produce."""
    if wd.deduped.exists():
        for d in sorted(p for p in wd.deduped.iterdir() if p.is_dir()):
            keep = {f.name for f in files.get(d.name, [])}
            for f in sorted(d.glob("*.parquet")):
                if f.name not in keep:
                    f.unlink()
            if d.name not in files:
                shutil.rmtree(d, ignore_errors=True)
    for f in sorted(wd.stats("dedup").glob("*.json")) if wd.stats("dedup").exists() else []:
        if f.stem not in files:
            f.unlink()


def _pass_through(files_in: list[Path], files_out: list[Path]) -> StepStats:
    """Copy shards unchanged (a step restricted to other channels)."""
    stats = StepStats()
    for src, dst in zip(files_in, files_out, strict=True):
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        stats.docs_in += int(file_rows([src])[0])
    stats.docs_out = stats.docs_in
    stats.counters["skipped_channel"] = 1
    return stats


def stage_fingerprint(recipe: Any, files: dict[str, list[Path]]) -> str:
    """Fingerprint of what the dedup output depends on: dedup config, seed and input files (name, size)."""
    wd = Workdir.of(recipe)
    listing = {
        ch: [(str(f.relative_to(wd.curated)), f.stat().st_size) for f in fs] for ch, fs in files.items()
    }
    # files a step reads besides the shards: benchmark files of decontaminate, the index of index_in
    side: list[tuple[str, int]] = []
    for name, params in step_entries(recipe.dedup.steps):
        if name == "decontaminate":
            for pat in params.get("benchmarks", []):
                hits = sorted(Path(h) for h in glob.glob(str(recipe.resolve(pat)), recursive=True))
                side += [(str(p), p.stat().st_size) for p in hits if p.is_file()]
    if recipe.dedup.index_in:
        root = recipe.resolve(recipe.dedup.index_in)
        side += [
            (str(p.relative_to(root)), p.stat().st_size)
            for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        ]  # hidden names are temporary folders of an index being (or crashed while being) written
    return fingerprint(
        {
            "dedup": recipe.dedup.model_dump(mode="json"),
            "seed": recipe.seed,
            "files": listing,
            "sources": [s.name for s in recipe.sources],
            "side_files": side,
        }
    )


def run_dedup(recipe: Any, *, workers: int | None = None) -> dict:
    """Run the recipe's dedup passes over every channel and return {channel: stats dict} (the stats files).

    Deterministic: output bytes depend only on inputs, recipe and seed, not on ``workers``.
    """
    if recipe.dedup is None or not recipe.dedup.steps:
        raise DedupError("the recipe has no dedup steps; add a `dedup: {steps: [exact, minhash]}` section")
    cfg = recipe.dedup
    wd = Workdir.of(recipe)
    files = _channel_files(wd)
    if not files:
        raise DedupError(f"no curated shards under {wd.curated}; run `mixkit curate` first")
    fp = stage_fingerprint(recipe, files)
    marker = wd.markers("dedup") / MARKER
    if marker.exists() and loads(marker.read_bytes()).get("fingerprint") == fp:
        log.info("dedup: up to date (fingerprint %s), skipping", fp)
        return {ch: loads((wd.stats("dedup") / f"{ch}.json").read_bytes()) for ch in files}
    marker.unlink(missing_ok=True)
    n_workers = workers or cfg.workers or recipe.curate.workers
    steps: list[tuple[str, GlobalPass]] = []
    seen: dict[str, int] = {}
    for name, params in step_entries(cfg.steps):
        step = build_step("dedup", name, params)
        seen[name] = seen.get(name, 0) + 1
        key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        steps.append((key, step))  # type: ignore[arg-type]
    index_in = recipe.resolve(cfg.index_in) if cfg.index_in else None
    index_out = recipe.resolve(cfg.index_out) if cfg.index_out else None
    if index_in is not None and not index_in.exists():
        raise DedupError(
            f"dedup.index_in {index_in} does not exist; point it at the index_out of an earlier run"
        )
    if index_in is not None and not any(index_in.glob(f"*/*/{INDEX_DONE}")):
        raise DedupError(
            f"dedup.index_in {index_in} holds no finished dedup index (no <step>/<channel>/{INDEX_DONE}): "
            "point it at the index_out of an earlier run that completed, or rerun that run to rebuild it"
        )
    if index_out is not None and index_in is not None and index_out.resolve() == index_in.resolve():
        raise DedupError(
            "dedup.index_out must differ from dedup.index_in (the old index is read while writing)"
        )
    _remove_stale_outputs(wd, files)
    results: dict[str, dict] = {}
    try:
        for channel, inputs in files.items():
            results[channel] = _run_channel(
                recipe, wd, channel, inputs, steps, n_workers, index_in, index_out
            )
    finally:
        from mixkit.dedup.minhash import close_pool

        close_pool()
    write_json(wd.markers("dedup") / MARKER, {"fingerprint": fp, "channels": sorted(files)})
    return results


def _run_channel(
    recipe: Any,
    wd: Workdir,
    channel: str,
    inputs: list[Path],
    steps: list[tuple[str, GlobalPass]],
    workers: int,
    index_in: Path | None,
    index_out: Path | None,
) -> dict:
    cfg = recipe.dedup
    state = wd.dedup_state / channel
    sink = DroppedSink(wd.dropped / f"dedup-{channel}.parquet" if cfg.write_dropped else None)
    (wd.dropped / f"dedup-{channel}.parquet").unlink(missing_ok=True)
    final = [wd.deduped / channel / f.name for f in inputs]
    current = inputs
    out: dict[str, Any] = {
        "stage": "dedup",
        "channel": channel,
        "input": 0,
        "kept": 0,
        "dropped": {},
        "steps": {},
        "order": [key for key, _ in steps],
        "extra": {},
    }
    t_all = time.perf_counter()
    try:
        for i, (key, step) in enumerate(steps):
            last = i == len(steps) - 1
            targets = final if last else [state / f"out-{i:02d}" / f.name for f in inputs]
            extra: dict[str, Any] = {"index_in": index_in, "index_out": index_out}
            ctx = PassContext(
                channel=channel,
                state=state / f"{i:02d}-{step.name}",
                workers=workers,
                seed=recipe.seed,
                sources=[s.name for s in recipe.sources],
                base=recipe.base_dir,
                dropped=sink,
                extra=extra,
            )
            only = getattr(step.params, "channels", None)
            if only is not None and channel not in only:
                stats = _pass_through(current, targets)
            else:
                stats = step.run_pass(current, targets, ctx)
            if i == 0:
                out["input"] = stats.docs_in
            out["steps"][key] = stats.to_dict()
            if stats.dropped:
                out["dropped"][key] = dict(sorted(stats.dropped.items()))
            for k in ("cluster_sizes", "decontam", "decontam_items", "lsh"):
                if k in extra:
                    out["extra"][k if k not in out["extra"] else f"{k}:{key}"] = extra[k]
            log.info(
                "dedup %s %s: %d -> %d documents (%.1f s)",
                channel,
                key,
                stats.docs_in,
                stats.docs_out,
                stats.seconds,
            )
            if current is not inputs:
                shutil.rmtree(current[0].parent, ignore_errors=True)
            current = targets
            out["kept"] = stats.docs_out
    finally:
        sink.close()
    out["seconds"] = round(time.perf_counter() - t_all, 3)
    write_json(wd.stats("dedup") / f"{channel}.json", out)
    return out
