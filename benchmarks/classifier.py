"""Benchmark: train the hashed n-gram quality classifier and measure its scoring throughput on one core.

Positives: paragraphs of Python's documentation topics (English prose); negatives: generated web boilerplate
(navigation bars, keyword-stuffed ads, cookie banners). Prints training time, held-out accuracy, and scoring
throughput in documents/s and MB/s; the last line is the documents/s per core.

Usage: python benchmarks/classifier.py [--docs 4000] [--dim 1048576]
"""

from __future__ import annotations

import argparse
import random
import sys
import time


def corpus(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    from pydoc_data.topics import topics

    rng = random.Random(seed)
    paras = [p for k in sorted(topics) for p in topics[k].split("\n\n") if len(p) > 200]
    pos = [paras[i % len(paras)] for i in range(n)]
    words = [
        "cheap",
        "best",
        "deal",
        "click",
        "buy",
        "free",
        "shipping",
        "login",
        "cart",
        "sale",
        "cookies",
        "accept",
        "home",
        "contact",
        "offer",
        "discount",
        "now",
        "today",
        "online",
        "shop",
    ]
    neg = []
    for _ in range(n):
        lines = [
            " ".join(rng.choices(words, k=rng.randint(3, 12))) + rng.choice(["!!!", "", " >>", " |"])
            for _ in range(rng.randint(3, 12))
        ]
        neg.append("\n".join(lines))
    return pos, neg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=4000, help="documents per class")
    ap.add_argument("--dim", type=int, default=1 << 20)
    args = ap.parse_args()

    from mixkit.curate.classifier import ClassifierConfig, LinearClassifier

    pos, neg = corpus(args.docs)
    t0 = time.process_time()
    model = LinearClassifier.train(pos, neg, ClassifierConfig(dim=args.dim), epochs=3, seed=0)
    train_s = time.process_time() - t0
    print(f"training: {2 * args.docs} documents in {train_s:.2f} s CPU; metrics {model.cfg.metrics}")

    probe = pos[: args.docs // 2] + neg[: args.docs // 2]
    n_bytes = sum(len(t.encode("utf-8")) for t in probe)
    model.score(probe[0])  # warm the token-hash cache like a long-running worker
    t0 = time.process_time()
    for t in probe:
        model.score(t)
    score_s = time.process_time() - t0
    print(
        f"scoring: {len(probe)} documents, {n_bytes / 1e6:.2f} MB in {score_s:.2f} s CPU "
        f"({n_bytes / 1e6 / score_s:.2f} MB/s)"
    )
    print(f"scoring throughput: {len(probe) / score_s:.0f} docs/s per core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
