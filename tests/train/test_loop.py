"""The loop end to end on a synthetic packed stream: metrics, validation, TensorBoard, final model, errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from train_helpers import make_synthetic_stream, read_metrics

from mixkit.pipeline.layout import Workdir
from mixkit.train.loop import TrainError, run_train


def test_train_writes_metrics_val_tensorboard_and_model(make_recipe, make_stream, corpus, tokenizer_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from transformers import AutoModelForCausalLM

    recipe = make_recipe(max_steps=6, log_every=2, val_every=3, val_batches=2, save_final=True)
    # held-out stream: other documents of the same channels
    held_out = {c: docs[-40:] for c, docs in corpus.items()}
    val = make_synthetic_stream(tokenizer_path, corpus=held_out)
    val_items = [val[i] for i in range(8)]
    out = run_train(recipe, stream=make_stream(), val_stream=val_items)
    train_dir = Workdir.of(recipe).train
    assert out["status"] == "completed" and out["step"] == 6
    recs = read_metrics(train_dir / "metrics.jsonl")
    assert [r["step"] for r in recs] == [2, 4, 6]
    for r in recs:
        assert set(r["channel_loss"]) == {"easy", "prose", "noise"}
        assert sum(r["window_tokens"].values()) > 0 and r["tokens_per_s"] > 0 and r["lr"] > 0
    assert recs[-1]["tokens"]["easy"] > recs[0]["tokens"]["easy"]  # cumulative
    vals = read_metrics(train_dir / "metrics.jsonl", "val")
    assert [v["step"] for v in vals] == [3, 6]
    for v in vals:
        assert set(v["val_ppl"]) == {"easy", "prose", "noise"}
        for c, loss in v["val_loss"].items():
            assert v["val_ppl"][c] == pytest.approx(math.exp(loss))
    events = EventAccumulator(str(train_dir / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss/total", "channel_loss/easy", "channel_loss/prose", "channel_loss/noise", "lr"} <= tags
    assert {"val_ppl/easy", "val_ppl/noise"} <= tags
    assert [e.step for e in events.Scalars("channel_loss/noise")] == [2, 4, 6]
    model = AutoModelForCausalLM.from_pretrained(out["final_model"])
    assert model.config.vocab_size == make_stream().vocab_size


def test_model_smaller_than_vocab_is_a_clear_error(make_recipe, make_stream):
    from train_helpers import TINY_LLAMA

    recipe = make_recipe(model={"config": {**TINY_LLAMA, "vocab_size": 100}})
    with pytest.raises(TrainError, match="embedding has 100 rows"):
        run_train(recipe, stream=make_stream())


def test_no_train_section(make_recipe):
    recipe = make_recipe()
    recipe.train = None
    with pytest.raises(TrainError, match="no train: section"):
        run_train(recipe)


def test_continue_from_a_local_checkpoint_folder(make_recipe, make_stream):
    """CPT proper: the second run starts from the first run's saved HF folder (path relative to the recipe)."""
    import torch
    from safetensors.torch import load_file

    first = run_train(make_recipe("first", max_steps=2, save_final=True), stream=make_stream())
    final = first["final_model"]
    recipe = make_recipe(
        "second",
        max_steps=2,
        model={"path": "first/train/final"},
        schedule={"name": "rewarm", "warmup_steps": 1, "start_lr_ratio": 0.1},
    )
    out = run_train(recipe, stream=make_stream())
    recs = read_metrics(Workdir.of(recipe).train / "metrics.jsonl")
    assert recs[0]["lr"] == pytest.approx(3e-3 * 0.1)  # re-warming starts from the old run's lr
    # same seed and data: a fresh init would reproduce the first run's first loss exactly; starting from the
    # trained weights gives a lower one
    first_recs = read_metrics(Workdir.of(make_recipe("first")).train / "metrics.jsonl")
    assert recs[0]["loss"] < first_recs[0]["loss"]
    start = load_file(f"{final}/model.safetensors")
    ckpt = load_file(Path(out["checkpoint"]) / "model.safetensors")
    name = next(k for k in start if k.endswith("q_proj.weight"))
    assert not torch.equal(start[name], ckpt[name])  # and it trained further
