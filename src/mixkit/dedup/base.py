"""What every global dedup pass shares: reading shards in input order, deterministic priorities, writing kept
documents and dropped ones with their reason.

A pass sees all documents of one channel at once (``run_pass``), unlike a curate ``Step`` that sees one shard.
Its state lives in files under ``<workdir>/dedup_state/<channel>/<step>/``; only compact numpy arrays (a few
bytes per document) are held in memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from mixkit.errors import MixkitError
from mixkit.io.writers import DOC_SCHEMA, DROPPED_SCHEMA, ParquetDocWriter
from mixkit.pipeline.step import ShardContext, Step, StepParams, StepStats
from mixkit.records import Document
from mixkit.utils import dumps, loads, write_json

log = logging.getLogger("mixkit.dedup")

COLUMNS = ["id", "text", "channel", "source", "meta"]
SCHEMA = DOC_SCHEMA  # the curated shard schema (mixkit.io.writers): deduped shards are written with it too
READ_BATCH = 1024  # rows per batch read from input files (bounds the transient text held in memory)
INDEX_DONE = "index.done.json"  # written last inside a finished index folder (see ``building_index``)


class DedupError(MixkitError):
    """A dedup pass cannot run (bad input files, incompatible index ...)."""


class RowWriter:
    """Writes tables of dedup rows (columns of ``schema``, ``meta`` a JSON string) through
    ``mixkit.io.writers.ParquetDocWriter``, so deduped and dropped shards have exactly the curated format
    (schema, row groups, compression): one writer implementation, deterministic bytes."""

    def __init__(self, path: Path, schema: pa.Schema = DOC_SCHEMA) -> None:
        self.path = path
        self.schema = schema
        self._writer = ParquetDocWriter(path, schema)
        self._extra = [n for n in schema.names if n not in COLUMNS]

    @property
    def rows(self) -> int:
        return self._writer.rows

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table`` (meta parsed and re-serialised with sorted keys, as curate writes it)."""
        if table.num_rows == 0:
            return
        cols = table.select(self.schema.names).to_pydict()
        ids, texts, chans, srcs, metas = (cols[c] for c in COLUMNS)
        extra = [(k, cols[k]) for k in self._extra]
        for i in range(table.num_rows):
            doc = Document(ids[i], texts[i], chans[i], srcs[i], loads(metas[i]) if metas[i] else {})
            self._writer.write(doc, **{k: v[i] for k, v in extra})

    def close(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.abort()


def index_folder(index_in: Path | None, step: str, channel: str) -> Path | None:
    """The finished index folder ``<index_in>/<step>/<channel>``, or None when ``index_in`` is unset or holds
    nothing for this step and channel (a channel or step new in this run).

    Raises DedupError when the folder exists but lacks its completion marker (a run that crashed while
    writing it, or files copied by hand): deduping against half an index would silently keep duplicates.
    """
    if index_in is None:
        return None
    folder = index_in / step / channel
    if not folder.exists():
        leftovers = sorted(folder.parent.glob(f".{channel}.*.tmp")) + sorted(
            folder.parent.glob(f".{channel}.*.old")
        )
        if leftovers:
            raise DedupError(
                f"dedup index {folder} is missing but {leftovers[-1].name} is there: the run that wrote the index "
                "stopped while writing it. Rerun that run with the same dedup.index_out to rebuild it"
                + (f" (or rename {leftovers[-1]} back to {folder})" if leftovers[-1].suffix == ".old" else "")
                + ", or delete the leftover to dedup this channel without it."
            )
        log.info("dedup %s %s: %s has nothing for this step and channel", step, channel, index_in)
        return None
    if not (folder / INDEX_DONE).is_file():
        raise DedupError(
            f"dedup index {folder} is incomplete (no {INDEX_DONE}): the run that wrote it stopped before "
            "finishing, or it was not written by mixkit. Rerun that run with the same dedup.index_out to "
            "rebuild it, or delete the folder to dedup this channel without it."
        )
    return folder


@contextlib.contextmanager
def building_index(index_out: Path, step: str, channel: str) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``<index_out>/<step>/<channel>``; when the block succeeds, write
    the completion marker last and move the folder into place (replacing an older one). A crash leaves the old
    index (or none) plus a hidden temporary folder, never a half-written index that looks complete."""
    dest = index_out / step / channel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{channel}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
        write_json(tmp / INDEX_DONE, {"step": step, "channel": channel})
        old = None
        if dest.exists():
            old = tmp.with_name(tmp.name[: -len(".tmp")] + ".old")
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_rows(files: list[Path]) -> np.ndarray:
    """Row count of each Parquet file (from the footer, no data read)."""
    return np.array([pq.ParquetFile(f).metadata.num_rows for f in files], dtype=np.int64)


def iter_batches(files: list[Path], columns: list[str] | None = None) -> Iterator[tuple[int, int, pa.Table]]:
    """(file index, global row of the first row, table) for every batch of every file, in input order."""
    start = 0
    for fi, f in enumerate(files):
        pf = pq.ParquetFile(f)
        missing = [c for c in (columns or COLUMNS) if c not in pf.schema_arrow.names]
        if missing:
            raise DedupError(
                f"{f} lacks column(s) {missing}; dedup reads curated shards with columns {COLUMNS}. "
                "Rerun `mixkit curate` to rebuild them."
            )
        for rb in pf.iter_batches(batch_size=READ_BATCH, columns=columns or COLUMNS):
            t = pa.Table.from_batches([rb])
            yield fi, start, t
            start += t.num_rows


@dataclass
class DroppedSink:
    """Where dropped documents go: ``<workdir>/dropped/dedup-<channel>.parquet`` (written when closed)."""

    path: Path | None
    _writer: RowWriter | None = None

    def add(self, table: pa.Table, step: str, reasons: list[str]) -> None:
        if self.path is None or table.num_rows == 0:
            return
        if self._writer is None:
            self._writer = RowWriter(self.path, DROPPED_SCHEMA)
        t = table.select(COLUMNS).append_column("step", pa.array([step] * table.num_rows, pa.string()))
        self._writer.write(t.append_column("reason", pa.array(reasons, pa.string())))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass
class PassContext:
    """What a pass sees: the channel, its state folder, workers, seed, source order and the dropped sink."""

    channel: str
    state: Path
    workers: int = 1
    seed: int = 0
    sources: list[str] = field(default_factory=list)  # recipe source order (for priorities)
    base: Path = field(default_factory=Path.cwd)  # folder recipe-relative paths resolve against
    dropped: DroppedSink = field(default_factory=lambda: DroppedSink(None))
    extra: dict[str, Any] = field(default_factory=dict)  # per-pass extras for the stats file

    def resolve(self, p: str | Path) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else self.base / path


def priority_order(files: list[Path], priority: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic keep-priority of every document: sources listed in ``priority`` first (in that order),
    then everything else; ties by input order (file, row).

    Returns (doc_of_pos, pos_of_doc): ``doc_of_pos[k]`` is the input index of the k-th most preferred document.
    """
    rank_of = {s: i for i, s in enumerate(priority)}
    ranks = []
    for _, _, t in iter_batches(files, ["source"]):
        src = t.column("source").to_pylist()
        ranks.append(
            np.fromiter((rank_of.get(s, len(priority)) for s in src), dtype=np.int64, count=len(src))
        )
    rank = np.concatenate(ranks) if ranks else np.zeros(0, np.int64)
    doc_of_pos = np.argsort(rank, kind="stable")
    pos_of_doc = np.empty_like(doc_of_pos)
    pos_of_doc[doc_of_pos] = np.arange(len(doc_of_pos))
    return doc_of_pos, pos_of_doc


Decide = Callable[[pa.Table, int], tuple[np.ndarray, list[str | None] | None, pa.Table]]


def apply_decisions(
    files_in: list[Path], files_out: list[Path], step: str, ctx: PassContext, decide: Decide, stats: StepStats
) -> None:
    """Stream every input file once, ask ``decide(table, first_row)`` for (keep mask, drop reason per row or
    None, possibly rewritten table), write kept rows to the matching output file and dropped rows to the sink."""
    # one open writer at a time: a finished file is closed before the next starts (bounded buffers)
    current: tuple[int, RowWriter] | None = None
    done: set[int] = set()
    try:
        for fi, start, t in iter_batches(files_in):
            if current is None or current[0] != fi:
                if current is not None:
                    current[1].close()
                    done.add(current[0])
                for skipped in range(current[0] + 1 if current else 0, fi):  # files without rows
                    RowWriter(files_out[skipped]).close()
                    done.add(skipped)
                current = (fi, RowWriter(files_out[fi]))
            keep, reasons, t2 = decide(t, start)
            stats.docs_in += t.num_rows
            kept = int(keep.sum())
            stats.docs_out += kept
            current[1].write(t2.filter(pa.array(keep)))
            if kept < t.num_rows:
                drop_idx = np.flatnonzero(~keep)
                why = [(reasons[i] if reasons else None) or step for i in drop_idx]
                for r in why:
                    stats.dropped[r] += 1
                ctx.dropped.add(t2.take(pa.array(drop_idx)), step, why)
        if current is not None:
            current[1].close()
            done.add(current[0])
        for fi in range(len(files_in)):
            if fi not in done:  # trailing files without rows still get an (empty) output file
                RowWriter(files_out[fi]).close()
    except BaseException:
        if current is not None and current[0] not in done:
            current[1].abort()
        raise


def update_meta(
    metas: list[str | None], rows: np.ndarray, updates: Callable[[int], dict[str, Any]]
) -> list[str | None]:
    """Return ``metas`` with ``updates(i)`` merged into the JSON object of each row ``i`` in ``rows``."""
    out = list(metas)
    for i in rows:
        m = loads(out[i]) if out[i] else {}
        m.update(updates(int(i)))
        out[i] = dumps(m).decode()
    return out


class PassParams(StepParams):
    """Parameters every dedup pass has."""

    channels: list[str] | None = Field(
        default=None, description="run only on these channels (others pass through unchanged); default: all"
    )


class GlobalPass(Step):
    """A dedup pass over all documents of a channel. Subclasses implement ``run_pass``.

    ``run`` (the per-document Step interface) materialises the documents into a temporary Parquet file and runs
    the pass on it, so a pass can also be used from Python on a small list of documents.
    """

    def run_pass(self, files_in: list[Path], files_out: list[Path], ctx: PassContext) -> StepStats:
        """Read ``files_in`` (input order), write kept documents to ``files_out`` (same order) and return stats."""
        raise NotImplementedError

    def run(self, docs: Iterable[Document], ctx: ShardContext) -> Iterator[Document]:
        with tempfile.TemporaryDirectory(prefix="mixkit-dedup-") as tmp:
            root = Path(tmp)
            src = root / "in.parquet"
            writer = ParquetDocWriter(src)
            writer.write_all(docs)
            writer.close()
            sink = DroppedSink(root / "dropped.parquet")
            pctx = PassContext(channel="", state=root / "state", seed=ctx.seed, dropped=sink)
            stats = self.run_pass([src], [root / "out.parquet"], pctx)
            sink.close()
            if (root / "dropped.parquet").exists():
                for r in pq.read_table(root / "dropped.parquet").to_pylist():
                    ctx.drop(
                        Document(r["id"], r["text"], r["channel"], r["source"], loads(r["meta"])),
                        self.name,
                        r["reason"],
                    )
            ctx.stats[self.name] = stats  # the pass's own counters (replace what ctx.drop added)
            for r in pq.read_table(root / "out.parquet").to_pylist():
                yield Document(
                    r["id"], r["text"], r["channel"], r["source"], loads(r["meta"]) if r["meta"] else {}
                )
