"""Small shared helpers: byte sizes, atomic writes, stable JSON, hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "ki": 2**10,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mi": 2**20,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gi": 2**30,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "ti": 2**40,
    "tib": 2**40,
}


def parse_bytes(value: int | str) -> int:
    """Parse a byte size such as ``10MB``, ``64MiB`` or ``1_000_000`` (decimal units are powers of 10)."""
    if isinstance(value, int):
        return value
    m = _SIZE.match(str(value).replace("_", ""))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a byte size: {value!r} (use e.g. 10MB, 64MiB or a plain integer)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def dumps(obj: Any) -> bytes:
    """Deterministic JSON (sorted keys) as bytes; the one serialisation used for meta, stats and plans."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path`` (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file for writing that replaces ``path`` atomically when the block succeeds."""
    with atomic_path(path) as tmp, open(tmp, mode) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: str | os.PathLike[str], obj: Any, indent: bool = True) -> None:
    """Write ``obj`` as deterministic JSON, atomically."""
    opt = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    with atomic_open(path) as fh:
        fh.write(orjson.dumps(obj, option=opt))
        fh.write(b"\n")


def fingerprint(obj: Any) -> str:
    """A short stable hash of any JSON-serialisable object (used for stage and shard fingerprints)."""
    return hashlib.sha256(dumps(obj)).hexdigest()[:16]


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_signatures(patterns: list[str]) -> list[list[Any]]:
    """``[path, size, mtime_ns]`` of every file matched by absolute paths or globs (folders are walked), sorted;
    a pattern matching nothing gives ``[pattern, None, None]``. Cheap change detection for fingerprints."""
    import glob

    sigs: list[list[Any]] = []
    for pattern in patterns:
        hits = sorted(glob.glob(pattern, recursive=True))
        if not hits:
            sigs.append([pattern, None, None])
        for hit in hits:
            files = (
                [hit]
                if os.path.isfile(hit)
                else sorted(os.path.join(d, f) for d, _, fs in os.walk(hit) for f in fs)
            )
            for f in files:
                st = os.stat(f)
                sigs.append([f, st.st_size, st.st_mtime_ns])
    return sigs
