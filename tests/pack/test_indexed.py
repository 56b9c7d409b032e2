"""The .bin/.idx writer and reader against Megatron-LM's documented layout and megatron-core's own reader."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from mixkit.errors import MixkitError
from mixkit.pack.indexed import IndexedDataset, IndexedWriter, token_dtype


def _docs(seed: int = 0, n: int = 50, vocab: int = 3000) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, vocab, size=int(rng.integers(1, 200))) for _ in range(n)]


def _write(prefix, docs, dtype=np.uint16) -> None:
    with IndexedWriter(prefix, dtype) as w:
        for d in docs[:10]:
            w.add(d)
        rest = docs[10:]
        if rest:
            w.add_many(np.concatenate(rest), np.array([len(d) for d in rest]))


def test_roundtrip_and_layout(tmp_path):
    docs = _docs()
    _write(tmp_path / "x", docs)
    ds = IndexedDataset(tmp_path / "x")
    assert len(ds) == len(docs)
    for a, b in zip(docs, (ds[i] for i in range(len(ds))), strict=True):
        np.testing.assert_array_equal(a, b)
    # parse the index by hand, byte by byte, as the format documents it
    raw = (tmp_path / "x.idx").read_bytes()
    assert raw[:9] == b"MMIDIDX\x00\x00"
    assert struct.unpack("<Q", raw[9:17]) == (1,)
    assert raw[17] == 8  # uint16
    n_seq, n_doc = struct.unpack("<QQ", raw[18:34])
    assert (n_seq, n_doc) == (len(docs), len(docs) + 1)
    lengths = np.frombuffer(raw, "<i4", n_seq, 34)
    pointers = np.frombuffer(raw, "<i8", n_seq, 34 + 4 * n_seq)
    doc_idx = np.frombuffer(raw, "<i8", n_doc, 34 + 12 * n_seq)
    assert len(raw) == 34 + 12 * n_seq + 8 * n_doc
    np.testing.assert_array_equal(lengths, [len(d) for d in docs])
    np.testing.assert_array_equal(pointers, np.concatenate([[0], np.cumsum(lengths[:-1]) * 2]))
    np.testing.assert_array_equal(doc_idx, np.arange(len(docs) + 1))
    assert (tmp_path / "x.bin").stat().st_size == 2 * sum(len(d) for d in docs)


def test_bytes_are_deterministic(tmp_path):
    docs = _docs(1)
    _write(tmp_path / "a", docs)
    _write(tmp_path / "b", docs)
    for ext in ("bin", "idx"):
        a = hashlib.sha256((tmp_path / f"a.{ext}").read_bytes()).hexdigest()
        assert a == hashlib.sha256((tmp_path / f"b.{ext}").read_bytes()).hexdigest()


def test_dtype_rule_and_range_check(tmp_path):
    assert token_dtype(50_000) == np.uint16
    assert token_dtype(65_500) == np.int32
    assert token_dtype(151_936) == np.int32
    with IndexedWriter(tmp_path / "big", np.int32) as w:
        w.add(np.array([0, 151_000, 7]))
    assert IndexedDataset(tmp_path / "big")[0].tolist() == [0, 151_000, 7]
    w = IndexedWriter(tmp_path / "bad", np.uint16)
    with pytest.raises(MixkitError, match="out of range"):
        w.add(np.array([70_000]))
    w.abort()
    assert not (tmp_path / "bad.bin").exists() and not (tmp_path / "bad.idx").exists()


def test_crash_leaves_no_pair(tmp_path):
    with pytest.raises(RuntimeError), IndexedWriter(tmp_path / "c", np.uint16) as w:
        w.add(np.array([1, 2, 3]))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_reader_rejects_truncated_bin(tmp_path):
    _write(tmp_path / "t", _docs(2))
    data = (tmp_path / "t.bin").read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-2])
    with pytest.raises(MixkitError, match="rerun `mixkit pack`"):
        IndexedDataset(tmp_path / "t")
    with pytest.raises(MixkitError, match="run `mixkit pack"):
        IndexedDataset(tmp_path / "missing")


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_megatron_core_reads_our_shards(tmp_path, dtype):
    """megatron-core's own IndexedDataset opens the files and returns the same token arrays."""
    pytest.importorskip("torch")
    megatron = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    docs = _docs(3, vocab=60_000)
    _write(tmp_path / "m", docs, dtype)
    ds = megatron.IndexedDataset(str(tmp_path / "m"), mmap=True)
    assert len(ds) == len(docs)
    assert ds.document_indices.tolist() == list(range(len(docs) + 1))
    for i, d in enumerate(docs):
        got = ds.get(i)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, d)
    # and a Megatron-written file reads back in mixkit
    builder = megatron.IndexedDatasetBuilder(str(tmp_path / "w.bin"), dtype=dtype)
    import torch

    for d in docs:
        builder.add_document(torch.from_numpy(d.astype(np.int64)), [len(d)])
    builder.finalize(str(tmp_path / "w.idx"))
    ours = IndexedDataset(tmp_path / "w")
    for i, d in enumerate(docs):
        np.testing.assert_array_equal(ours[i], d)
    assert (tmp_path / "w.idx").read_bytes() == (tmp_path / "m.idx").read_bytes()
    assert (tmp_path / "w.bin").read_bytes() == (tmp_path / "m.bin").read_bytes()
