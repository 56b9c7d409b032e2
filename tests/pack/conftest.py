"""Fixtures for the pack tests: a real byte-level BPE trained on local text, and workdirs of curated Parquet
shards (the layout the curate stage writes) built from real English prose, Chinese sentences and Python code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from packdata import corpus_texts, make_recipe


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-token byte-level BPE (EOS <|endoftext|>) trained on pydoc topics and Chinese sentences."""
    from mixkit.pack.tokenizer import train_bpe

    texts = corpus_texts("en", 400) + corpus_texts("zh", 200) + corpus_texts("code", 100)
    return train_bpe(texts, 2000, tmp_path_factory.mktemp("tok") / "tokenizer")


@pytest.fixture
def make_workdir(tokenizer_dir: Path):
    """Factory: make_workdir(tmp_path, docs={channel: {source: [texts]}}, mix=..., pack=...) -> Recipe."""

    def factory(tmp_path: Path, docs, mix=None, pack=None, seed: int = 1234, name: str = "t"):
        return make_recipe(tmp_path, tokenizer_dir, docs, mix=mix, pack=pack, seed=seed, name=name)

    return factory
