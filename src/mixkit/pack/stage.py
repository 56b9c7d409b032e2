"""``mixkit pack``: tokenize the final documents of every channel into Megatron token shards.

For each channel (in recipe order) the documents are read in file order (``Workdir.channel_files``), a held-out
validation set is taken out (``pack.val_docs``: the documents with the smallest seeded xxh64 of their id, so the
choice does not depend on file order or worker count), and the rest are tokenized with ``encode_batch`` on the
tokenizer's thread pool, EOS appended, and appended to ``tokens/<channel>.bin/.idx``. Side outputs:
``tokens/<channel>.docmeta.npy`` (int32 [docs, 2]: channel id, source id per document), ``tokens/index.json``
and ``tokens/stats.json``. A channel is skipped when its marker's fingerprint (inputs, tokenizer, settings)
matches, so a rerun after a crash redoes only unfinished channels.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from mixkit.errors import MixkitError
from mixkit.pack.config import PackConfig
from mixkit.pack.indexed import IndexedWriter, token_dtype
from mixkit.pipeline.layout import Workdir
from mixkit.utils import fingerprint, loads, sha256_file, write_json

log = logging.getLogger("mixkit.pack")

PACK_VERSION = 1
IN_FLIGHT = 2  # batches encoding concurrently


def pack_config(recipe: Any) -> PackConfig:
    return recipe.pack if recipe.pack is not None else PackConfig()


def set_threads(workers: int) -> None:
    """Size the ``tokenizers`` thread pool (Rayon reads RAYON_NUM_THREADS once, at its first parallel call)."""
    os.environ.setdefault("RAYON_NUM_THREADS", str(workers))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def _input_fingerprint(files: list[Path]) -> list[Any]:
    return [[p.name, p.stat().st_size, sha256_file(p)] for p in files]


def _val_selection(files: list[Path], n_val: int | float, seed: int) -> np.ndarray:
    """Row numbers (in channel order, sorted) of the held-out documents of one channel: the ``n_val`` documents
    with the smallest xxh64("<seed>:<id>"). Memory: 8 bytes per document (the hashes), ids are streamed."""
    import pyarrow.parquet as pq
    import xxhash

    if not n_val:
        return np.zeros(0, dtype=np.int64)
    parts = []
    for p in files:
        for rb in pq.ParquetFile(p).iter_batches(batch_size=65536, columns=["id"]):
            ids = rb.column(0).to_pylist()
            parts.append(
                np.fromiter(
                    (xxhash.xxh64_intdigest(f"{seed}:{i}".encode()) for i in ids),
                    dtype=np.uint64,
                    count=len(ids),
                )
            )
    h = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    total = h.size
    k = round(n_val * total) if isinstance(n_val, float) else int(n_val)
    k = min(k, max(total - 1, 0))  # always keep at least one training document
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.lexsort((np.arange(total), h))[:k])


def encode_docs(tok: Any, texts: list[str], eos_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Tokenize ``texts`` with one ``encode_batch`` call; returns (flat ids with EOS after each doc, lengths)."""
    encs = tok.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    ids = [e.ids for e in encs]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
    if eos_id is not None:
        flat = np.insert(flat, np.cumsum(lengths), eos_id)
        lengths = lengths + 1
    return flat, lengths


def _batches(files: list[Path], batch_docs: int):
    import pyarrow.parquet as pq

    row = 0
    for p in files:
        pf = pq.ParquetFile(p)
        for rb in pf.iter_batches(batch_size=batch_docs, columns=["id", "text", "source"]):
            ids = rb.column(0).to_pylist()
            yield row, ids, rb.column(1).to_pylist(), rb.column(2).to_pylist()
            row += len(ids)


