"""Exact dedup: a 64-bit hash of the normalised text (and optionally of a URL in ``meta``); the first document
by priority keeps, later copies are dropped.

Normalisation: lowercase and collapse every run of whitespace to one space (so re-wrapped copies match). Hash:
xxh3-64 (Collet, xxHash spec); at 2^-64 per pair a false match among 10^9 documents has probability ~3%
(birthday bound n^2 / 2^65), acceptable for dedup. Memory (unit: bytes per document): 8 per hash kind plus 16
for the sort, all numpy; nothing keyed by strings.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import Field

from mixkit.dedup.base import (
    GlobalPass,
    PassContext,
    PassParams,
    apply_decisions,
    building_index,
    index_folder,
    iter_batches,
    priority_order,
)
from mixkit.pipeline.step import StepStats
from mixkit.utils import loads


def normalize_text(text: str) -> str:
    """Lowercase, whitespace runs collapsed to one space, stripped."""
    return " ".join(text.lower().split())


def normalize_url(url: str) -> str:
    """Lowercase, no scheme, no 'www.', no trailing slash or fragment."""
    u = url.strip().lower().split("#", 1)[0]
    for prefix in ("https://", "http://"):
        if u.startswith(prefix):
            u = u[len(prefix) :]
    if u.startswith("www."):
        u = u[4:]
    return u.rstrip("/")


def text_hashes(texts: list[str], normalize: bool = True) -> np.ndarray:
    """xxh3-64 of each (normalised) text."""
    f = normalize_text if normalize else (lambda t: t)
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(f(t or "").encode()) for t in texts), dtype=np.uint64, count=len(texts)
    )


def first_by_priority(h: np.ndarray, pos: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """True for every document whose hash ``h`` was already taken by a more preferred one (smaller ``pos``)."""
    order = np.lexsort((pos, h))
    hs = h[order]
    dup_sorted = np.zeros(len(h), dtype=bool)
    dup_sorted[1:] = hs[1:] == hs[:-1]
    dup = np.zeros(len(h), dtype=bool)
    dup[order] = dup_sorted
    if valid is not None:
        dup &= valid
    return dup


def in_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Membership of ``values`` in a sorted array (binary search, works on memory-mapped arrays)."""
    if len(sorted_ref) == 0:
        return np.zeros(len(values), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_ref, values), len(sorted_ref) - 1)
    return np.asarray(sorted_ref[i]) == values


class ExactParams(PassParams):
    """Parameters of the ``exact`` dedup step."""

    normalize: bool = Field(default=True, description="lowercase and collapse whitespace before hashing")
    url_field: str | None = Field(
        default=None, description="meta key holding a URL; equal URLs are duplicates too"
    )
    priority: list[str] = Field(
        default_factory=list, description="sources to keep first, most preferred first"
    )


class Exact(GlobalPass):
    """Drop exact duplicates (same normalised text, or same URL when ``url_field`` is set)."""

    name = "exact"
    Params = ExactParams

    def run_pass(self, files_in: list[Path], files_out: list[Path], ctx: PassContext) -> StepStats:
        p: ExactParams = self.params  # type: ignore[assignment]
        t0 = time.perf_counter()
        stats = StepStats()
        th, uh, has_url = [], [], []
        for _, _, t in iter_batches(files_in, ["text", "meta"]):
            th.append(text_hashes(t.column("text").to_pylist(), p.normalize))
            if p.url_field:
                urls = []
                for m in t.column("meta").to_pylist():
                    u = (loads(m) if m else {}).get(p.url_field)
                    urls.append(normalize_url(u) if isinstance(u, str) and u.strip() else None)
                uh.append(
                    np.fromiter(
                        (xxhash.xxh3_64_intdigest((u or "").encode()) for u in urls), np.uint64, len(urls)
                    )
                )
                has_url.append(np.array([u is not None for u in urls], dtype=bool))
        h = np.concatenate(th) if th else np.zeros(0, np.uint64)
        _, pos = priority_order(files_in, p.priority)
        dup_text = first_by_priority(h, pos)
        idx_in: Path | None = ctx.extra.get("index_in")
        base_in = index_folder(idx_in, self.name, ctx.channel)
        if base_in is not None and (base_in / "text.npy").exists():
            dup_text |= in_sorted(h, np.load(base_in / "text.npy", mmap_mode="r"))
        dup_url = np.zeros(len(h), dtype=bool)
        if p.url_field:
            u = np.concatenate(uh) if uh else np.zeros(0, np.uint64)
            valid = np.concatenate(has_url) if has_url else np.zeros(0, bool)
            dup_url = first_by_priority(np.where(valid, u, np.arange(len(u), dtype=np.uint64)), pos, valid)
            if base_in is not None and (base_in / "url.npy").exists():
                dup_url |= valid & in_sorted(u, np.load(base_in / "url.npy", mmap_mode="r"))
            dup_url &= ~dup_text
        stats.counters["url_duplicates"] = int(dup_url.sum())

        def decide(t: pa.Table, start: int):
            sl = slice(start, start + t.num_rows)
            keep = ~(dup_text[sl] | dup_url[sl])
            reasons = [
                None if k else ("duplicate_url" if du else "exact_duplicate")
                for k, du in zip(keep, dup_url[sl], strict=True)
            ]
            return keep, reasons, t

        apply_decisions(files_in, files_out, self.name, ctx, decide, stats)
        idx_out: Path | None = ctx.extra.get("index_out")
        if idx_out is not None:
            with building_index(idx_out, self.name, ctx.channel) as dest:
                old = (
                    np.load(base_in / "text.npy")
                    if base_in is not None and (base_in / "text.npy").exists()
                    else None
                )
                np.save(dest / "text.npy", np.unique(h if old is None else np.concatenate((old, h))))
                if p.url_field:
                    urls = u[valid]
                    if base_in is not None and (base_in / "url.npy").exists():
                        urls = np.concatenate((np.load(base_in / "url.npy"), urls))
                    np.save(dest / "url.npy", np.unique(urls))
        stats.seconds = time.perf_counter() - t0
        return stats
