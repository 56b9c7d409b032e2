"""Megatron-LM indexed datasets (``.bin`` + ``.idx``, the MMapIndexedDataset layout), written and read with numpy.

Layout of the ``.idx`` file (little-endian), as in Megatron-LM ``megatron/core/datasets/indexed_dataset.py``
(``_IndexWriter`` / ``_IndexReader``; re-implemented here from the documented layout, no code copied):

====================  ==========================  ===================================================
bytes                 type                        meaning
====================  ==========================  ===================================================
9                     ``b"MMIDIDX\\x00\\x00"``      magic header
8                     uint64                      version, always 1
1                     uint8                       dtype code (1 uint8, 2 int8, 3 int16, 4 int32, 5 int64,
                                                  6 float64, 7 float32, 8 uint16)
8                     uint64                      S = number of sequences
8                     uint64                      D = number of document indices (documents + 1)
4·S                   int32[S]                    tokens per sequence
8·S                   int64[S]                    byte offset of each sequence in the ``.bin`` file
8·D                   int64[D]                    document boundaries as sequence indices, starting at 0
====================  ==========================  ===================================================

The ``.bin`` file is the token ids of all sequences back to back in the dtype. mixkit writes one sequence per
document (EOS included), so document i is sequence i and the document indices are 0, 1, ..., S.
"""

from __future__ import annotations

import contextlib
import os
import struct
from pathlib import Path

import numpy as np

from mixkit.errors import MixkitError
from mixkit.utils import atomic_path

HEADER = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES: dict[int, type[np.number]] = {
    1: np.uint8,
    2: np.int8,
    3: np.int16,
    4: np.int32,
    5: np.int64,
    6: np.float64,
    7: np.float32,
    8: np.uint16,
}
CODE_OF = {np.dtype(v): k for k, v in DTYPE_CODES.items()}
# Megatron picks uint16 below this vocabulary size and int32 otherwise (optimal_dtype); same rule here.
UINT16_VOCAB_LIMIT = 65500


def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest dtype Megatron uses for a vocabulary of ``vocab_size`` ids (uint16 below 65,500)."""
    return np.dtype(np.uint16 if vocab_size < UINT16_VOCAB_LIMIT else np.int32)


def bin_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(f"{prefix}.bin")


def idx_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(f"{prefix}.idx")


class IndexedWriter:
    """Append documents (1-D token arrays) to ``<prefix>.bin`` and write ``<prefix>.idx`` on ``close``.

    Both files appear atomically (written to temporaries, renamed on success), so a crash never leaves a
    half-written pair that a reader would accept. Bytes depend only on the documents written.
    """

    def __init__(self, prefix: str | os.PathLike[str], dtype: np.dtype | type[np.number]) -> None:
        self.prefix = Path(prefix)
        self.dtype = np.dtype(dtype)
        if self.dtype not in CODE_OF:
            raise MixkitError(
                f"dtype {self.dtype} has no Megatron code; use one of {sorted(map(str, CODE_OF))}"
            )
        self._bin_ctx = atomic_path(bin_path(self.prefix))
        self._bin_tmp = self._bin_ctx.__enter__()
        self._fh = open(self._bin_tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._lengths: list[np.ndarray] = []
        self.docs = 0
        self.tokens = 0

    def add(self, tokens: np.ndarray) -> None:
        """Append one document."""
        self.add_many(np.asarray(tokens), np.array([len(tokens)], dtype=np.int64))

    def add_many(self, flat: np.ndarray, lengths: np.ndarray) -> None:
        """Append several documents given as one flat token array and their lengths (vectorised path)."""
        flat = np.asarray(flat)
        if flat.size and (flat.min() < 0 or (self.dtype == np.uint16 and flat.max() > 65535)):
            raise MixkitError(f"token ids out of range for {self.dtype} in {self.prefix}")
        self._fh.write(flat.astype(self.dtype, copy=False).tobytes())
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.sum() != flat.size:
            raise ValueError("lengths do not add up to the number of tokens")
        if lengths.size and lengths.max() > np.iinfo(np.int32).max:
            raise MixkitError(
                "a document has more than 2^31 tokens; Megatron's index stores lengths as int32"
            )
        self._lengths.append(lengths)
        self.docs += int(lengths.size)
        self.tokens += int(flat.size)

    def close(self) -> None:
        """Finish both files (the ``.bin`` first, then the ``.idx`` that makes the pair readable)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._bin_ctx.__exit__(None, None, None)
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        write_index(self.prefix, self.dtype, lengths)

    def abort(self) -> None:
        """Drop the partial output (nothing is renamed into place)."""
        self._fh.close()
        with contextlib.suppress(RuntimeError):
            self._bin_ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> IndexedWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_index(prefix: str | os.PathLike[str], dtype: np.dtype, lengths: np.ndarray) -> None:
    """Write ``<prefix>.idx`` for documents of the given lengths (one sequence per document)."""
    dtype = np.dtype(dtype)
    lengths = np.asarray(lengths, dtype=np.int64)
    pointers = np.zeros(lengths.size, dtype=np.int64)
    if lengths.size:
        np.cumsum(lengths[:-1] * dtype.itemsize, out=pointers[1:])
    doc_idx = np.arange(lengths.size + 1, dtype=np.int64)
    with atomic_path(idx_path(prefix)) as tmp, open(tmp, "wb") as fh:
        fh.write(HEADER)
        fh.write(struct.pack("<Q", VERSION))
        fh.write(struct.pack("<B", CODE_OF[dtype]))
        fh.write(struct.pack("<Q", lengths.size))
        fh.write(struct.pack("<Q", doc_idx.size))
        fh.write(lengths.astype("<i4").tobytes())
        fh.write(pointers.astype("<i8").tobytes())
        fh.write(doc_idx.astype("<i8").tobytes())
        fh.flush()
        os.fsync(fh.fileno())


