"""Helpers for the train tests (imported by conftest and the tests).

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

import copy
import pydoc_data.topics
from pathlib import Path
from typing import Any

import numpy as np
import torch

SEQ_LEN = 64


class SyntheticStream:
    """A plan-like packed stream over in-memory documents (see the module docstring)."""

    def __init__(
        self,
        docs: dict[str, list[list[int]]],
        weights: dict[str, float],
        vocab_size: int,
        seq_len: int = SEQ_LEN,
    ) -> None:
        self.docs = docs
        self.channels = list(docs)
        self.vocab_size = vocab_size
        self.seq_len = seq_len
        self._weights = dict(weights)
        # generator state at the start of the next sequence to build
        self._gen = {
            "emitted": dict.fromkeys(self.channels, 0),
            "cursor": dict.fromkeys(self.channels, 0),
            "pending": None,
            "weights": dict(weights),
        }
        self._snap: list[dict[str, Any]] = []  # generator state at the start of sequence i
        self._seqs: list[tuple[dict[str, torch.Tensor], list[tuple[str, int]]]] = []
        self.reads: dict[int, list[tuple[str, int]]] = {}  # sequence index -> documents started in it
        self.reweights: list[tuple[int, dict[str, float]]] = []
        self.stages: list[tuple[int, str]] = [(0, "main")]

    # -- plan
    def _next_doc(self, g: dict[str, Any]) -> tuple[str, int]:
        total = sum(g["emitted"].values())
        # furthest behind its target share, in tokens; ties -> channel order
        c = max(self.channels, key=lambda ch: g["weights"][ch] * (total + 1) - g["emitted"][ch])
        i = g["cursor"][c]
        if i >= len(self.docs[c]):
            raise IndexError(f"channel {c} ran out of documents")
        g["cursor"][c] += 1
        return c, i

    def _build(self) -> None:
        g = self._gen
        self._snap.append(copy.deepcopy(g))
        ids, pos, lab, ch, starts = [], [], [], [], []
        while len(ids) < self.seq_len:
            if g["pending"] is None:
                c, i = self._next_doc(g)
                g["pending"] = (c, i, 0)
                starts.append((c, i))
            c, i, off = g["pending"]
            doc = self.docs[c][i]
            take = min(len(doc) - off, self.seq_len - len(ids))
            ids += doc[off : off + take]
            # as mixkit.mix.stream.Stream.channel_sequence: a piece starts a document or (a continued document)
            # the sequence; either way positions restart at 0 and its first token has no target
            pos += list(range(take))
            lab += [-100, *doc[off + 1 : off + take]]
            ch += [self.channels.index(c)] * take
            g["emitted"][c] += take
            g["pending"] = None if off + take == len(doc) else (c, i, off + take)
        sample = {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(lab),
            "position_ids": torch.tensor(pos),
            "channel_ids": torch.tensor(ch),
        }
        self._seqs.append((sample, starts))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        while len(self._seqs) <= index:
            self._build()
        sample, starts = self._seqs[index]
        self.reads[index] = starts
        return {k: v.clone() for k, v in sample.items()}

    def __len__(self) -> int:
        return 10**9

    def weights(self, position: int = 0) -> dict[str, float]:
        return dict(self._weights)

    def reweight(self, weights: dict[str, float], position: int) -> None:
        while len(self._seqs) < position:
            self._build()
        self._gen = copy.deepcopy(self._snap[position]) if position < len(self._snap) else self._gen
        del self._snap[position:], self._seqs[position:]
        self._gen["weights"] = dict(weights)
        self._gen["emitted"] = dict.fromkeys(self.channels, 0)  # targets apply from here on
        self._weights = dict(weights)
        self.reweights.append((position, dict(weights)))

    def stage_at(self, position: int) -> str:
        return [name for start, name in self.stages if start <= position][-1]

    def state_dict(self) -> dict[str, Any]:
        return {"reweights": [[p, w] for p, w in self.reweights]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for position, weights in state["reweights"]:
            self.reweight(weights, position)


TINY_LLAMA = {
    "architecture": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
}


def read_metrics(path: Path, kind: str = "train") -> list[dict[str, Any]]:
    import orjson

    return [r for r in map(orjson.loads, path.read_bytes().splitlines()) if r.get("kind") == kind]


def build_corpus(tokenizer_path: Path) -> dict[str, list[list[int]]]:
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


def make_train_recipe(base: Path, tokenizer_path: Path, workdir: str = "run", **train: Any) -> Any:
    """A Recipe with a train: section over a tiny random-init Llama (deterministic, 1 thread), workdir under
    ``base``; keyword arguments override train keys."""
    from mixkit.recipe.schema import Recipe

    src = base / "src.jsonl"
    src.write_text('{"text": "x"}\n')
    cfg = {
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
    cfg.update(train)
    recipe = Recipe.model_validate(
        {
            "name": "t",
            "workdir": workdir,
            "tokenizer": str(tokenizer_path),
            "sources": [{"name": "s", "path": "src.jsonl", "channel": "en"}],
            "train": cfg,
        }
    )
    recipe._base = base
    return recipe


def make_synthetic_stream(
    tokenizer_path: Path,
    weights: dict[str, float] | None = None,
    channels: tuple[str, ...] = ("easy", "prose", "noise"),
    corpus: dict[str, list[list[int]]] | None = None,
) -> SyntheticStream:
    from tokenizers import Tokenizer

    corpus = corpus or build_corpus(tokenizer_path)
    vocab = Tokenizer.from_file(str(tokenizer_path)).get_vocab_size()
    docs = {c: corpus[c] for c in channels}
    return SyntheticStream(docs, weights or {c: 1 / len(channels) for c in channels}, vocab)
