"""What every global dedup pass shares: reading shards in input order, deterministic priorities, writing kept
documents and dropped ones with their reason.

A pass sees all documents of one channel at once (``run_pass``), unlike a curate ``Step`` that sees one shard.
Its state lives in files under ``<workdir>/dedup_state/<channel>/<step>/``; only compact numpy arrays (a few
bytes per document) are held in memory.
"""

from __future__ import annotations

import logging
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
from mixkit.pipeline.step import ShardContext, Step, StepParams, StepStats
from mixkit.records import Document
from mixkit.utils import atomic_path, dumps, loads

log = logging.getLogger("mixkit.dedup")

COLUMNS = ["id", "text", "channel", "source", "meta"]
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])
DROPPED_SCHEMA = pa.schema([(c, pa.string()) for c in [*COLUMNS, "step", "reason"]])
ROW_GROUP = (
    4096  # rows per Parquet row group of every file the dedup stage writes (fixed: byte-identical output)
)
READ_BATCH = 1024  # rows per batch read from input files (bounds the transient text held in memory)


class DedupError(MixkitError):
    """A dedup pass cannot run (bad input files, incompatible index ...)."""


def write_options() -> dict[str, Any]:
    """Parquet writer options: zstd, no timestamps or per-run metadata, so equal rows give equal bytes."""
    return {"compression": "zstd", "compression_level": 3, "use_dictionary": False, "write_statistics": False}


class RowWriter:
    """Buffered Parquet writer with exactly ``ROW_GROUP`` rows per row group (deterministic file bytes)."""

    def __init__(self, path: Path, schema: pa.Schema = SCHEMA) -> None:
        self.path = path
        self.schema = schema
        self._ctx = atomic_path(path)
        self._tmp = self._ctx.__enter__()
        self._writer = pq.ParquetWriter(self._tmp, schema, **write_options())
        self._buf: list[pa.Table] = []
        self._n = 0
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buf.append(table.select(self.schema.names).cast(self.schema))
        self._n += table.num_rows
        self.rows += table.num_rows
        if self._n >= ROW_GROUP:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._buf:
            return
        t = pa.concat_tables(self._buf).combine_chunks()
        full = (t.num_rows // ROW_GROUP) * ROW_GROUP if not final else t.num_rows
        if full:
            self._writer.write_table(t.slice(0, full), row_group_size=ROW_GROUP)
        rest = t.slice(full)
        self._buf = [rest] if rest.num_rows else []
        self._n = rest.num_rows

    def close(self) -> None:
        self._flush(final=True)
        self._writer.close()
        self._ctx.__exit__(None, None, None)

    def abort(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self._writer.close()
        self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)


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
            rows = [
                {
                    "id": d.id,
                    "text": d.text,
                    "channel": d.channel,
                    "source": d.source,
                    "meta": dumps(d.meta).decode(),
                }
                for d in docs
            ]
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), src)
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