class IndexedDataset:
    """Read-only, memory-mapped view of a ``.bin``/``.idx`` pair (any Megatron-written file too).

    ``ds[i]`` is sequence i as a numpy array (a view into the mapped file); ``ds.lengths`` the tokens per
    sequence; ``ds.document_indices`` Megatron's document boundaries.
    """

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = Path(prefix)
        ipath, bpath = idx_path(prefix), bin_path(prefix)
        for p in (ipath, bpath):
            if not p.is_file():
                raise MixkitError(f"token shard {p} not found; run `mixkit pack RECIPE` first")
        raw = np.memmap(ipath, dtype=np.uint8, mode="r")
        if bytes(raw[:9]) != HEADER:
            raise MixkitError(f"{ipath} is not a Megatron indexed dataset (bad header {bytes(raw[:9])!r})")
        (version,) = struct.unpack("<Q", bytes(raw[9:17]))
        if version != VERSION:
            raise MixkitError(f"{ipath}: index version {version} is not supported (expected 1)")
        code = int(raw[17])
        if code not in DTYPE_CODES:
            raise MixkitError(f"{ipath}: unknown dtype code {code}")
        self.dtype = np.dtype(DTYPE_CODES[code])
        n_seq, n_doc = struct.unpack("<QQ", bytes(raw[18:34]))
        off = 34
        self.lengths = np.frombuffer(raw, dtype="<i4", count=n_seq, offset=off)
        off += 4 * n_seq
        self.pointers = np.frombuffer(raw, dtype="<i8", count=n_seq, offset=off)
        off += 8 * n_seq
        self.document_indices = np.frombuffer(raw, dtype="<i8", count=n_doc, offset=off)
        size = bpath.stat().st_size
        self._bin = np.memmap(bpath, dtype=self.dtype, mode="r") if size else np.zeros(0, dtype=self.dtype)
        expected = int(self.lengths.astype(np.int64).sum()) * self.dtype.itemsize
        if size != expected:
            raise MixkitError(
                f"{bpath} has {size} bytes but its index describes {expected}; rerun `mixkit pack`"
            )

    def __len__(self) -> int:
        return int(self.lengths.size)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.pointers[i]) // self.dtype.itemsize
        return self._bin[start : start + int(self.lengths[i])]

    @property
    def tokens(self) -> np.ndarray:
        """All tokens back to back (a memory-mapped array; sequence i starts at ``pointers[i] / itemsize``)."""
        return self._bin

    @property
    def offsets(self) -> np.ndarray:
        """Token offset of each sequence in ``tokens`` (int64)."""
        return self.pointers // self.dtype.itemsize
