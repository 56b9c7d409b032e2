"""Line-level dedup in the style of CCNet (Wenzek et al. 2020, "CCNet", sec. 3.2): a line that occurs in at least
``min_docs`` documents (counted once per document) is boilerplate (navigation, cookie notices, footers) and is
removed from every document; documents themselves are kept unless nothing is left.

Line normalisation as in CCNet: lowercase, digits replaced by 0, punctuation and symbols removed, whitespace
collapsed. Lines that normalise to nothing (blank lines, separators) are never removed. Hash: xxh3-64.
Memory: line hashes are spilled to 16 partition files by their top bits and counted one partition at a time
(unit: 8 bytes per distinct line of a document on disk; 1/16 of them in RAM).
"""

from __future__ import annotations

import re
import shutil
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
)
from mixkit.dedup.exact import in_sorted
from mixkit.pipeline.step import StepStats

_DIGITS = re.compile(r"\d")
_NON_WORD = re.compile(r"[^\w\s]|_")
_PARTS = 16
_FLUSH = 1 << 22  # hashes buffered before spilling to the partition files


def normalize_line(line: str) -> str:
    """CCNet line normalisation (lowercase, digits -> 0, no punctuation, single spaces)."""
    return " ".join(_NON_WORD.sub(" ", _DIGITS.sub("0", line.lower())).split())


def line_hashes(text: str) -> list[int]:
    """xxh3-64 of every line's normalised form; 0 for lines that normalise to nothing."""
    out = []
    for line in text.split("\n"):
        n = normalize_line(line)
        out.append(xxhash.xxh3_64_intdigest(n.encode()) | 1 if n else 0)
    return out


class LinesParams(PassParams):
    """Parameters of the ``lines`` dedup step."""

    min_docs: int = Field(default=3, ge=2, description="remove lines found in at least this many documents")


class Lines(GlobalPass):
    """Remove lines repeated across many documents; drop documents left empty (``empty_after_line_dedup``)."""

    name = "lines"
    Params = LinesParams

    def run_pass(self, files_in: list[Path], files_out: list[Path], ctx: PassContext) -> StepStats:
        p: LinesParams = self.params  # type: ignore[assignment]
        t0 = time.perf_counter()
        stats = StepStats()
        spill = ctx.state / "spill"
        if ctx.state.exists():
            shutil.rmtree(ctx.state)
        spill.mkdir(parents=True)
        handles = [open(spill / f"{i:02d}.bin", "wb") for i in range(_PARTS)]  # noqa: SIM115
        buf: list[np.ndarray] = []
        nbuf = 0

        def flush() -> None:
            nonlocal buf, nbuf
            if not buf:
                return
            h = np.concatenate(buf)
            part = (h >> np.uint64(60)).astype(np.int64)
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(_PARTS + 1))
            for i in range(_PARTS):
                handles[i].write(h[order[bounds[i] : bounds[i + 1]]].tobytes())
            buf, nbuf = [], 0

        try:
            for _, _, t in iter_batches(files_in, ["text"]):
                for text in t.column("text").to_pylist():
                    hs = {x for x in line_hashes(text or "") if x}
                    if hs:
                        buf.append(np.fromiter(hs, dtype=np.uint64, count=len(hs)))
                        nbuf += len(hs)
                if nbuf >= _FLUSH:
                    flush()
            flush()
        finally:
            for fh in handles:
                fh.close()
        idx_in: Path | None = ctx.extra.get("index_in")
        base_in = index_folder(idx_in, self.name, ctx.channel)
        old_h = old_c = None
        if base_in is not None and (base_in / "hashes.npy").exists():
            old_h = np.load(base_in / "hashes.npy", mmap_mode="r")
            old_c = np.load(base_in / "counts.npy", mmap_mode="r")
        frequent, all_h, all_c = [], [], []
        idx_out: Path | None = ctx.extra.get("index_out")
        for i in range(_PARTS):
            h = np.fromfile(spill / f"{i:02d}.bin", dtype=np.uint64)
            uniq, counts = np.unique(h, return_counts=True)
            counts = counts.astype(np.int64)
            if old_h is not None and len(old_h):
                j = np.minimum(np.searchsorted(old_h, uniq), len(old_h) - 1)
                counts += np.where(np.asarray(old_h[j]) == uniq, np.asarray(old_c[j]), 0)
            frequent.append(uniq[counts >= p.min_docs])
            if idx_out is not None:
                all_h.append(uniq)
                all_c.append(counts)
            (spill / f"{i:02d}.bin").unlink()
        freq = np.concatenate(frequent)
        freq.sort()
        stats.counters["frequent_lines"] = len(freq)
        removed_lines = removed_chars = 0

        def decide(t: pa.Table, start: int):
            nonlocal removed_lines, removed_chars
            texts = t.column("text").to_pylist()
            keep = np.ones(len(texts), dtype=bool)
            reasons: list[str | None] = [None] * len(texts)
            out = []
            for i, text in enumerate(texts):
                lines = (text or "").split("\n")
                hs = np.array(line_hashes(text or ""), dtype=np.uint64)
                bad = in_sorted(hs, freq) & (hs != 0)
                if bad.any():
                    removed_lines += int(bad.sum())
                    kept = [ln for ln, b in zip(lines, bad, strict=True) if not b]
                    removed_chars += sum(len(ln) for ln, b in zip(lines, bad, strict=True) if b)
                    text = "\n".join(kept).strip("\n")
                    if not text.strip():
                        keep[i] = False
                        reasons[i] = "empty_after_line_dedup"
                        text = texts[i]  # the dropped record keeps its original text
                out.append(text)
            t = t.set_column(t.schema.get_field_index("text"), "text", pa.array(out, pa.string()))
            return keep, reasons, t

        apply_decisions(files_in, files_out, self.name, ctx, decide, stats)
        stats.counters["lines_removed"] = removed_lines
        stats.counters["chars_removed"] = removed_chars
        if idx_out is not None:
            h = np.concatenate(all_h) if all_h else np.zeros(0, np.uint64)
            c = np.concatenate(all_c) if all_c else np.zeros(0, np.int64)
            if old_h is not None and len(old_h):  # lines only in the old index keep their counts
                only_old = ~in_sorted(np.asarray(old_h), np.sort(h))
                h = np.concatenate((h, np.asarray(old_h)[only_old]))
                c = np.concatenate((c, np.asarray(old_c)[only_old]))
            order = np.argsort(h, kind="stable")
            with building_index(idx_out, self.name, ctx.channel) as dest:
                np.save(dest / "hashes.npy", h[order])
                np.save(dest / "counts.npy", c[order])
        stats.seconds = time.perf_counter() - t0
        return stats
