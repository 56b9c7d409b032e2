"""Readers: turn one shard into Documents, and every record that cannot become one into a Quarantined entry.

Nothing is lost: each physical record ends as exactly one Document or one Quarantined, and a bad record never
stops the shard (blank lines of a JSONL file are not records: they are skipped). A broken compressed stream yields the records before the break, then one Quarantined for the
break itself.
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from mixkit.io.shards import Shard
from mixkit.records import Document

log = logging.getLogger("mixkit.io")

# The quarantine reasons (stable names: they are keys of the ledger).
MALFORMED_JSON = "malformed_json"
INVALID_UTF8 = "invalid_utf8"
MISSING_FIELD = "missing_field"
NON_STRING_FIELD = "non_string_field"
EMPTY_TEXT = "empty_text"
TOO_LARGE = "record_too_large"
BROKEN_COMPRESSED = "truncated_or_corrupt_compressed_file"
UNREADABLE_FILE = "unreadable_file"


@dataclass(slots=True)
class Quarantined:
    """A record that could not be read, with where it was and why. ``raw`` is text, or base64 when the bytes
    are not UTF-8 (``raw_encoding`` says which); at most ``ReadOptions.quarantine_raw_bytes`` of it is kept."""

    reason: str
    file: str
    line: int
    raw: str = ""
    raw_encoding: str = "utf-8"
    raw_bytes: int = 0
    raw_truncated: bool = False
    detail: str = ""
    source: str = ""
    records: int = 1  # input records this entry stands for (the unread rest of a Parquet file that breaks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "reason": self.reason,
            "detail": self.detail,
            "source": self.source,
            "file": self.file,
            "line": self.line,
            "raw": self.raw,
            "raw_encoding": self.raw_encoding,
            "raw_bytes": self.raw_bytes,
            "raw_truncated": self.raw_truncated,
        }


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How a source's records become Documents (from the recipe's source and curate sections)."""

    source: str
    channel: str
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = None
    meta_fields: tuple[str, ...] = ()
    max_record_bytes: int = 10_000_000
    quarantine_raw_bytes: int = 1_000_000
    base: str = field(default=".")  # paths in ids and quarantine entries are shown relative to this folder
    roots: tuple[
        str, ...
    ] = ()  # ... or, for files outside it, relative to the glob root they were found under


def display_path(path: str, opts: ReadOptions) -> str:
    """The path shown in ids and quarantine entries: relative to the recipe folder, or for a file outside it
    relative to the fixed prefix of the glob that found it, so ids do not depend on where the data lives."""
    for root in (opts.base, *opts.roots):
        try:
            rel = os.path.relpath(path, root)
        except ValueError:
            continue
        if not rel.startswith(".."):
            return rel
    return path


def glob_root(pattern: str) -> str:
    """The fixed leading folder of a glob (``/data/web/*/x.jsonl`` -> ``/data/web``); for a plain path, its
    parent folder."""
    import glob

    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if glob.has_magic(part):
            return str(Path(*fixed)) if fixed else "."
        fixed.append(part)
    return str(Path(pattern).parent)


def _raw(data: bytes, opts: ReadOptions) -> tuple[str, str, bool]:
    cut = data[: opts.quarantine_raw_bytes]
    truncated = len(cut) < len(data)
    try:
        return cut.decode("utf-8"), "utf-8", truncated
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(cut) - 4:  # the cut split a multi-byte character
            try:
                return cut[: exc.start].decode("utf-8"), "utf-8", truncated
            except UnicodeDecodeError:
                pass
        return base64.b64encode(cut).decode("ascii"), "base64", truncated


def _quarantine(
    reason: str,
    data: bytes,
    file: str,
    line: int,
    opts: ReadOptions,
    detail: str = "",
    size: int | None = None,
    records: int = 1,
) -> Quarantined:
    raw, enc, truncated = _raw(data, opts)
    size = len(data) if size is None else size
    return Quarantined(
        reason, file, line, raw, enc, size, truncated or size > len(data), detail, opts.source, records
    )


def read_shard(shard: Shard, opts: ReadOptions) -> Iterator[Document | Quarantined]:
    """Yield every record of ``shard`` as a Document or a Quarantined entry, in file order."""
    kind = shard.kind
    if kind == "jsonl":
        yield from _read_jsonl(shard, opts)
    elif kind == "parquet":
        yield from _read_parquet(shard, opts)
    elif kind == "hf":
        yield from _read_hf(shard, opts)
    elif kind in ("text", "html"):
        for path in shard.files or (shard.path,):
            yield from _read_whole_file(path, kind, opts)
    else:  # pragma: no cover - the recipe schema restricts kinds
        raise ValueError(f"unknown shard kind {kind!r}")


# --------------------------------------------------------------------------------------------------- JSONL


def _open_stream(path: str) -> IO[bytes]:
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".zst"):
        return io.BufferedReader(_ZstdRaw(path), 1 << 20)
    return open(path, "rb")


