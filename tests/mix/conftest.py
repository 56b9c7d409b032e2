"""Fixtures for the mix tests: the same real tokenizer and curated-shard workdirs as tests/pack."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pack"))

from packdata import corpus_texts, make_recipe


@pytest.fixture(scope="session")
def mix_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mixkit.pack.tokenizer import train_bpe

    texts = corpus_texts("en", 300) + corpus_texts("zh", 150) + corpus_texts("code", 80)
    return train_bpe(texts, 1500, tmp_path_factory.mktemp("tok") / "tokenizer")


@pytest.fixture
def make_workdir(mix_tokenizer_dir: Path):
    """Factory: make_workdir(tmp_path, docs={channel: {source: [texts]}}, mix=..., pack=...) -> Recipe."""

    def factory(tmp_path: Path, docs, mix=None, pack=None, seed: int = 1234, name: str = "t"):
        return make_recipe(tmp_path, mix_tokenizer_dir, docs, mix=mix, pack=pack, seed=seed, name=name)

    return factory
