"""The curate stage: every source, split into shards, read and run through the recipe's steps in a process pool.

Per shard it writes (atomically, then a completion marker last): kept documents to ``curated/<channel>/``,
dropped ones with step and reason to ``dropped/``, unreadable records to ``quarantine/``, counters to
``stats/curate/``. A rerun skips shards whose marker matches their fingerprint (inputs, steps, options), so a killed
run resumes where it stopped and produces the same bytes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mixkit import __version__
from mixkit.io.readers import Quarantined, ReadOptions, display_path, options_for, read_shard
from mixkit.io.shards import Shard, plan_shards
from mixkit.io.writers import DROPPED_SCHEMA, JsonlDocWriter, ParquetDocWriter
from mixkit.pipeline.executor import make_executor
from mixkit.pipeline.layout import Workdir
from mixkit.pipeline.step import ShardContext, Step, build_step
from mixkit.records import Document
from mixkit.utils import atomic_open, dumps, file_signatures, fingerprint, write_json

log = logging.getLogger("mixkit.curate")


@dataclass(frozen=True)
class ShardTask:
    """Everything one worker needs for one shard (picklable, no open handles)."""

    shard: Shard
    options: ReadOptions
    steps: tuple[tuple[str, str, str], ...]  # (name, params as sorted JSON, signature of the files it reads)
    workdir: str
    seed: int
    write_dropped: bool
    write_jsonl: bool
    fingerprint: str


_SHARD_DELAY = float(os.environ.get("MIXKIT_SHARD_DELAY", "0") or 0)

# Steps are built once per worker process and reused across its shards (models load once).
_STEPS: dict[tuple[tuple[str, str], ...], list[Step]] = {}


def _steps_for(spec: tuple[tuple[str, str, str], ...]) -> list[Step]:
    # keyed on the files' signatures too: a retrained model at the same path is loaded again
    if spec not in _STEPS:
        _STEPS[spec] = [build_step("step", name, orjson.loads(params)) for name, params, _sig in spec]
    return _STEPS[spec]


def _counted(items: Iterable[Document], box: list[int]) -> Iterator[Document]:
    for doc in items:
        box[0] += 1
        yield doc


def _timed(gen: Iterator[Document], box: list[float]) -> Iterator[Document]:
    """Inclusive time spent producing items of ``gen`` (its own work plus everything upstream)."""
    while True:
        t0 = time.perf_counter()
        try:
            doc = next(gen)
        except StopIteration:
            box[0] += time.perf_counter() - t0
            return
        box[0] += time.perf_counter() - t0
        yield doc


def process_shard(task: ShardTask) -> dict[str, Any]:
    """Curate one shard and return its stats (also written to ``stats/curate/<shard>.json``)."""
    wd = Workdir(Path(task.workdir))
    shard = task.shard
    marker = wd.markers("curate") / f"{shard.id}.done"
    stats_path = wd.stats("curate") / f"{shard.id}.json"
    if marker.exists() and marker.read_text().strip() == task.fingerprint and stats_path.exists():
        stats = orjson.loads(stats_path.read_bytes())
        stats["skipped"] = True
        return stats

    if _SHARD_DELAY:  # debugging knob: slow each shard down, e.g. to try a kill and a resume by hand
        time.sleep(_SHARD_DELAY)
    ctx = ShardContext(seed=task.seed, shard_id=shard.id, workdir=task.workdir)
    ctx.keep_dropped = task.write_dropped
    steps = _steps_for(task.steps)
    quarantine = _QuarantineWriter(wd.quarantine / f"{shard.id}.jsonl")
    read_count = [0]

    def documents() -> Iterator[Document]:
        for item in read_shard(shard, task.options):
            if isinstance(item, Quarantined):
                quarantine.write(item)
            else:
                read_count[0] += 1
                yield item

    stream: Iterator[Document] = documents()
    inclusive: list[list[float]] = []
    counts: list[list[int]] = []
    for step in steps:
        stream = step.run(stream, ctx)
        box, cnt = [0.0], [0]
        stream = _counted(_timed(stream, box), cnt)
        inclusive.append(box)
        counts.append(cnt)

    out_path = wd.curated / task.options.channel / f"{shard.id}.parquet"
    writer = ParquetDocWriter(out_path)
    dropped_writer = (
        ParquetDocWriter(wd.dropped / f"{shard.id}.parquet", DROPPED_SCHEMA) if task.write_dropped else None
    )
    jsonl_writer = JsonlDocWriter(out_path.with_suffix(".jsonl")) if task.write_jsonl else None
    t_start = time.perf_counter()
    try:
        for doc in stream:
            writer.write(doc)
            if jsonl_writer is not None:
                jsonl_writer.write(doc)
            if ctx.dropped_docs:
                _drain_dropped(ctx, dropped_writer)
        _drain_dropped(ctx, dropped_writer)
    except BaseException:
        writer.abort()
        if dropped_writer:
            dropped_writer.abort()
        if jsonl_writer:
            jsonl_writer.abort()
        quarantine.abort()
        raise
    writer.close()
    if dropped_writer:
        dropped_writer.close()
    if jsonl_writer is not None:
        jsonl_writer.close()
    elapsed = time.perf_counter() - t_start

    quarantine.close()

    step_stats: dict[str, Any] = {}
    previous_in, previous_time = read_count[0], 0.0
    for step, box, cnt in zip(steps, inclusive, counts, strict=True):
        st = ctx.stats[step.name]
        st.docs_in, st.docs_out = previous_in, cnt[0]
        st.seconds = max(0.0, box[0] - previous_time)
        previous_in, previous_time = cnt[0], box[0]
        step_stats[step.name] = st.to_dict()
    q_reasons = quarantine.reasons
    dropped = {
        name: dict(sorted(ctx.stats[name].dropped.items())) for name in step_stats if ctx.stats[name].dropped
    }
    stats = {
        "stage": "curate",
        "shard": shard.id,
        "source": shard.source,
        "channel": task.options.channel,
        "file": display_path(shard.path, task.options),
        "input": read_count[0] + quarantine.count,
        "kept": writer.rows,
        "quarantined": dict(sorted(q_reasons.items())),
        "dropped": dropped,
        "steps": step_stats,
        "seconds": round(elapsed, 6),
    }
    # timings differ run to run; keep them out of the fingerprinted outputs but in the stats file
    write_json(stats_path, stats)
    with atomic_open(marker) as fh:
        fh.write(task.fingerprint.encode())
    return stats


class _QuarantineWriter:
    """Streams quarantine entries of one shard to JSONL (written atomically; no file when there are none)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.reasons: dict[str, int] = {}
        self._ctx: Any = None
        self._fh: Any = None

    def write(self, item: Quarantined) -> None:
        if self._fh is None:
            self._ctx = atomic_open(self.path)
            self._fh = self._ctx.__enter__()
        self._fh.write(dumps(item.to_dict()) + b"\n")
        self.count += item.records
        self.reasons[item.reason] = self.reasons.get(item.reason, 0) + item.records

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(None, None, None)
        else:
            self.path.unlink(missing_ok=True)
        self.reasons = dict(sorted(self.reasons.items()))

    def abort(self) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)


