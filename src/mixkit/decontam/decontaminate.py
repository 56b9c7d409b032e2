"""The ``decontaminate`` dedup step: find benchmark items inside training documents and report, drop or excise.

Matching: see ``mixkit.decontam.ngrams`` (13-token n-grams, GPT-3 App. C). Modes:

- ``report``: keep every document, write ``meta.decontam`` = {benchmark: matched n-grams} on contaminated ones;
- ``drop``: drop contaminated documents (reason ``contaminated``);
- ``excise``: cut each matched span plus ``excise_margin`` characters on both sides (GPT-3 cut 200 characters
  around each match); a document left with fewer than ``min_chars_left`` characters is dropped
  (``empty_after_excise``).

Per-benchmark counts go to the stats file: documents hit under ``extra.decontam``, distinct items hit under
``extra.decontam_items`` (every item sharing a matched n-gram counts). A benchmark is named by its file's path
relative to the deepest folder holding all benchmark files, without extension (``mmlu``, or ``mmlu/test`` and
``arc/test`` when same-named files sit in different folders); see ``mixkit.decontam.ngrams.bench_names``.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from mixkit.decontam.ngrams import BenchmarkIndex
from mixkit.dedup.base import GlobalPass, PassContext, PassParams, apply_decisions, update_meta
from mixkit.pipeline.step import StepStats


class DecontaminateParams(PassParams):
    """Parameters of the ``decontaminate`` dedup step."""

    benchmarks: list[str] = Field(
        min_length=1, description="globs of benchmark files (JSONL/Parquet), recipe-relative"
    )
    mode: Literal["report", "drop", "excise"] = "drop"
    question_field: str = "question"
    options_field: str | None = Field(default="choices", description="list or dict of options (joined)")
    answer_field: str | None = "answer"
    extra_fields: list[str] = Field(
        default_factory=list, description="more text fields of an item (e.g. context)"
    )
    ngram: int = Field(default=13, ge=4, le=16, description="tokens per n-gram (words; CJK characters)")
    min_tokens: int = Field(
        default=8, ge=1, description="items shorter than this many tokens are not indexed"
    )
    max_items_per_ngram: int = Field(default=10, ge=1, description="ignore n-grams shared by more items")
    excise_margin: int = Field(
        default=200, ge=0, description="characters cut on each side of a match (excise)"
    )
    min_chars_left: int = Field(
        default=1, ge=1, description="excise: drop a document shorter than this after"
    )


class Decontaminate(GlobalPass):
    """Report, drop or excise documents that contain benchmark n-grams."""

    name = "decontaminate"
    Params = DecontaminateParams

    def build_index(self, base: Path) -> BenchmarkIndex:
        p: DecontaminateParams = self.params  # type: ignore[assignment]
        return BenchmarkIndex.build(
            p.benchmarks,
            base,
            question=p.question_field,
            options=p.options_field,
            answer=p.answer_field,
            extra_fields=p.extra_fields,
            n=p.ngram,
            min_tokens=p.min_tokens,
            max_items_per_ngram=p.max_items_per_ngram,
        )

    def run_pass(self, files_in: list[Path], files_out: list[Path], ctx: PassContext) -> StepStats:
        p: DecontaminateParams = self.params  # type: ignore[assignment]
        t0 = time.perf_counter()
        stats = StepStats()
        index = self.build_index(ctx.base)
        stats.counters["benchmark_items"] = sum(index.items)
        stats.counters["items_too_short"] = index.skipped_short
        docs_hit: Counter = Counter()
        items_hit: dict[int, set[int]] = {b: set() for b in range(len(index.names))}

        def decide(t: pa.Table, start: int):
            texts = [x or "" for x in t.column("text").to_pylist()]
            matches = index.match(texts)
            keep = np.ones(len(texts), dtype=bool)
            reasons: list[str | None] = [None] * len(texts)
            hit_rows = [i for i, m in enumerate(matches) if m]
            per_doc: dict[int, Counter] = {}
            for i in hit_rows:
                # matched n-grams per benchmark: distinct spans (one n-gram may match several items)
                c = Counter(index.names[b] for b, _, _ in {(b, s, e) for b, _, s, e in matches[i]})
                per_doc[i] = c
                for b in {b for b, _, _, _ in matches[i]}:
                    docs_hit[index.names[b]] += 1
                for b, it, _, _ in matches[i]:
                    items_hit[b].add(it)
            if hit_rows:
                metas = update_meta(
                    t.column("meta").to_pylist(),
                    np.array(hit_rows),
                    lambda i: {"decontam": dict(sorted(per_doc[i].items()))},
                )
                t = t.set_column(t.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string()))
            if p.mode == "drop":
                for i in hit_rows:
                    keep[i] = False
                    reasons[i] = "contaminated"
            elif p.mode == "excise" and hit_rows:
                new = list(texts)
                for i in hit_rows:
                    spans = sorted(
                        (max(0, s - p.excise_margin), e + p.excise_margin) for _, _, s, e in matches[i]
                    )
                    merged: list[list[int]] = []
                    for s, e in spans:
                        if merged and s <= merged[-1][1]:
                            merged[-1][1] = max(merged[-1][1], e)
                        else:
                            merged.append([s, e])
                    text, pieces, cur = texts[i], [], 0
                    for s, e in merged:
                        pieces.append(text[cur:s])
                        cur = e
                    pieces.append(text[cur:])
                    cut = "".join(pieces).strip()
                    stats.counters["chars_excised"] += len(text) - len(cut)
                    if len(cut) < p.min_chars_left:
                        keep[i] = False
                        reasons[i] = "empty_after_excise"
                    else:
                        new[i] = cut
                t = t.set_column(t.schema.get_field_index("text"), "text", pa.array(new, pa.string()))
            stats.counters["contaminated_docs"] += len(hit_rows)
            return keep, reasons, t

        apply_decisions(files_in, files_out, self.name, ctx, decide, stats)
        ctx.extra["decontam"] = {name: docs_hit.get(name, 0) for name in index.names}
        ctx.extra["decontam_items"] = {index.names[b]: len(s) for b, s in items_hit.items()}
        stats.seconds = time.perf_counter() - t0
        return stats
