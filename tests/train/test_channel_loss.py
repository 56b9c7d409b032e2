"""Channel loss is exact: logged per-channel losses equal an offline recompute with a separate forward."""

from __future__ import annotations

import math

import pytest
import torch
from train_helpers import TINY_LLAMA, read_metrics

from mixkit.train.channel_loss import ChannelLossMeter, causal_lm_loss
from mixkit.train.data import collate


def _tiny_model(vocab: int, seed: int = 0):
    from transformers import AutoConfig, AutoModelForCausalLM

    kw = dict(TINY_LLAMA)
    kw.pop("architecture")
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(AutoConfig.for_model("llama", vocab_size=vocab, **kw))


def _offline_channel_losses(model, batch, channels) -> dict[str, float]:
    """Independent recompute: one separate forward per channel through transformers' own loss, with every
    label of the other channels masked; returns the token-weighted mean loss per channel."""
    out = {}
    with torch.no_grad():
        for k, name in enumerate(channels):
            # the label at t is predicted from t-1; it belongs to the channel of token t
            labels = torch.where(batch["channel_ids"] == k, batch["labels"], -100)
            if (labels[:, 1:] != -100).sum() == 0:
                continue
            res = model(
                input_ids=batch["input_ids"],
                position_ids=batch["position_ids"],
                labels=labels,
                use_cache=False,
            )
            out[name] = float(res.loss)
    return out


def test_packed_mixed_batch_matches_offline(make_stream):
    stream = make_stream()
    batch = collate([stream[i] for i in range(6)])
    assert len(set(batch["channel_ids"][0].tolist())) > 1, "the fixture must mix channels within a sequence"
    model = _tiny_model(stream.vocab_size)
    logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
    loss, stats = causal_lm_loss(logits, batch["labels"], batch["channel_ids"], 3)
    meter = ChannelLossMeter(stream.channels)
    meter.stats += stats
    got = meter.collect()
    want = _offline_channel_losses(model, batch, stream.channels)
    assert set(got["channel_loss"]) == set(want) == set(stream.channels)
    for c in want:
        assert got["channel_loss"][c] == pytest.approx(want[c], rel=1e-5)
    # the backward loss is the token-weighted mean of the channel losses
    assert float(loss.detach()) == pytest.approx(got["loss"], rel=1e-6)
    n_valid = int((batch["labels"][:, 1:] != -100).sum())
    assert got["n_tokens"] == n_valid
    # ignored positions (doc starts + the last position of every row) land in the overflow row
    assert int(stats[-1, 1]) == batch["labels"].numel() - n_valid
    assert float(stats[-1, 0]) == 0.0


def test_logged_channel_loss_equals_offline_recompute(make_recipe, make_stream):
    """Through the loop: train 3 steps (checkpoint at 2), then recompute step 3's channel losses from the
    step-2 weights with a separate forward per channel on the same batches (grad_accum=2)."""
    from safetensors.torch import load_file

    from mixkit.pipeline.layout import Workdir
    from mixkit.train.loop import run_train

    recipe = make_recipe(max_steps=3, save_every=2, keep_checkpoints=5, grad_accum=2, micro_batch_size=3)
    stream = make_stream()
    run_train(recipe, stream=stream)
    train_dir = Workdir.of(recipe).train
    rec = read_metrics(train_dir / "metrics.jsonl")[-1]
    assert rec["step"] == 3
    model = _tiny_model(stream.vocab_size)
    model.load_state_dict(load_file(train_dir / "checkpoints" / "step-00000002" / "model.safetensors"))
    fresh = make_stream()
    position = 2 * 3 * 2  # two steps of 2 micro-batches of 3 sequences
    batches = [collate([fresh[i] for i in range(position + 3 * m, position + 3 * m + 3)]) for m in range(2)]
    # token-weighted merge of the per-micro-batch offline losses
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for b in batches:
        per = _offline_channel_losses(model, b, stream.channels)
        for k, c in enumerate(stream.channels):
            n = int(((b["channel_ids"][:, 1:] == k) & (b["labels"][:, 1:] != -100)).sum())
            if n:
                sums[c] = sums.get(c, 0.0) + per[c] * n
                counts[c] = counts.get(c, 0) + n
    for c in stream.channels:
        assert rec["channel_loss"][c] == pytest.approx(sums[c] / counts[c], rel=1e-5)
    assert rec["loss"] == pytest.approx(sum(sums.values()) / sum(counts.values()), rel=1e-5)
    assert all(math.isfinite(v) for v in rec["channel_loss"].values())
