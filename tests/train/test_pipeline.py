"""Train on mixkit's own stream: curate -> pack -> mix -> train, with reweighting checked against the plan."""

from __future__ import annotations

import json
import pydoc_data.topics
from pathlib import Path

import numpy as np
import yaml
from train_helpers import TINY_LLAMA, read_metrics

from mixkit.pipeline.layout import Workdir


def _write_sources(base: Path, tokenizer_path: Path) -> dict:
    rng = np.random.default_rng(0)
    words = [w for t in list(pydoc_data.topics.topics.values())[:50] for w in t.split()][:5000]
    texts = {
        "easy": ["the cat sat on the mat. " * 6 for _ in range(150)],
        "prose": [t[:800] for t in pydoc_data.topics.topics.values() if len(t) > 300][:150],
        "noise": [" ".join(rng.choice(words, size=60)) for _ in range(150)],
    }
    for ch, docs in texts.items():
        (base / "data").mkdir(exist_ok=True)
        with open(base / "data" / f"{ch}.jsonl", "w") as fh:
            for i, t in enumerate(docs):
                fh.write(json.dumps({"id": f"{ch}-{i}", "text": t}) + "\n")
    return {
        "name": "e2e",
        "workdir": "run",
        "seed": 7,
        "tokenizer": str(tokenizer_path),
        "sources": [{"name": ch, "path": f"data/{ch}.jsonl", "channel": ch} for ch in texts],
        "pack": {"val_docs": 5},
        "mix": {
            "seq_len": 64,
            "total_tokens": 64 * 180,
            "max_epochs": 20,
            "stages": [
                {"name": "main", "ratios": {"easy": 1, "prose": 1, "noise": 1}},
                {"name": "anneal", "tokens": "25%", "ratios": {"easy": 1, "prose": 2, "noise": 1}},
            ],
        },
        "train": {
            "model": {"config": dict(TINY_LLAMA)},
            "micro_batch_size": 4,
            "max_steps": 40,
            "lr": 1e-2,
            "log_every": 4,
            "val_every": 20,
            "val_batches": 2,
            "deterministic": True,
            "threads": 1,
            "save_every": 20,
            "save_final": False,
            "schedule": {"name": "wsd", "warmup_steps": 4, "decay_on_stage": "anneal"},
            "reweight": {"method": "ppl_trend", "every": 8, "step_size": 0.3},
        },
    }


def test_curate_pack_mix_train(tmp_path, tokenizer_path):
    from mixkit.mix.plan import Plan
    from mixkit.mix.stage import run_mix
    from mixkit.pack.stage import run_pack
    from mixkit.pipeline.curate_stage import run_curate
    from mixkit.recipe import load_recipe
    from mixkit.train.loop import run_train

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(_write_sources(tmp_path, tokenizer_path)))
    recipe = load_recipe(path)
    run_curate(recipe)
    run_pack(recipe)
    run_mix(recipe, show=False)
    out = run_train(recipe)
    assert out["status"] == "completed" and out["position"] == 160
    metrics = Workdir.of(recipe).train / "metrics.jsonl"
    train = read_metrics(metrics)
    assert set(train[-1]["channel_loss"]) == {"easy", "prose", "noise"}
    assert [r["stage"] for r in train][-1] == "anneal"
    assert train[-1]["lr"] < train[len(train) // 2]["lr"]  # the anneal stage started the decay
    assert read_metrics(metrics, "val") and set(read_metrics(metrics, "val")[-1]["val_ppl"]) == {
        "easy",
        "prose",
        "noise",
    }
    rw = read_metrics(metrics, "reweight")
    assert rw, "ppl_trend should have changed the weights at least once"

    # Against the plans: replay the logged requests through the stream's own reweight (what the loop called).
    # Positions before each reweight are unchanged, and over the whole run every channel's sequences were read
    # in order 0, 1, 2, ... exactly once (nothing repeated, nothing skipped).
    from mixkit.pack.dataset import PackedStream

    base = Plan.load(Workdir.of(recipe).plan)
    stream = PackedStream(recipe)
    for r in rw:
        before = stream.plan.locate(np.arange(r["position"]))
        stream.reweight(r["requested"], r["position"])
        after = stream.plan.locate(np.arange(r["position"]))
        assert all((a == b).all() for a, b in zip(before, after, strict=True))
        assert stream.weights(r["position"]) == r["weights"]
    ckpt_state = stream.plan
    ch, idx = ckpt_state.locate(np.arange(out["position"]))
    for c in range(len(base.channels)):
        got = idx[ch == c]
        assert (got == np.arange(len(got))).all(), f"channel {base.channels[c]}: repeats or skips"
    # realised shares follow each reweighting until the end of its stage (the Pfair lag: within 1 sequence)
    for r in rw:
        end = min(ckpt_state.segment_at(r["position"]).end, out["position"])
        seg_ch, _ = ckpt_state.locate(np.arange(r["position"], end))
        for c, w in r["weights"].items():
            realised = float((seg_ch == base.channels.index(c)).sum())
            assert abs(realised - w * len(seg_ch)) <= 1.0 + 1e-9

    # the CLI: a finished run resumes to "nothing left to do"; without --resume it refuses to overwrite
    from mixkit.cli import main

    assert main(["train", str(path), "--resume"]) == 0
    assert main(["train", str(path)]) == 1
    assert len(read_metrics(metrics)) == len(train)
