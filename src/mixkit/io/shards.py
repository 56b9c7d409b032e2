"""Split sources into shards: byte ranges aligned to line starts inside JSONL files, row groups of Parquet files,
whole files otherwise. Shards are the unit of parallel work and of resume, so one large file uses every worker.
"""

from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from mixkit.errors import MixkitError

_JSONL = (".jsonl", ".ndjson", ".json")
_JSONL_COMPRESSED = (".jsonl.gz", ".jsonl.zst", ".ndjson.gz", ".ndjson.zst", ".json.gz", ".json.zst")
_TEXT = (".txt", ".md", ".rst")
_HTML = (".html", ".htm")


@dataclass(frozen=True, slots=True)
class Shard:
    """One unit of work: a slice of one input file.

    ``kind`` is jsonl | parquet | text | html | hf. For jsonl, [start, end) is a byte range whose start is a line
    start and ``first_line`` the 1-based line number at ``start``; for parquet, [start, end) are row-group indices
    and ``first_line`` the 0-based row at the first group; compressed files are one shard (start=0, end=-1).
    """

    source: str
    index: int
    kind: str
    path: str
    start: int = 0
    end: int = -1
    first_line: int = 1
    files: tuple[str, ...] = ()  # text/html: the files grouped into this shard (path is the first)

    @property
    def id(self) -> str:
        return f"{self.source}-{self.index:05d}"

    def to_dict(self) -> dict:
        return asdict(self)


def detect_format(path: str) -> str:
    """The reader kind for a file name: jsonl, parquet, text, html (compressed JSONL counts as jsonl)."""
    name = path.lower()
    if name.endswith(_JSONL_COMPRESSED) or name.endswith(_JSONL):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(_TEXT):
        return "text"
    if name.endswith(_HTML):
        return "html"
    raise MixkitError(
        f"cannot tell the format of {path}: known endings are .jsonl[.gz|.zst], .parquet, .txt/.md/.rst, "
        ".html/.htm; set `format:` on the source to choose one"
    )


def expand_paths(patterns: list[str], base: Path) -> list[str]:
    """Expand globs relative to ``base`` into a sorted, de-duplicated list of files (folders are walked)."""
    files: set[str] = set()
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        for hit in glob.glob(full, recursive=True):
            if os.path.isdir(hit):
                for root, _dirs, names in os.walk(hit):
                    files.update(os.path.join(root, n) for n in names if not n.startswith("."))
            else:
                files.add(hit)
    return sorted(files)


def _is_compressed(path: str) -> bool:
    return path.lower().endswith((".gz", ".zst"))


def _jsonl_ranges(path: str, shard_size: int) -> list[tuple[int, int, int]]:
    """Byte ranges [start, end) of about ``shard_size`` bytes, each starting at a line start, with the 1-based
    line number of each start. Reads the file once (newline counting runs at memory speed)."""
    size = os.path.getsize(path)
    if size == 0:
        return []
    ranges: list[tuple[int, int, int]] = []
    start, line = 0, 1
    with open(path, "rb") as fh:
        while start < size:
            target = start + shard_size
            if target >= size:
                ranges.append((start, size, line))
                break
            fh.seek(target)
            fh.readline()  # move to the next line start
            end = fh.tell()
            # count lines in [start, end) to know the line number of the next shard
            fh.seek(start)
            remaining, newlines = end - start, 0
            while remaining:
                block = fh.read(min(remaining, 1 << 24))
                newlines += block.count(b"\n")
                remaining -= len(block)
            ranges.append((start, end, line))
            start, line = end, line + newlines
    return ranges


def plan_shards(source, base: Path, shard_size: int) -> list[Shard]:
    """All shards of one source, in a deterministic order (sorted files, then position in file)."""
    if source.format == "hf":
        return _hf_shards(source, base)
    files = expand_paths(source.paths, base)
    shards: list[Shard] = []
    pending: dict[str, list[str]] = {}
    for path in files:
        kind = source.format if source.format != "auto" else detect_format(path)
        if kind == "jsonl" and not _is_compressed(path):
            for start, end, line in _jsonl_ranges(path, shard_size):
                shards.append(Shard(source.name, len(shards), kind, path, start, end, line))
            if os.path.getsize(path) == 0:
                shards.append(Shard(source.name, len(shards), kind, path, 0, 0, 1))
        elif kind == "parquet":
            shards.extend(_parquet_shards(source.name, path, shard_size, len(shards)))
        elif kind in ("text", "html"):
            pending.setdefault(kind, []).append(path)
        else:
            shards.append(Shard(source.name, len(shards), kind, path))
    # Folders of small text/HTML files: group consecutive files up to shard_size bytes per shard, so a folder
    # of 100k pages makes a few dozen outputs, not 100k.
    for kind, paths in pending.items():
        group: list[str] = []
        acc = 0
        for path in paths:
            group.append(path)
            acc += os.path.getsize(path)
            if acc >= shard_size:
                shards.append(Shard(source.name, len(shards), kind, group[0], files=tuple(group)))
                group, acc = [], 0
        if group:
            shards.append(Shard(source.name, len(shards), kind, group[0], files=tuple(group)))
    return shards


def _parquet_shards(source: str, path: str, shard_size: int, first_index: int) -> list[Shard]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # unreadable file: one shard whose reader quarantines the whole file with the reason
        return [Shard(source, first_index, "parquet", path, 0, -1, 0)]
    shards: list[Shard] = []
    group_start, row, acc = 0, 0, 0
    rows_at_start = 0
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        acc += rg.total_byte_size
        row += rg.num_rows
        if acc >= shard_size or g == meta.num_row_groups - 1:
            shards.append(
                Shard(source, first_index + len(shards), "parquet", path, group_start, g + 1, rows_at_start)
            )
            group_start, acc, rows_at_start = g + 1, 0, row
    if not shards:
        shards.append(Shard(source, first_index, "parquet", path, 0, 0, 0))
    return shards


def _hf_shards(source, base: Path) -> list[Shard]:
    """A local ``datasets`` folder (``save_to_disk``): one shard per Arrow file of the chosen split(s)."""
    root = Path(source.paths[0])
    root = root if root.is_absolute() else base / root
    arrow_files = sorted(str(p) for p in root.rglob("*.arrow"))
    if source.split:
        arrow_files = [
            p
            for p in arrow_files
            if f"{os.sep}{source.split}{os.sep}" in p or source.split == Path(p).parent.name
        ]
    if not arrow_files:
        raise MixkitError(
            f"source '{source.name}': {root} holds no .arrow files; point `path` at a folder written by "
            "datasets' save_to_disk (or set format: parquet/jsonl for other files)"
        )
    return [Shard(source.name, i, "hf", p, 0, -1, 0) for i, p in enumerate(arrow_files)]
