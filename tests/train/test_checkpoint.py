"""Exact resume: interrupted runs (exception, SIGTERM, SIGKILL) resumed with --resume match an uninterrupted
run bitwise on CPU (deterministic algorithms, one thread)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import read_metrics

from mixkit.pipeline.layout import Workdir
from mixkit.train.loop import TrainError, latest_checkpoint, run_train

# ppl_trend every 3 steps: the reweighter's state and the stream's reweight history must survive resume too.
TRAIN = {
    "max_steps": 10,
    "save_every": 4,
    "grad_accum": 2,
    "micro_batch_size": 2,
    "reweight": {"method": "ppl_trend", "every": 3, "step_size": 0.5},
}
KEYS = ("step", "loss", "lr", "channel_loss", "tokens", "window_tokens", "grad_norm", "position")


def _records(recipe, kind="train"):
    return read_metrics(Workdir.of(recipe).train / "metrics.jsonl", kind)


def _strip(records):
    return [{k: r[k] for k in KEYS} for r in records]


@pytest.fixture
def reference(make_recipe, make_stream):
    recipe = make_recipe("ref", **TRAIN)
    out = run_train(recipe, stream=make_stream())
    assert out["status"] == "completed" and out["step"] == 10
    return recipe


class Crash(RuntimeError):
    pass


def _crash_at(step):
    def hook(info):
        if info["step"] == step:
            raise Crash(f"killed at step {step}")

    return hook


def test_resume_after_crash_is_bitwise(reference, make_recipe, make_stream):
    recipe = make_recipe("crashed", **TRAIN)
    with pytest.raises(Crash):
        run_train(recipe, stream=make_stream(), hooks=[_crash_at(7)])
    assert latest_checkpoint(Workdir.of(recipe).train).name == "step-00000004"
    # a crashed run left records for steps 5..7 which resume must rewrite, not duplicate
    assert [r["step"] for r in _records(recipe)][-1] == 7
    with pytest.raises(TrainError, match="--resume"):
        run_train(recipe, stream=make_stream())
    out = run_train(recipe, resume=True, stream=make_stream())
    assert out["status"] == "completed"
    got, want = _strip(_records(recipe)), _strip(_records(reference))
    assert [r["step"] for r in got] == list(range(1, 11))
    assert got == want  # bitwise: JSON floats round-trip exactly
    assert _records(recipe, "reweight") == _records(reference, "reweight")
    assert len(_records(reference, "reweight")) >= 2


def test_sigterm_checkpoints_and_resumes(reference, make_recipe, make_stream):
    recipe = make_recipe("sigterm", **TRAIN)

    def term(info):
        if info["step"] == 6:
            signal.raise_signal(signal.SIGTERM)

    out = run_train(recipe, stream=make_stream(), hooks=[term])
    assert out["status"] == "interrupted" and out["step"] == 6
    assert latest_checkpoint(Workdir.of(recipe).train).name == "step-00000006"
    run_train(recipe, resume=True, stream=make_stream())
    assert _strip(_records(recipe)) == _strip(_records(reference))


SCRIPT = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {helpers!r})
from train_helpers import make_synthetic_stream, make_train_recipe
from mixkit.train.loop import run_train
train = {train!r}
recipe = make_train_recipe(Path({base!r}), Path({tok!r}), "killed", **train)
def kill(info):
    if info["step"] == 6:
        os.kill(os.getpid(), signal.SIGKILL)
run_train(recipe, stream=make_synthetic_stream(Path({tok!r})), hooks=[kill])
"""


def test_sigkill_then_resume(reference, make_recipe, make_stream, tmp_path, tokenizer_path):
    code = SCRIPT.format(
        helpers=str(Path(__file__).parent), train=TRAIN, base=str(tmp_path), tok=str(tokenizer_path)
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    recipe = make_recipe("killed", **TRAIN)
    assert latest_checkpoint(Workdir.of(recipe).train).name == "step-00000004"
    run_train(recipe, resume=True, stream=make_stream())
    assert _strip(_records(recipe)) == _strip(_records(reference))