class _ZstdRaw(io.RawIOBase):
    """Streaming zstd decompression that raises EOFError when the file ends inside a frame (zstandard's own
    stream reader ends quietly on truncated input, which would lose the break from the ledger)."""

    def __init__(self, path: str) -> None:
        import zstandard

        self._zstd = zstandard
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._dobj = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._pending and not self._done:
            if self._dobj.eof and self._dobj.unused_data:
                # a frame ended inside the last chunk: the next frame(s) are already in hand
                chunk = self._dobj.unused_data
                self._dobj = self._zstd.ZstdDecompressor().decompressobj()
                self._pending = self._dobj.decompress(chunk)
                continue
            chunk = self._fh.read(1 << 20)
            if not chunk:
                if not self._dobj.eof:
                    raise EOFError("zstd stream ends inside a frame (truncated file)")
                self._done = True
                break
            if self._dobj.eof:  # the next frame starts with this chunk
                self._dobj = self._zstd.ZstdDecompressor().decompressobj()
            self._pending = self._dobj.decompress(chunk)
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _bounded_lines(fh: IO[bytes], limit: int, keep: int, budget: int | None) -> Iterator[tuple[bytes, int]]:
    """Yield (line, size) with the newline stripped. A line longer than ``limit`` is yielded as its first
    ``keep`` bytes with its full size, without ever holding more than ``limit`` bytes of it in memory.
    ``budget`` stops after that many bytes (byte-range shards)."""
    consumed = 0
    while budget is None or consumed < budget:
        line = fh.readline(limit + 1)
        if not line:
            return
        consumed += len(line)
        if len(line) > limit and not line.endswith(b"\n"):
            head, size = line[:keep], len(line)
            while True:  # skip the rest of the oversized line
                more = fh.readline(1 << 20)
                consumed += len(more)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield head, size - (1 if more.endswith(b"\n") else 0)
            continue
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line, len(line)


def _compressed_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [EOFError, OSError, zlib.error, gzip.BadGzipFile]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _read_jsonl(shard: Shard, opts: ReadOptions) -> Iterator[Document | Quarantined]:
    shown = display_path(shard.path, opts)
    compressed = shard.path.lower().endswith((".gz", ".zst"))
    line_no = shard.first_line
    try:
        fh = _open_stream(shard.path)
    except OSError as exc:
        yield _quarantine(UNREADABLE_FILE, b"", shown, 0, opts, f"cannot open: {exc}")
        return
    with fh:
        if not compressed:
            fh.seek(shard.start)
        budget = None if compressed else shard.end - shard.start
        lines = _bounded_lines(fh, opts.max_record_bytes, opts.quarantine_raw_bytes, budget)
        while True:
            try:
                data, size = next(lines)
            except StopIteration:
                break
            except _compressed_errors() as exc:
                yield _quarantine(
                    BROKEN_COMPRESSED,
                    b"",
                    shown,
                    line_no,
                    opts,
                    f"the compressed stream breaks at line {line_no} ({type(exc).__name__}: {exc}); the records "
                    "before it were read. Re-download or re-compress the file",
                )
                break
            if data.strip() or size > len(data):
                yield _parse_json_record(data, size, shown, line_no, opts)
            line_no += 1


