"""Writers for document shards: Parquet (zstd) by default, JSONL optionally. Output bytes depend only on the
documents written (fixed row-group size, sorted-key JSON meta), so reruns and worker counts give identical files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mixkit.records import Document
from mixkit.utils import atomic_path, dumps

DOC_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.large_string()),
        ("channel", pa.string()),
        ("source", pa.string()),
        ("meta", pa.string()),  # a JSON object with sorted keys
    ]
)
DROPPED_SCHEMA = DOC_SCHEMA.append(pa.field("step", pa.string())).append(pa.field("reason", pa.string()))

ROW_GROUP_ROWS = 4096  # rows per Parquet row group: small enough for bounded memory, large for compression


def meta_json(meta: dict[str, Any]) -> str:
    """Serialise meta for storage; keys starting with '_' are transient (per-step caches) and not written."""
    return dumps({k: v for k, v in meta.items() if not k.startswith("_")}).decode("utf-8")


class ParquetDocWriter:
    """Streams documents into one Parquet file, written to a temporary path and renamed on ``close``."""

    def __init__(
        self, path: str | Path, schema: pa.Schema = DOC_SCHEMA, rows_per_group: int = ROW_GROUP_ROWS
    ):
        self.path = Path(path)
        self.schema = schema
        self.rows_per_group = rows_per_group
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._writer = pq.ParquetWriter(
            self._tmp, schema, compression="zstd", use_dictionary=["channel", "source"]
        )
        self._buffer: dict[str, list[Any]] = {name: [] for name in schema.names}
        self.rows = 0

    def write(self, doc: Document, **extra: str) -> None:
        buf = self._buffer
        buf["id"].append(doc.id)
        buf["text"].append(doc.text)
        buf["channel"].append(doc.channel)
        buf["source"].append(doc.source)
        buf["meta"].append(meta_json(doc.meta))
        for key, value in extra.items():
            buf[key].append(value)
        self.rows += 1
        if len(buf["id"]) >= self.rows_per_group:
            self._flush()

    def write_all(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self.write(doc)

    def _flush(self) -> None:
        if self._buffer["id"]:
            self._writer.write_table(
                pa.table(self._buffer, schema=self.schema), row_group_size=self.rows_per_group
            )
            self._buffer = {name: [] for name in self.schema.names}

    def close(self) -> None:
        """Finish the file and move it into place atomically."""
        self._flush()
        self._writer.close()
        self._atomic.__exit__(None, None, None)

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._writer.close()
        finally:
            self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)


class JsonlDocWriter:
    """Streams documents as JSONL (id, text, channel, source, meta), renamed into place atomically on ``close``."""

    def __init__(self, path: str | Path) -> None:
        self._atomic = atomic_path(path)
        self._fh = open(self._atomic.__enter__(), "wb")  # noqa: SIM115 - closed in close()/abort()
        self.rows = 0

    def write(self, doc: Document) -> None:
        meta = {k: v for k, v in doc.meta.items() if not k.startswith("_")}
        self._fh.write(
            dumps(
                {"id": doc.id, "text": doc.text, "channel": doc.channel, "source": doc.source, "meta": meta}
            )
        )
        self._fh.write(b"\n")
        self.rows += 1

    def close(self) -> None:
        self._fh.close()
        self._atomic.__exit__(None, None, None)

    def abort(self) -> None:
        self._fh.close()
        self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)
