"""N-gram index of benchmark items, for finding benchmark text inside training documents.

Items come from local benchmark files (JSONL, JSONL.gz or Parquet); an item's text is its question, its options
(a list, or a dict of label -> text) and its answer joined in that order, so a multiple-choice item with
one-word options still forms long n-grams. Tokens are those of ``mixkit.dedup.shingles`` in words mode: a word is
a run of letters/digits, every CJK character is a token. Single-letter Latin tokens are skipped on both sides so
option labels ("A.", "(b)") do not break n-grams.

n = 13 tokens: 13-word n-grams as in GPT-3's contamination analysis (Brown et al. 2020, "Language Models are
Few-Shot Learners", App. C); for Chinese the same 13 counts characters (a Chinese word is ~1.5 characters, so
13 characters is ~8 words: stricter than 13 English words, and in our benchmark still without false positives on
clean text). An item shorter than n tokens (but at least ``min_tokens``) is indexed whole, and so is its
question alone, so a leaked short question is found without its options. N-grams found in more
than ``max_items_per_ngram`` items (template phrases) are ignored, like GPT-3 ignored frequent 13-grams.
"""

from __future__ import annotations

import glob
import gzip
import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from mixkit.dedup.shingles import ShingleSpec, iter_ngrams, iter_tokens
from mixkit.errors import MixkitError
from mixkit.utils import loads

WORDS = ShingleSpec(shingle="words")


class BenchmarkError(MixkitError):
    """A benchmark file cannot be read or lacks the configured fields."""


@lru_cache(maxsize=1)
def label_tokens() -> np.ndarray:
    """Hashes of the single-letter Latin tokens a..z (option labels), skipped when matching."""
    _, chunks = iter_tokens(["a b c d e f g h i j k l m n o p q r s t u v w x y z"], WORDS)
    return np.unique(np.concatenate([c.hashes for c in chunks]))


def item_text(
    row: dict[str, Any], question: str, options: str | None, answer: str | None, extra: list[str]
) -> str:
    """Question, options (list values or dict values, in order), answer and extra fields joined by newlines."""
    parts: list[str] = []
    q = row.get(question)
    if isinstance(q, str):
        parts.append(q)
    for f in extra:
        v = row.get(f)
        if isinstance(v, str):
            parts.append(v)
    if options:
        opts = row.get(options)
        if isinstance(opts, dict):
            # {"label": [...], "text": [...]} (ARC style) or {"A": "...", ...}
            vals = opts.get("text") if isinstance(opts.get("text"), list) else list(opts.values())
            parts.extend(str(v) for v in vals if v is not None)
        elif isinstance(opts, list):
            parts.extend(str(v) for v in opts if v is not None)
    if answer:
        # a free-form answer is text of the item; an option index, a label or a copy of an option is not
        a = row.get(answer)
        if isinstance(a, str) and len(a.strip()) > 1 and a not in parts:
            parts.append(a)
    return "\n".join(parts)


def read_items(path: Path) -> list[dict[str, Any]]:
    """All rows of a JSONL(.gz) or Parquet benchmark file."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    if name.endswith((".jsonl", ".jsonl.gz", ".json")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            rows = []
            for i, line in enumerate(fh):
                if line.strip():
                    try:
                        rows.append(loads(line))
                    except Exception as exc:
                        raise BenchmarkError(
                            f"{path}:{i + 1}: not valid JSON ({exc}); fix or remove the line"
                        ) from exc
            return rows
    raise BenchmarkError(f"{path}: unsupported benchmark file type; use .jsonl, .jsonl.gz or .parquet")


_EXTS = (".jsonl.gz", ".jsonl", ".json", ".parquet")


def bench_name(path: Path) -> str:
    """A benchmark file's name without its extension (``mmlu/test.jsonl`` -> ``test``)."""
    name = path.name
    for ext in _EXTS:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return path.stem


def bench_names(files: list[Path]) -> list[str]:
    """Unique names of benchmark files, used in stats and ``meta.decontam``: each file's path relative to the
    deepest folder holding all of them, without the extension, with ``/`` separators. So files of one folder
    keep their bare names (``mmlu``, ``arc``) and same-named files of different folders differ
    (``mmlu/test``, ``arc/test``). Two files differing only by extension (``x.jsonl``, ``x.parquet``) keep it.
    """
    if not files:
        return []
    absolute = [Path(os.path.abspath(f)) for f in files]
    root = Path(os.path.commonpath([str(f.parent) for f in absolute]))
    rel = [f.relative_to(root) for f in absolute]
    names = [(r.parent / bench_name(r)).as_posix() for r in rel]
    counts = Counter(names)
    return [r.as_posix() if counts[n] > 1 else n for n, r in zip(names, rel, strict=True)]


