"""Two processes (torchrun, DDP over gloo on CPU) train exactly like one process reading the same global batch:
the same channel losses and token counts (the one all-reduce per logging step) and, step after step, the same
model (the gradient is the mean over every valid target token of the step, across processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import make_synthetic_stream, make_train_recipe, read_metrics

from mixkit.pipeline.layout import Workdir
from mixkit.train.data import read_micro_batches
from mixkit.train.loop import run_train

SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {helpers!r})
from train_helpers import make_synthetic_stream, make_train_recipe
from mixkit.train.loop import run_train
recipe = make_train_recipe(Path({base!r}), Path({tok!r}), "ddp", max_steps=3, micro_batch_size=2,
                           deterministic=False, save_every=2, val_every=3, val_batches=2)
run_train(recipe, stream=make_synthetic_stream(Path({tok!r})), val_stream=make_synthetic_stream(Path({tok!r})))
"""


def test_two_processes_match_one(tmp_path, tokenizer_path):
    script = tmp_path / "ddp.py"
    script.write_text(
        SCRIPT.format(helpers=str(Path(__file__).parent), base=str(tmp_path), tok=str(tokenizer_path))
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            port,
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = make_train_recipe(
        tmp_path,
        tokenizer_path,
        "single",
        max_steps=3,
        micro_batch_size=4,
        deterministic=False,
        val_every=3,
        val_batches=1,
    )  # the same held-out sequences: val_batches * micro_batch_size = 4 per channel, split over the processes
    run_train(
        single, stream=make_synthetic_stream(tokenizer_path), val_stream=make_synthetic_stream(tokenizer_path)
    )
    ddp = make_train_recipe(tmp_path, tokenizer_path, "ddp")
    start = read_metrics(Workdir.of(ddp).train / "metrics.jsonl", "start")
    assert start[0]["world_size"] == 2
    got = read_metrics(Workdir.of(ddp).train / "metrics.jsonl")
    want = read_metrics(Workdir.of(single).train / "metrics.jsonl")
    assert [r["step"] for r in got] == [1, 2, 3]  # one writer (the main process), no duplicates
    stream = make_synthetic_stream(tokenizer_path)
    counts = {  # valid targets per process at each step, read as the loop reads them
        step: [
            int((b["labels"][:, 1:] != -100).sum())
            for rank in range(2)
            for b in read_micro_batches(stream, (step - 1) * 4, 2, 1, rank, 2)
        ]
        for step in (1, 2, 3)
    }
    # the two processes hold different numbers of valid targets at step 1 (documents start at different places),
    # so only a gradient that is the mean over ALL the step's tokens (not the mean of the two processes' token
    # means) gives the one-process model after that update: steps 2 and 3 check it
    assert counts[1][0] != counts[1][1]
    for g, w in zip(got, want, strict=True):
        assert g["tokens"] == w["tokens"] and g["position"] == w["position"]
        assert g["loss"] == pytest.approx(w["loss"], rel=1e-6)
        for c in w["channel_loss"]:
            assert g["channel_loss"][c] == pytest.approx(w["channel_loss"][c], rel=1e-6)
    (g_val,) = read_metrics(Workdir.of(ddp).train / "metrics.jsonl", "val")
    (w_val,) = read_metrics(Workdir.of(single).train / "metrics.jsonl", "val")
    assert g_val["val_tokens"] == w_val["val_tokens"]
    for c, v in w_val["val_loss"].items():
        assert g_val["val_loss"][c] == pytest.approx(v, rel=1e-6)
    assert (Workdir.of(ddp).train / "checkpoints" / "step-00000002" / "random_states_1.pkl").is_file()
