"""Fixtures for the train tests: a real BPE tokenizer trained on local text, and a synthetic packed stream.

``SyntheticStream`` implements the ``TrainStream`` protocol the loop trains on, with the semantics of a mix
plan: documents of each channel are consumed in order, the channel furthest behind its target share (in tokens)
goes next, documents are packed back to back into ``seq_len`` sequences (``position_ids`` restart at every
document, ``labels`` are ``-100`` at a document's first token), and ``reweight(weights, k)`` rebuilds the
sequences from ``k`` on from the exact generator state at ``k``: nothing before ``k`` changes, no document is
repeated or skipped. It records every sequence the loop reads, so tests can check that against the plan.
"""

from __future__ import annotations

import pydoc_data.topics
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from train_helpers import TINY_LLAMA, SyntheticStream


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
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    texts = [t for t in pydoc_data.topics.topics.values() if len(t) > 200]
    prose = [tok.encode(t[:600]).ids for t in texts[:200]]
    easy_text = [
        "the cat sat on the mat. " * 4,
        "a dog ran in the park. " * 4,
        "one two three four five. " * 4,
    ]
    easy = [tok.encode(easy_text[i % 3]).ids for i in range(300)]
    rng = np.random.default_rng(0)
    vocab = tok.get_vocab_size()
    noise = [rng.integers(1, vocab, size=int(rng.integers(20, 60))).tolist() for _ in range(300)]
    return {"easy": easy, "prose": prose, "noise": noise}


@pytest.fixture
def make_stream(corpus, tokenizer_path):
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(tokenizer_path)).get_vocab_size()

    def make(weights: dict[str, float] | None = None, channels: tuple[str, ...] = ("easy", "prose", "noise")):
        docs = {c: corpus[c] for c in channels}
        w = weights or {c: 1 / len(channels) for c in channels}
        return SyntheticStream(docs, w, vocab)

    return make


@pytest.fixture
def make_recipe(tmp_path: Path, tokenizer_path: Path):
    """A Recipe with a train: section over a tiny random-init Llama, workdir under tmp_path."""
    from mixkit.recipe.schema import Recipe

    def make(workdir: str = "run", **train: Any):
        src = tmp_path / "src.jsonl"
        src.write_text('{"text": "x"}\n')
        base = {
            "model": {"config": dict(TINY_LLAMA)},
            "micro_batch_size": 4,
            "max_steps": 10,
            "lr": 3e-3,
            "log_every": 1,
            "deterministic": True,
            "threads": 1,
            "save_final": False,
            "schedule": {"name": "cosine", "warmup_steps": 2},
        }
        base.update(train)
        r = Recipe.model_validate(
            {
                "name": "t",
                "workdir": workdir,
                "sources": [{"name": "s", "path": "src.jsonl", "channel": "en"}],
                "tokenizer": str(tokenizer_path),
                "train": base,
            }
        )
        r._base = tmp_path
        return r

    return make