@dataclass
class BenchmarkIndex:
    """Sorted n-gram hashes of benchmark items: ``lengths[L]`` = (hashes, bench id, item id) for n-grams of L
    tokens (L = n for full n-grams, L < n for items indexed whole)."""

    names: list[str]
    n: int
    lengths: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    items: list[int]  # items per benchmark
    skipped_short: int = 0

    @classmethod
    def build(
        cls,
        patterns: list[str],
        base: Path,
        *,
        question: str = "question",
        options: str | None = "choices",
        answer: str | None = "answer",
        extra_fields: list[str] | None = None,
        n: int = 13,
        min_tokens: int = 8,
        max_items_per_ngram: int = 10,
    ) -> BenchmarkIndex:
        """Read every benchmark file matching ``patterns`` (relative to ``base``) and index its items."""
        files: list[Path] = []
        for pat in patterns:
            full = pat if Path(pat).is_absolute() else str(base / pat)
            found = sorted(Path(p) for p in glob.glob(full, recursive=True))
            if not found:
                raise BenchmarkError(
                    f"benchmark pattern {pat!r} matches no file under {base}; fix the path "
                    "(relative to the recipe)"
                )
            files += found
        files = list(dict.fromkeys(files))  # a file matched by two patterns is one benchmark
        names = bench_names(files)
        drop = label_tokens()
        texts: list[str] = []
        questions: list[str] = []
        bench_of: list[int] = []
        items_per: list[int] = []
        for b, f in enumerate(files):
            rows = read_items(f)
            if rows and question not in rows[0]:
                raise BenchmarkError(
                    f"{f}: items have no field {question!r} (fields: {sorted(rows[0])}); set "
                    "question_field (and options_field, answer_field) of the decontaminate step"
                )
            for r in rows:
                texts.append(item_text(r, question, options, answer, extra_fields or []))
                bench_of.append(b)
            items_per.append(len(rows))
            questions += [r.get(question) if isinstance(r.get(question), str) else "" for r in rows]
        bench_arr = np.asarray(bench_of, dtype=np.int64)
        n_items = len(texts)
        # units to index: the whole item, and its question alone (a leaked question without its options);
        # unit_item maps each unit back to its item
        unit_item = list(range(n_items)) + [i for i, q in enumerate(questions) if q and q != texts[i]]
        texts = texts + [questions[i] for i in unit_item[n_items:]]
        unit_arr = np.asarray(unit_item, dtype=np.int64)
        # full n-grams, plus the whole item for items shorter than n
        parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for ch in iter_ngrams(texts, WORDS, n_words=n, n_chars=n, short_docs=False, drop_tokens=drop):
            parts.setdefault(n, []).append((ch.hashes, unit_arr[ch.doc]))
        counts = np.zeros(len(texts), dtype=np.int64)
        _, tchunks = iter_tokens(texts, WORDS)
        for ch in tchunks:
            keep = ~np.isin(ch.hashes, drop)
            counts += np.bincount(ch.doc[keep], minlength=len(texts))
        short = np.flatnonzero((counts < n) & (counts >= min_tokens))
        skipped = int((counts[:n_items] < min_tokens).sum())
        for L in np.unique(counts[short]):
            sel = short[counts[short] == L]
            for ch in iter_ngrams(
                [texts[i] for i in sel],
                WORDS,
                n_words=int(L),
                n_chars=int(L),
                short_docs=False,
                drop_tokens=drop,
            ):
                parts.setdefault(int(L), []).append((ch.hashes, unit_arr[sel[ch.doc]]))
        lengths = {}
        for L, ps in parts.items():
            h = np.concatenate([p[0] for p in ps])
            item = np.concatenate([p[1] for p in ps])
            # count distinct items per n-gram, drop template n-grams
            pair = np.unique(np.stack([h, item.astype(np.uint64)], 1), axis=0)
            _, inv, cnt = np.unique(pair[:, 0], return_inverse=True, return_counts=True)
            ok = cnt[inv] <= max_items_per_ngram
            pair = pair[ok]
            order = np.lexsort((pair[:, 1], pair[:, 0]))
            pair = pair[order]
            it = pair[:, 1].astype(np.int64)
            lengths[L] = (pair[:, 0].copy(), bench_arr[it], it)
        return cls(names, n, lengths, items_per, skipped)

    def match(self, texts: list[str]) -> list[list[tuple[int, int, int, int]]]:
        """For each text, the matches (bench id, item id, start, end) of indexed n-grams, spans in characters.

        An n-gram shared by several items (at most ``max_items_per_ngram``) yields one match per item, so
        per-item counts are exact; the same span then appears once per item (count distinct spans, not
        matches, for "matched n-grams").
        """
        out: list[list[tuple[int, int, int, int]]] = [[] for _ in texts]
        drop = label_tokens()
        extra = tuple(sorted(L for L in self.lengths if self.n != L))
        for ch in iter_ngrams(
            texts, WORDS, n_words=self.n, n_chars=self.n, short_docs=False, drop_tokens=drop, extra_n=extra
        ):
            found = [(self.n, (ch.hashes, ch.doc, ch.starts, ch.ends)), *(ch.extra or {}).items()]
            for L, (hashes, doc, starts, ends) in found:
                if L not in self.lengths or len(self.lengths[L][0]) == 0:
                    continue
                hs, bench, item = self.lengths[L]
                lo = np.searchsorted(hs, hashes, side="left")
                hi = np.searchsorted(hs, hashes, side="right")
                for k in np.flatnonzero(hi > lo):
                    d, s, e = int(doc[k]), int(starts[k]), int(ends[k])
                    for j in range(lo[k], hi[k]):
                        out[d].append((int(bench[j]), int(item[j]), s, e))
        return out
