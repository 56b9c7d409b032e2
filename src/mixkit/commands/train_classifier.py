"""mixkit train-classifier --positive GLOB --negative GLOB --out DIR"""

from __future__ import annotations

import argparse
import glob
import gzip
import logging
from pathlib import Path

HELP = "train the fastText-style quality classifier used by the quality_classifier curate step"
log = logging.getLogger("mixkit.commands.train_classifier")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--positive", required=True, action="append", help="glob of high-quality documents (repeatable)"
    )
    p.add_argument(
        "--negative", required=True, action="append", help="glob of low-quality documents (repeatable)"
    )
    p.add_argument("--out", required=True, help="output directory (model.npz + config.json)")
    p.add_argument("--text-field", default="text", help="JSON field holding the text in .jsonl inputs")
    p.add_argument("--max-docs", type=int, default=200_000, help="at most this many documents per class")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.5, help="AdaGrad learning rate")
    p.add_argument("--dim", type=int, default=1 << 20, help="hash buckets")
    p.add_argument("--ngrams", type=int, default=2, choices=(1, 2), help="1: unigrams, 2: + bigrams")
    p.add_argument("--seed", type=int, default=0)


def read_texts(patterns: list[str], text_field: str, limit: int) -> list[str]:
    """Texts from files matching ``patterns``: ``.jsonl``/``.jsonl.gz`` give one text per line (``text_field``),
    any other file is one text."""
    from mixkit.errors import MixkitError
    from mixkit.utils import loads

    paths = sorted({p for pat in patterns for p in glob.glob(pat, recursive=True)})
    if not paths:
        raise MixkitError(
            f"no files match {patterns}; check the glob (quote it so the shell does not expand it)"
        )
    texts: list[str] = []
    for path in paths:
        if path.endswith((".jsonl", ".jsonl.gz", ".json")):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = loads(line)
                    except Exception as exc:
                        raise MixkitError(f"{path}:{n}: not valid JSON ({exc})") from exc
                    text = rec.get(text_field) if isinstance(rec, dict) else None
                    if not isinstance(text, str):
                        raise MixkitError(
                            f"{path}:{n}: no string field '{text_field}'; pick the field with --text-field "
                            f"(fields here: {sorted(rec) if isinstance(rec, dict) else type(rec).__name__})"
                        )
                    if text.strip():
                        texts.append(text)
                    if len(texts) >= limit:
                        return texts
        else:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            if text.strip():
                texts.append(text)
            if len(texts) >= limit:
                return texts
    return texts


def main(args: argparse.Namespace) -> int:
    from mixkit.curate.classifier import ClassifierConfig, LinearClassifier

    pos = read_texts(args.positive, args.text_field, args.max_docs)
    neg = read_texts(args.negative, args.text_field, args.max_docs)
    log.info("training on %d positive and %d negative documents", len(pos), len(neg))
    cfg = ClassifierConfig(dim=args.dim, ngrams=args.ngrams)
    model = LinearClassifier.train(pos, neg, cfg, epochs=args.epochs, lr=args.lr, seed=args.seed)
    out = model.save(args.out)
    log.info("saved %s (holdout accuracy %s)", out, cfg.metrics.get("holdout_accuracy"))
    return 0
