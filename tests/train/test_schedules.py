"""LR schedules: warmup, cosine, WSD (fixed and stage-triggered decay), re-warming; state round-trip."""

from __future__ import annotations

import itertools
import math

import pytest

from mixkit.train.config import ScheduleConfig
from mixkit.train.schedules import LRSchedule


def test_cosine_warmup_then_decay_to_floor():
    s = LRSchedule(ScheduleConfig(name="cosine", warmup_steps=10, min_lr_ratio=0.1), max_steps=110)
    assert s(0) == 0.0
    assert s(5) == pytest.approx(0.5)
    assert s(10) == pytest.approx(1.0)
    assert s(60) == pytest.approx(0.1 + 0.9 * 0.5)  # half-way through the cosine
    assert s(110) == pytest.approx(0.1)
    values = [s(i) for i in range(10, 111)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_rewarm_starts_from_previous_lr():
    # continual pretraining: warm up again from the old run's final lr (here 10% of the new peak)
    s = LRSchedule(ScheduleConfig(name="rewarm", warmup_steps=20, start_lr_ratio=0.1, min_lr_ratio=0.0), 100)
    assert s(0) == pytest.approx(0.1)
    assert s(10) == pytest.approx(0.55)
    assert s(20) == pytest.approx(1.0)
    assert s(100) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("shape", ["cosine", "linear", "1-sqrt", "exp"])
def test_wsd_stable_then_decay(shape):
    s = LRSchedule(
        ScheduleConfig(name="wsd", warmup_steps=10, decay_fraction=0.2, decay_shape=shape, min_lr_ratio=0.05),
        max_steps=100,
    )
    assert s.decay_start == 80
    assert all(s(i) == 1.0 for i in range(10, 81))
    assert s(90) < 1.0
    assert s(100) == pytest.approx(0.05)
    values = [s(i) for i in range(80, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    if shape == "1-sqrt":
        assert s(85) == pytest.approx(0.05 + 0.95 * (1 - math.sqrt(0.25)))


def test_wsd_decay_triggered_by_stage_and_state_roundtrip():
    cfg = ScheduleConfig(
        name="wsd", warmup_steps=5, decay_on_stage="anneal", min_lr_ratio=0.0, decay_shape="linear"
    )
    s = LRSchedule(cfg, max_steps=100)
    assert s.decay_start is None
    assert s(95) == 1.0  # no stage boundary yet: stays at the peak
    assert s.trigger_decay(60) is True
    assert s.trigger_decay(70) is False  # idempotent
    assert s(60) == 1.0 and s(80) == pytest.approx(0.5) and s(100) == pytest.approx(0.0)
    t = LRSchedule(cfg, max_steps=100)
    t.load_state_dict(s.state_dict())
    assert [t(i) for i in range(101)] == [s(i) for i in range(101)]


def test_stage_boundary_starts_decay_in_the_loop(make_recipe, make_stream):
    """The loop triggers the decay when the stream enters the `anneal` stage."""
    from train_helpers import read_metrics

    from mixkit.pipeline.layout import Workdir
    from mixkit.train.loop import run_train

    recipe = make_recipe(
        max_steps=8,
        micro_batch_size=2,
        schedule={
            "name": "wsd",
            "warmup_steps": 0,
            "decay_on_stage": "anneal",
            "decay_shape": "linear",
            "min_lr_ratio": 0,
        },
    )
    stream = make_stream()
    stream.stages.append((10, "anneal"))  # step 5 starts at sequence 10
    run_train(recipe, stream=stream)
    recs = read_metrics(Workdir.of(recipe).train / "metrics.jsonl")
    lrs = [r["lr"] for r in recs]
    assert lrs[:6] == [3e-3] * 6  # steps 1..6 use lr of steps 0..5: decay starts at step 5 with factor 1
    assert lrs[6] == pytest.approx(3e-3 * 2 / 3) and lrs[7] == pytest.approx(3e-3 / 3)
    assert recs[5]["stage"] == "anneal"