def _drain_dropped(ctx: ShardContext, writer: ParquetDocWriter | None) -> None:
    if writer is not None:
        for step, reason, doc in ctx.dropped_docs:
            writer.write(doc, step=step, reason=reason)
    ctx.dropped_docs.clear()


# Step parameters that name files: resolved against the recipe's folder, like every path in a recipe.
PATH_PARAMS = ("model", "words_file", "domains_file")


def _resolve_paths(recipe, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Resolve the file parameters of a step against the recipe folder; also return a signature (path, size,
    mtime of every file they name) so a changed model or word list invalidates finished shards."""
    out = dict(params)
    for key in PATH_PARAMS:
        if isinstance(out.get(key), str):
            out[key] = str(recipe.resolve(out[key]))
    named = [out[key] for key in PATH_PARAMS if isinstance(out.get(key), str)]
    return out, dumps(file_signatures(named)).decode()


def step_file_params(recipe) -> list[str]:
    """The files the recipe's curate steps read (models, word lists), as written in the recipe."""
    from mixkit.recipe.checks import step_entries

    return [
        params[key]
        for _name, params in step_entries(recipe.curate.steps)
        for key in PATH_PARAMS
        if isinstance(params.get(key), str)
    ]


def build_tasks(recipe) -> list[ShardTask]:
    """Plan the shards of every source and the task of each, in a deterministic order."""
    from mixkit.recipe.checks import step_entries

    wd = Workdir.of(recipe)
    resolved = [(name, *_resolve_paths(recipe, params)) for name, params in step_entries(recipe.curate.steps)]
    spec = tuple((name, dumps(params).decode(), sig) for name, params, sig in resolved)
    tasks: list[ShardTask] = []
    for source in recipe.sources:
        opts = options_for(source, recipe.curate, recipe.base_dir)
        for shard in plan_shards(source, recipe.base_dir, recipe.curate.shard_size):
            try:
                st = os.stat(shard.path)
                file_sig: Any = [st.st_size, st.st_mtime_ns]
            except OSError:
                file_sig = None
            fp = fingerprint(
                {
                    "v": __version__,
                    "shard": shard.to_dict(),
                    "file": file_sig,
                    "files": [[f, os.path.getsize(f)] for f in shard.files],
                    "opts": {k: getattr(opts, k) for k in opts.__dataclass_fields__ if k != "base"},
                    "steps": spec,
                    "seed": recipe.seed,
                    "dropped": recipe.curate.write_dropped,
                    "jsonl": recipe.curate.write_jsonl,
                }
            )
            tasks.append(
                ShardTask(
                    shard,
                    opts,
                    spec,
                    str(wd.root),
                    recipe.seed,
                    recipe.curate.write_dropped,
                    recipe.curate.write_jsonl,
                    fp,
                )
            )
    return tasks


def _remove_stale(wd: Workdir, tasks: list[ShardTask]) -> None:
    """Delete outputs of shards that no longer exist (e.g. the input changed size), so they don't leak into
    later stages or the ledger."""
    import re

    live = {t.shard.id for t in tasks}
    shard_name = re.compile(r"^(.+-\d{5})\.(parquet|jsonl|json|done)$")
    folders = [wd.curated, wd.dropped, wd.quarantine, wd.stats("curate"), wd.markers("curate")]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            m = shard_name.match(path.name)
            if path.is_file() and m and m.group(1) not in live:
                log.info("removing stale output %s", path)
                path.unlink()


def run_curate(recipe, workers: int | None = None, show_ledger: bool = True) -> dict[str, Any]:
    """Run the curate stage of ``recipe`` and return the ledger (also written to ``<workdir>/ledger.json``)."""
    from mixkit.pipeline.ledger import build_ledger

    wd = Workdir.of(recipe)
    wd.root.mkdir(parents=True, exist_ok=True)
    tasks = build_tasks(recipe)
    _remove_stale(wd, tasks)
    n_workers = workers or recipe.curate.workers
    log.info(
        "curate: %d sources, %d shards, %d worker(s) -> %s",
        len(recipe.sources),
        len(tasks),
        n_workers,
        wd.curated,
    )
    executor = make_executor(recipe.curate.executor, n_workers)
    results = executor.map(process_shard, tasks, description="curate")
    skipped = [r["shard"] for r in results if r.get("skipped")]
    if skipped:
        log.info(
            "resume: %d of %d shards were already finished and skipped: %s",
            len(skipped),
            len(results),
            ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""),
        )
    return build_ledger(recipe, show=show_ledger)