def _parse_json_record(
    data: bytes, size: int, shown: str, line: int, opts: ReadOptions
) -> Document | Quarantined:
    if size > opts.max_record_bytes:
        return _quarantine(
            TOO_LARGE,
            data,
            shown,
            line,
            opts,
            f"{size} bytes > max_record_bytes={opts.max_record_bytes}; raise curate.max_record_bytes "
            "to accept it",
            size=size,
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _quarantine(
            INVALID_UTF8,
            data,
            shown,
            line,
            opts,
            f"invalid UTF-8 at byte {exc.start}: {exc.reason}; re-encode the file as UTF-8",
        )
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return _quarantine(MALFORMED_JSON, data, shown, line, opts, f"not valid JSON: {exc}")
    if not isinstance(record, dict):
        return _quarantine(
            MALFORMED_JSON,
            data,
            shown,
            line,
            opts,
            f"a JSONL record must be an object, got {type(record).__name__}",
        )
    return _record_to_doc(record, data, shown, line, opts)


def _record_to_doc(
    record: dict[str, Any], data: bytes | None, shown: str, line: int, opts: ReadOptions
) -> Document | Quarantined:
    """Validate the text field of a parsed record and build the Document (shared by JSONL, Parquet, HF)."""
    text = record.get(opts.text_field)

    def raw() -> bytes:
        return data if data is not None else orjson.dumps(record, default=str)

    if text is None:
        have = ", ".join(list(record)[:12])
        what = "is null" if opts.text_field in record else "is missing"
        return _quarantine(
            MISSING_FIELD,
            raw(),
            shown,
            line,
            opts,
            f"field '{opts.text_field}' {what} (fields: {have}); set text_field on the source",
        )
    if not isinstance(text, str):
        return _quarantine(
            NON_STRING_FIELD,
            raw(),
            shown,
            line,
            opts,
            f"field '{opts.text_field}' is {type(text).__name__}, not a string",
        )
    if not text.strip():
        return _quarantine(EMPTY_TEXT, raw(), shown, line, opts, f"field '{opts.text_field}' is empty")
    doc_id = record.get(opts.id_field) if opts.id_field else None
    meta: dict[str, Any] = {}
    if opts.url_field and record.get(opts.url_field) is not None:
        meta["url"] = record[opts.url_field]
    for key in opts.meta_fields:
        if key in record:
            meta[key] = record[key]
    return Document(
        id=str(doc_id) if doc_id is not None else f"{opts.source}/{shown}:{line}",
        text=text,
        channel=opts.channel,
        source=opts.source,
        meta=meta,
    )


# ------------------------------------------------------------------------------------------ Parquet / Arrow


def _read_parquet(shard: Shard, opts: ReadOptions) -> Iterator[Document | Quarantined]:
    import pyarrow.parquet as pq

    shown = display_path(shard.path, opts)
    try:
        pf = pq.ParquetFile(shard.path)
        groups = list(range(shard.start, shard.end if shard.end >= 0 else pf.metadata.num_row_groups))
        batches = pf.iter_batches(batch_size=1024, row_groups=groups) if groups else iter(())
        expected = sum(pf.metadata.row_group(g).num_rows for g in groups)
    except Exception as exc:
        yield _quarantine(UNREADABLE_FILE, b"", shown, 0, opts, f"cannot read Parquet: {exc}")
        return
    yield from _read_batches(batches, shard.first_line, shown, opts, expected)


def _read_hf(shard: Shard, opts: ReadOptions) -> Iterator[Document | Quarantined]:
    import pyarrow as pa

    shown = display_path(shard.path, opts)
    try:
        source = pa.memory_map(shard.path)
        try:
            reader = pa.ipc.open_stream(source)
        except pa.ArrowInvalid:
            reader = pa.ipc.open_file(source)
            batches: Any = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            batches = iter(reader)
    except Exception as exc:
        yield _quarantine(UNREADABLE_FILE, b"", shown, 0, opts, f"cannot read Arrow file: {exc}")
        return
    yield from _read_batches(batches, 0, shown, opts)


def _read_batches(
    batches: Iterator[Any], first_row: int, shown: str, opts: ReadOptions, expected: int | None = None
) -> Iterator[Document | Quarantined]:
    """Rows of Arrow batches as Documents. If reading breaks, one entry stands for every row not read (the
    Parquet metadata says how many the shard holds), so the ledger still counts each input record."""
    row = first_row
    try:
        for batch in batches:
            for record in batch.to_pylist():
                yield _record_to_doc(record, None, shown, row, opts)
                row += 1
    except Exception as exc:
        yield _quarantine(
            UNREADABLE_FILE,
            b"",
            shown,
            row,
            opts,
            f"reading stopped at row {row}: {type(exc).__name__}: {exc}; the rows from here on were not read",
            records=max(1, expected - (row - first_row)) if expected is not None else 1,
        )


# -------------------------------------------------------------------------------------------- text / HTML


def _read_whole_file(path: str, kind: str, opts: ReadOptions) -> Iterator[Document | Quarantined]:
    shown = display_path(path, opts)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            data = fh.read(opts.max_record_bytes + 1)
    except OSError as exc:
        yield _quarantine(UNREADABLE_FILE, b"", shown, 0, opts, f"cannot read: {exc}")
        return
    if size > opts.max_record_bytes:
        yield _quarantine(
            TOO_LARGE,
            data,
            shown,
            1,
            opts,
            f"{size} bytes > max_record_bytes={opts.max_record_bytes}",
            size=size,
        )
        return
    meta: dict[str, Any] = {}
    if kind == "html":
        from mixkit.io.html import extract_html

        text, meta = extract_html(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _quarantine(
                INVALID_UTF8,
                data,
                shown,
                1,
                opts,
                f"invalid UTF-8 at byte {exc.start}; re-encode the file as UTF-8",
            )
            return
        if text.startswith("\ufeff"):
            text = text[1:]
    if not text.strip():
        yield _quarantine(
            EMPTY_TEXT,
            data,
            shown,
            1,
            opts,
            "no main text found in the HTML" if kind == "html" else "the file is empty",
        )
        return
    yield Document(
        id=f"{opts.source}/{shown}", text=text, channel=opts.channel, source=opts.source, meta=meta
    )


def options_for(source, curate, base: Path) -> ReadOptions:
    """Build the reader options of one recipe source."""
    return ReadOptions(
        source=source.name,
        channel=source.channel,
        text_field=source.text_field,
        id_field=source.id_field,
        url_field=source.url_field,
        meta_fields=tuple(source.meta_fields),
        max_record_bytes=curate.max_record_bytes,
        quarantine_raw_bytes=curate.quarantine_raw_bytes,
        base=str(base),
        roots=tuple(glob_root(p if os.path.isabs(p) else str(base / p)) for p in source.paths),
    )
