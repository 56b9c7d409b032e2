"""A fast linear quality classifier (fastText-style hashed n-grams) trained on CPU with numpy.

Model: logistic regression over hashed features, as in fastText (Joulin et al. 2016, "Bag of Tricks for
Efficient Text Classification": bag of n-grams, hashing trick into a fixed number of buckets). It is the kind of
classifier DCLM (Li et al. 2024, Sec. 4.4) and FineWeb-Edu use to tag quality, small enough to score thousands of
documents per second per core.

Features: words of space-separated text (lower-cased runs of letters/digits) and, for Chinese, single Han
characters — so word unigrams + bigrams for English and character unigrams + bigrams for Chinese (Chinese
has no spaces; character n-grams are the standard fastText/GlotLID treatment). Each feature is hashed
(xxh64 of the token, then an arithmetic combination for bigrams) into ``dim`` buckets; a document's vector is
log(1 + count) per bucket, L2-normalised.

Training: mini-batch logistic regression with AdaGrad (Duchi et al. 2011) and L2 weight decay, a seeded
shuffle (same data + seed -> same weights, byte for byte) and a held-out split reported in the log.

Files: ``<dir>/model.npz`` (``weights`` float32 [dim], ``bias``) and ``<dir>/config.json`` (dim, ngrams,
max_chars, metrics). Scores are the probability of the positive class, in [0, 1].
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
from pydantic import Field

from mixkit.errors import MixkitError
from mixkit.pipeline.step import Annotator, ShardContext, StepParams
from mixkit.records import Document
from mixkit.utils import atomic_path, loads, write_json

log = logging.getLogger("mixkit.curate.classifier")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_BIGRAM_MULT = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime: odd, mixes the left token
_BIGRAM_SALT = np.uint64(0x9E3779B97F4A7C15)
_TOKEN_HASH: dict[str, int] = {}
_FORMAT_VERSION = 1


def _token_hashes(tokens: list[str]) -> np.ndarray:
    cache = _TOKEN_HASH
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, t in enumerate(tokens):
        h = cache.get(t)
        if h is None:
            h = xxhash.xxh64_intdigest(t.encode("utf-8"))
            if len(cache) < 500_000:
                cache[t] = h
        out[i] = h
    return out


@dataclass
class ClassifierConfig:
    """Everything needed to rebuild the featuriser of a saved model."""

    dim: int = 1 << 20  # hash buckets; 2^20 keeps collisions rare for corpora of ~10^5 distinct n-grams
    ngrams: int = 2  # 1 = unigrams, 2 = unigrams + bigrams
    max_chars: int = 20_000  # characters of each document read (bounded cost on huge documents)
    lowercase: bool = True
    version: int = _FORMAT_VERSION
    metrics: dict[str, Any] = field(default_factory=dict)


def featurize(text: str, cfg: ClassifierConfig) -> tuple[np.ndarray, np.ndarray]:
    """(bucket indices, values) of one document: log(1 + count) per bucket, L2-normalised."""
    text = text[: cfg.max_chars].lower() if cfg.lowercase else text[: cfg.max_chars]
    toks = _TOKEN_RE.findall(text)
    if not toks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    h = _token_hashes(toks)
    parts = [h]
    if cfg.ngrams >= 2 and len(h) > 1:
        with np.errstate(over="ignore"):
            parts.append(h[:-1] * _BIGRAM_MULT + h[1:] + _BIGRAM_SALT)
    ids = (np.concatenate(parts) % np.uint64(cfg.dim)).astype(np.int64)
    uniq, counts = np.unique(ids, return_counts=True)
    vals = np.log1p(counts.astype(np.float64))
    vals /= np.sqrt((vals * vals).sum())
    return uniq, vals.astype(np.float32)


class LinearClassifier:
    """Hashed n-gram logistic regression: ``score(text)`` = P(positive | text)."""

    def __init__(self, cfg: ClassifierConfig, weights: np.ndarray | None = None, bias: float = 0.0) -> None:
        self.cfg = cfg
        self.weights = weights if weights is not None else np.zeros(cfg.dim, dtype=np.float32)
        self.bias = float(bias)

    def logit(self, text: str) -> float:
        idx, val = featurize(text, self.cfg)
        return float(np.dot(self.weights[idx].astype(np.float64), val.astype(np.float64))) + self.bias

    def score(self, text: str) -> float:
        """Probability (0..1) that ``text`` belongs to the positive (high-quality) class."""
        z = self.logit(text)
        return float(1.0 / (1.0 + np.exp(-z)))

    # --- training -------------------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        positives: list[str],
        negatives: list[str],
        cfg: ClassifierConfig | None = None,
        epochs: int = 5,
        lr: float = 0.5,
        l2: float = 1e-6,
        batch_size: int = 32,
        holdout: float = 0.1,
        seed: int = 0,
    ) -> LinearClassifier:
        """Train on two lists of texts with mini-batch AdaGrad logistic regression (deterministic per seed)."""
        cfg = cfg or ClassifierConfig()
        if not positives or not negatives:
            raise MixkitError(
                f"train-classifier needs both classes; got {len(positives)} positive and {len(negatives)} negative "
                "documents. Check the --positive/--negative globs and --text-field."
            )
        texts = positives + negatives
        y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
        feats = [featurize(t, cfg) for t in texts]
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(texts))
        n_hold = int(len(texts) * holdout) if len(texts) >= 20 else 0
        hold, train_idx = order[:n_hold], order[n_hold:]
        model = cls(cfg)
        w = np.zeros(cfg.dim, dtype=np.float64)
        g2 = np.full(cfg.dim, 1e-8, dtype=np.float64)
        b, gb2 = 0.0, 1e-8
        for _epoch in range(epochs):
            perm = train_idx[rng.permutation(len(train_idx))]
            for start in range(0, len(perm), batch_size):
                batch = perm[start : start + batch_size]
                idx = np.concatenate([feats[i][0] for i in batch])
                val = np.concatenate([feats[i][1] for i in batch]).astype(np.float64)
                rows = np.repeat(np.arange(len(batch)), [len(feats[i][0]) for i in batch])
                z = np.bincount(rows, weights=w[idx] * val, minlength=len(batch)) + b
                err = 1.0 / (1.0 + np.exp(-z)) - y[batch]
                uniq, inv = np.unique(idx, return_inverse=True)
                grad = np.bincount(inv, weights=err[rows] * val, minlength=len(uniq)) / len(batch)
                grad += l2 * w[uniq]
                g2[uniq] += grad * grad
                w[uniq] -= lr * grad / np.sqrt(g2[uniq])
                gb = float(err.mean())
                gb2 += gb * gb
                b -= lr * gb / np.sqrt(gb2)
        model.weights = w.astype(np.float32)
        model.bias = b

        def accuracy(ids: np.ndarray) -> float | None:
            if len(ids) == 0:
                return None
            hits = sum((model.score(texts[i]) >= 0.5) == bool(y[i]) for i in ids)
            return round(hits / len(ids), 4)

        cfg.metrics = {
            "train_docs": len(train_idx),
            "holdout_docs": int(n_hold),
            "train_accuracy": accuracy(train_idx),
            "holdout_accuracy": accuracy(hold),
            "epochs": epochs,
            "seed": seed,
        }
        log.info("classifier trained: %s", cfg.metrics)
        return model

    # --- persistence ----------------------------------------------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        """Write ``model.npz`` and ``config.json`` into ``out_dir`` (atomically)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "model.npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, weights=self.weights.astype(np.float32), bias=np.array([self.bias]))
        write_json(out / "config.json", asdict(self.cfg))
        return out

    @classmethod
    def load(cls, model_dir: str | Path) -> LinearClassifier:
        d = Path(model_dir)
        if not (d / "model.npz").exists() or not (d / "config.json").exists():
            raise MixkitError(
                f"no classifier in {d}: expected model.npz and config.json there. "
                "Train one with: mixkit train-classifier --positive GLOB --negative GLOB --out DIR"
            )
        raw = loads((d / "config.json").read_bytes())
        if raw.get("version") != _FORMAT_VERSION:
            raise MixkitError(
                f"classifier {d} has format version {raw.get('version')}, expected {_FORMAT_VERSION}"
            )
        cfg = ClassifierConfig(**raw)
        with np.load(d / "model.npz") as z:
            weights = z["weights"].astype(np.float32)
            bias = float(z["bias"][0])
        if len(weights) != cfg.dim:
            raise MixkitError(
                f"classifier {d}: weights have {len(weights)} buckets but config says {cfg.dim}"
            )
        return cls(cfg, weights, bias)


class QualityClassifier(Annotator):
    """Score each document with a trained ``LinearClassifier`` into ``meta[field]`` (probability, 0..1).

    Drops nothing: threshold with ``select`` (``- select: {field: quality, min: 0.5}``).
    """

    name = "quality_classifier"

    class Params(StepParams):
        model: str = Field(
            description="directory written by `mixkit train-classifier` (model.npz, config.json)"
        )
        field: str = Field("quality", description="meta key the score is written to")
        digits: int = Field(
            6, ge=1, le=12, description="decimal places kept (stable output across platforms)"
        )

    def setup(self) -> None:
        self._model = LinearClassifier.load(self.params.model)

    def annotate(self, doc: Document, ctx: ShardContext) -> None:
        doc.meta[self.params.field] = round(self._model.score(doc.text), self.params.digits)
