"""Fixtures for the train tests: a real BPE tokenizer trained on local text, and a synthetic packed stream.

``SyntheticStream`` implements the ``TrainStream`` protocol the loop trains on, with the semantics of a mix
plan: documents of each channel are consumed in order, the channel furthest behind its target share (in tokens)
goes next, documents are packed back to back into ``seq_len`` sequences with the layout of the real stream
(``mixkit.mix.stream.Stream.channel_sequence``: ``position_ids`` restart at 0 at every document start AND at the
sequence start, where a document cut by the previous sequence continues; ``labels`` are ``-100`` at those same
positions), and ``reweight(weights, k)`` rebuilds the
sequences from ``k`` on from the exact generator state at ``k``: nothing before ``k`` changes, no document is
repeated or skipped. It records every sequence the loop reads, so tests can check that against the plan.
"""

from __future__ import annotations

import pydoc_data.topics
from pathlib import Path
from typing import Any

import pytest
from train_helpers import build_corpus, make_synthetic_stream, make_train_recipe


@pytest.fixture(scope="session")
def tokenizer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 512-token byte-level BPE trained with `tokenizers` on Python's pydoc topics (English prose)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    texts = list(pydoc_data.topics.topics.values())
    tok.train_from_iterator(texts, trainer=trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


@pytest.fixture(scope="session")
def corpus(tokenizer_path: Path) -> dict[str, list[list[int]]]:
    """Three channels of tokenised documents: 'easy' (a few repeated sentences), 'prose' (pydoc topics) and
    'noise' (uniformly random token ids: no model can learn it, so its loss falls slowest)."""
    return build_corpus(tokenizer_path)


@pytest.fixture
def make_stream(corpus, tokenizer_path):
    def make(weights: dict[str, float] | None = None, channels: tuple[str, ...] = ("easy", "prose", "noise")):
        return make_synthetic_stream(tokenizer_path, weights, channels, corpus)

    return make


@pytest.fixture
def make_recipe(tmp_path: Path, tokenizer_path: Path):
    """A Recipe with a train: section over a tiny random-init Llama, workdir under tmp_path."""

    def make(workdir: str = "run", **train: Any):
        return make_train_recipe(tmp_path, tokenizer_path, workdir, **train)

    return make
