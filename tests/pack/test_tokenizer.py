"""Tokenizer loading (folder, tokenizer.json, vocab+merges) and the BPE trainer used by the quickstart."""

from __future__ import annotations

import json

import pytest

from mixkit.errors import MixkitError
from mixkit.pack.tokenizer import load_tokenizer, train_bpe

TEXT = "Data mixing ratios decide continual pretraining. 数据混合比例很重要。def f(x): return x"


def test_trained_bpe_loads_everywhere(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    assert tok.eos_token == "<|endoftext|>"
    assert tok.tokenizer.token_to_id("<|endoftext|>") == tok.eos_id
    assert tok.vocab_size == 2000
    ids = tok.encode_batch([TEXT])[0]
    assert tok.tokenizer.decode(ids) == TEXT  # byte-level: lossless, Chinese included
    assert tok.eos_id not in ids  # pack appends EOS itself
    transformers = pytest.importorskip("transformers")
    hf = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    assert hf.eos_token == "<|endoftext|>"
    assert hf(TEXT, add_special_tokens=False)["input_ids"] == ids
    assert load_tokenizer(tokenizer_dir / "tokenizer.json").encode_batch([TEXT])[0] == ids


def test_train_bpe_is_deterministic(tmp_path):
    texts = [TEXT * 3, "hello world " * 20, "数据" * 30]
    a = train_bpe(texts, 300, tmp_path / "a")
    b = train_bpe(texts, 300, tmp_path / "b")
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()


def test_vocab_merges_folder(tmp_path, tokenizer_dir):
    """A GPT-2 style folder (vocab.json + merges.txt, no tokenizer.json) loads too."""
    model = json.loads((tokenizer_dir / "tokenizer.json").read_text())["model"]
    (tmp_path / "vocab.json").write_text(json.dumps(model["vocab"]))
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tok = load_tokenizer(tmp_path)
    assert tok.eos_token == "<|endoftext|>"
    assert (
        tok.encode_batch(["hello world"])[0] == load_tokenizer(tokenizer_dir).encode_batch(["hello world"])[0]
    )


def test_errors_say_how_to_fix(tmp_path, tokenizer_dir):
    with pytest.raises(MixkitError, match=r"no tokenizer\.json"):
        load_tokenizer(tmp_path)
    with pytest.raises(MixkitError, match="not found"):
        load_tokenizer(tmp_path / "nope" / "deeper")
    with pytest.raises(MixkitError, match=r"pack\.eos_token"):
        load_tokenizer(tokenizer_dir, eos_token="</s>")