def pack_channel(
    recipe: Any,
    tok: Any,
    channel: str,
    channel_id: int,
    source_ids: dict[str, int],
    files: list[Path],
    out: Path,
) -> dict[str, Any]:
    """Tokenize one channel's documents into ``out/<channel>`` (train) and ``out/val/<channel>`` (held out).

    Returns the channel's stats: per source docs, tokens and chars, for train and val.
    """
    cfg = pack_config(recipe)
    dtype = token_dtype(tok.vocab_size)
    eos = tok.eos_id if cfg.append_eos else None
    val_rows = _val_selection(files, cfg.val_docs, recipe.seed)
    stats: dict[str, dict[str, dict[str, int]]] = {"train": {}, "val": {}}
    meta_parts: list[np.ndarray] = []
    writers = {
        "train": IndexedWriter(out / channel, dtype),
        "val": IndexedWriter(out / "val" / channel, dtype),
    }
    # Up to IN_FLIGHT batches are encoded at once (tokenizers releases the GIL), so the thread pool never idles
    # at the tail of a batch and Parquet reading and writing overlap with encoding; results are written in order.
    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT)
    try:
        pending: collections.deque = collections.deque()
        for row, ids, texts, sources in _batches(files, cfg.batch_docs):
            is_val = np.isin(np.arange(row, row + len(ids)), val_rows) if val_rows.size else None
            pending.append((pool.submit(encode_docs, tok, texts, eos), ids, texts, sources, is_val))
            if len(pending) > IN_FLIGHT:
                _write_batch(pending.popleft(), writers, stats, source_ids, channel_id, meta_parts)
        while pending:
            _write_batch(pending.popleft(), writers, stats, source_ids, channel_id, meta_parts)
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    finally:
        pool.shutdown(wait=True)
    meta = np.concatenate(meta_parts) if meta_parts else np.zeros((0, 2), dtype=np.int32)
    from mixkit.utils import atomic_path

    with atomic_path(out / f"{channel}.docmeta.npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, meta.astype(np.int32))
    return stats


def _write_batch(pending, writers, stats, source_ids, channel_id, meta_parts) -> None:
    fut, ids, texts, sources, is_val = pending
    flat, lengths = fut.result()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for split, mask in (("train", None if is_val is None else ~is_val), ("val", is_val)):
        if split == "val" and mask is None:
            continue
        if mask is None:
            sel = np.arange(len(ids))
            part, plen = flat, lengths
        else:
            sel = np.flatnonzero(mask)
            if sel.size == 0:
                continue
            starts, ends = offsets[sel], offsets[sel + 1]
            part = np.concatenate([flat[s:e] for s, e in zip(starts, ends, strict=True)])
            plen = lengths[sel]
        writers[split].add_many(part, plen)
        for j, length in zip(sel.tolist(), plen.tolist(), strict=True):
            src = sources[j]
            if src not in source_ids:
                raise MixkitError(
                    f"document {ids[j]!r} names source {src!r}, which the recipe does not declare"
                )
            s = stats[split].setdefault(src, {"docs": 0, "tokens": 0, "chars": 0})
            s["docs"] += 1
            s["tokens"] += length
            s["chars"] += len(texts[j])
        if split == "train":
            meta_parts.append(
                np.array(
                    [[channel_id, source_ids[sources[j]]] for j in sel.tolist()], dtype=np.int32
                ).reshape(-1, 2)
            )


def _summarise(per_source: dict[str, dict[str, int]]) -> dict[str, Any]:
    docs = sum(s["docs"] for s in per_source.values())
    tokens = sum(s["tokens"] for s in per_source.values())
    chars = sum(s["chars"] for s in per_source.values())
    sources = {
        name: {**s, "chars_per_token": round(s["chars"] / s["tokens"], 4) if s["tokens"] else None}
        for name, s in sorted(per_source.items())
    }
    return {
        "docs": docs,
        "tokens": tokens,
        "chars": chars,
        "chars_per_token": round(chars / tokens, 4) if tokens else None,
        "sources": sources,
    }


def _tokenizer_fingerprint(path: Path) -> str:
    files = (
        [path]
        if path.is_file()
        else sorted(
            p
            for p in path.iterdir()
            if (p.is_file() and p.suffix == ".json") or p.name in ("merges.txt", "vocab.bpe")
        )
    )
    return fingerprint([[p.name, sha256_file(p)] for p in files])


def run_pack(recipe: Any, force: bool = False) -> dict[str, Any]:
    """Tokenize every channel of ``recipe`` into ``<workdir>/tokens`` (resumable per channel).

    Returns the content of ``tokens/stats.json``: per channel and source docs, tokens, chars, chars/token,
    for the training and the held-out split. Run this before ``mixkit.mix.stage.run_mix`` (the planner uses
    the real token counts).
    """
    from mixkit.pack.tokenizer import load_tokenizer

    if recipe.tokenizer is None:
        raise MixkitError(
            "the recipe has no `tokenizer:`; set it to a local tokenizer folder or tokenizer.json"
        )
    cfg = pack_config(recipe)
    set_threads(cfg.workers)
    wd = Workdir.of(recipe)
    spec = recipe.tokenizer
    local = recipe.resolve(spec)
    if not local.exists() and local.parent != recipe.base_dir and local.parent.is_dir():
        # "tok/mine" where tok/ is a local folder: a typo in a local path, not a hub id to download
        raise MixkitError(
            f"tokenizer: {local} not found (its folder {local.parent} exists); fix `tokenizer:` in the recipe"
        )
    tok = load_tokenizer(local if local.exists() else spec, cfg.eos_token)
    tok_fp = _tokenizer_fingerprint(local) if local.exists() else str(spec)
    out = wd.tokens
    (out / "val").mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob(".*.tmp"), *(out / "val").glob(".*.tmp")]:  # left by a killed run
        stale.unlink(missing_ok=True)
    channels = recipe.channels
    source_ids = {s.name: i for i, s in enumerate(recipe.sources)}
    per_channel: dict[str, Any] = {}
    for cid, channel in enumerate(channels):
        files = wd.channel_files(channel)
        if not files:
            log.warning(
                "pack %s: no documents under %s (run `mixkit curate` first, or every document was "
                "dropped); writing an empty shard",
                channel,
                wd.final_docs() / channel,
            )
        fp = fingerprint(
            {
                "v": PACK_VERSION,
                "inputs": _input_fingerprint(files),
                "tokenizer": tok_fp,
                "pack": cfg.model_dump(mode="json"),
                "seed": recipe.seed,
                "cid": cid,
                "sources": source_ids,
            }
        )
        marker = wd.markers("pack") / f"{channel}.json"
        done = (
            not force
            and marker.exists()
            and (out / f"{channel}.idx").exists()
            and loads(marker.read_bytes()).get("fingerprint") == fp
        )
        if done:
            log.info("pack %s: up to date, skipped", channel)
            stats = loads(marker.read_bytes())["stats"]
        else:
            log.info("pack %s: tokenizing %d file(s)", channel, len(files))
            stats = pack_channel(recipe, tok, channel, cid, source_ids, files, out)
            write_json(marker, {"fingerprint": fp, "stats": stats})
        per_channel[channel] = stats
    result = {
        "tokenizer": str(spec),
        "eos_token": tok.eos_token,
        "eos_id": tok.eos_id,
        "vocab_size": tok.vocab_size,
        "dtype": str(token_dtype(tok.vocab_size)),
        "channels": channels,
        "sources": [{"name": s.name, "channel": s.channel} for s in recipe.sources],
        "train": {c: _summarise(s["train"]) for c, s in per_channel.items()},
        "val": {c: _summarise(s["val"]) for c, s in per_channel.items()},
    }
    write_json(
        out / "index.json",
        {
            k: result[k]
            for k in ("tokenizer", "eos_token", "eos_id", "vocab_size", "dtype", "channels", "sources")
        },
    )
    write_json(out / "stats.json", result)
    for c in channels:
        t = result["train"][c]
        log.info(
            "pack %s: %d docs, %d tokens, %.2f chars/token (val: %d docs)",
            c,
            t["docs"],
            t["tokens"],
            t["chars_per_token"] or 0,
            result["val"][c]["docs"],
        )
    return result
