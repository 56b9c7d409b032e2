"""Tokenizer loading (local Hugging Face folder, ``tokenizer.json``, GPT-2 style vocab/merges, or a hub id) and
a small byte-level BPE trainer for quickstarts and tests.

Everything runs on the Rust ``tokenizers`` library: its ``encode_batch`` tokenizes a batch on a thread pool,
which is what makes packing fast (see benchmarks/pack.py).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixkit.errors import MixkitError, require

log = logging.getLogger("mixkit.pack.tokenizer")

EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|im_end|>", "[SEP]")


@dataclass
class LoadedTokenizer:
    """A ``tokenizers.Tokenizer`` with the facts packing needs: EOS id, vocabulary size, where it came from."""

    tokenizer: Any
    eos_token: str
    eos_id: int
    vocab_size: int
    spec: str

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens added by a post-processor (EOS is added by pack)."""
        return [e.ids for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


def _config_eos(folder: Path) -> str | None:
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        p = folder / name
        if p.is_file():
            try:
                eos = json.loads(p.read_text(encoding="utf-8")).get("eos_token")
            except (OSError, ValueError):
                continue
            if isinstance(eos, dict):
                eos = eos.get("content")
            if isinstance(eos, str) and eos:
                return eos
    return None


def load_tokenizer(spec: str | os.PathLike[str], eos_token: str | None = None) -> LoadedTokenizer:
    """Load a tokenizer from a local folder (``tokenizer.json``, or ``vocab.json``+``merges.txt`` /
    ``encoder.json``+``vocab.bpe``), a ``tokenizer.json`` file, or a Hugging Face hub id (needs network).

    The EOS token is ``eos_token`` if given, else the folder's ``tokenizer_config.json`` ``eos_token``, else the
    first of <|endoftext|>, </s>, <|end_of_text|>, <eos>, <|im_end|>, [SEP] in the vocabulary.
    """
    tokenizers = require("tokenizers", "pack", "tokenization")
    path = Path(spec).expanduser()
    folder: Path | None = None
    if path.is_file():
        tok = tokenizers.Tokenizer.from_file(str(path))
        folder = path.parent
    elif path.is_dir():
        folder = path
        if (path / "tokenizer.json").is_file():
            tok = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        else:
            pairs = [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")]
            found = next(
                ((path / v, path / m) for v, m in pairs if (path / v).is_file() and (path / m).is_file()),
                None,
            )
            if found is None:
                raise MixkitError(
                    f"tokenizer folder {path} has no tokenizer.json (nor vocab.json+merges.txt); save the "
                    "tokenizer with `AutoTokenizer.from_pretrained(...).save_pretrained(folder)`"
                )
            bpe = tokenizers.ByteLevelBPETokenizer(str(found[0]), str(found[1]))
            tok = bpe._tokenizer
    elif str(spec).count("/") <= 1 and not str(spec).startswith((".", "/", "~")):
        try:
            tok = tokenizers.Tokenizer.from_pretrained(str(spec))
        except Exception as exc:
            raise MixkitError(
                f"tokenizer {spec!r} is not a local path and could not be loaded from the Hugging Face hub "
                f"({exc}); give a local tokenizer folder or tokenizer.json"
            ) from exc
    else:
        raise MixkitError(f"tokenizer {spec} not found; give a local tokenizer folder or tokenizer.json")
    eos = eos_token or (_config_eos(folder) if folder else None)
    if eos is None:
        eos = next((c for c in EOS_CANDIDATES if tok.token_to_id(c) is not None), None)
    if eos is None or tok.token_to_id(eos) is None:
        raise MixkitError(
            f"tokenizer {spec}: EOS token {eos!r} is not in its vocabulary; set pack.eos_token to the token that "
            "ends a document"
        )
    return LoadedTokenizer(
        tok, eos, int(tok.token_to_id(eos)), int(tok.get_vocab_size(with_added_tokens=True)), str(spec)
    )


def train_bpe(
    texts: Iterable[str],
    vocab_size: int,
    out_dir: str | os.PathLike[str],
    special_tokens: tuple[str, ...] = ("<|endoftext|>",),
) -> Path:
    """Train a byte-level BPE (GPT-2 style: byte-level pre-tokenizer and decoder; Radford et al. 2019, §2.2)
    on ``texts`` and save it as a Hugging Face tokenizer folder loadable by ``tokenizers`` and
    ``transformers.AutoTokenizer``. The first special token is the EOS (and BOS/UNK/PAD) token.

    Returns the folder. Training is deterministic for the same texts and vocab size.
    """
    tokenizers = require("tokenizers", "pack", "train_bpe")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    eos = special_tokens[0]
    from mixkit.utils import atomic_open, write_json

    with atomic_open(out / "tokenizer.json", "w") as fh:
        fh.write(tok.to_str())
    write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": eos,
            "bos_token": eos,
            "unk_token": eos,
            "pad_token": eos,
            "model_max_length": 1_000_000,
            "clean_up_tokenization_spaces": False,
        },
    )
    write_json(
        out / "special_tokens_map.json",
        {"eos_token": eos, "bos_token": eos, "unk_token": eos, "pad_token": eos},
    )
    log.info("trained a byte-level BPE with %d tokens into %s", tok.get_vocab_size(), out)
    return out
