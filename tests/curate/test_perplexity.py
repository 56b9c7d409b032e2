"""perplexity: a real KenLM model (a unigram ARPA file written here) scores documents; select cuts on it."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from mixkit.curate.perplexity import Perplexity
from mixkit.curate.select import Select
from mixkit.errors import MissingDependencyError, MixkitError
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document

TRAIN = [
    "the cat sat on the mat",
    "the dog sat on the rug",
    "a cat and a dog played in the garden",
    "the bird sang in the garden",
]


def write_unigram_arpa(path, sentences):
    """A valid ARPA model with add-one smoothed unigrams (log10 probabilities) and a single bigram ``<s> the`` whose
    probability equals the unigram's, so every score reduces to the unigram formula (backoff weights 0)."""
    counts = Counter(w for s in sentences for w in s.split())
    counts["</s>"] = len(sentences)
    vocab = [*sorted(counts), "<unk>"]
    total = sum(counts.values()) + len(vocab)
    logp = {w: math.log10((counts.get(w, 0) + 1) / total) for w in vocab}
    lines = ["\\data\\", f"ngram 1={len(vocab) + 1}", "ngram 2=1", "", "\\1-grams:", "-99\t<s>\t0"]
    lines += [f"{logp[w]:.6f}\t{w}\t0" for w in vocab]
    lines += ["", "\\2-grams:", f"{logp['the']:.6f}\t<s> the", "", "\\end\\", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return logp


def test_perplexity_matches_formula_and_ranks(tmp_path):
    pytest.importorskip("kenlm")
    logp = write_unigram_arpa(tmp_path / "lm.arpa", TRAIN)
    step = Perplexity({"model": str(tmp_path / "lm.arpa")})
    docs = [
        Document(id="in", text="The cat sat on the rug\nthe dog sang"),
        Document(id="out", text="Quantum chromodynamics describes gluons"),
    ]
    ctx = ShardContext()
    out = list(step.run(docs, ctx))
    words = ["the", "cat", "sat", "on", "the", "rug", "</s>", "the", "dog", "sang", "</s>"]
    expected = 10 ** (-sum(logp[w] for w in words) / len(words))
    assert out[0].meta["perplexity"] == pytest.approx(expected, rel=1e-4)
    assert out[1].meta["perplexity"] > 2 * out[0].meta["perplexity"]
    kept = [d.id for d in Select({"field": "perplexity", "max": 2 * expected}).run(out, ctx)]
    assert kept == ["in"]


def test_missing_model_file(tmp_path):
    pytest.importorskip("kenlm")
    with pytest.raises(MixkitError, match="does not exist"):
        Perplexity({"model": str(tmp_path / "nope.arpa")}).ensure_setup()


def test_missing_kenlm_is_actionable(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "kenlm", None)  # makes `import kenlm` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"mixkit\[perplexity\]"):
        Perplexity({"model": "x.arpa"}).ensure_setup()
