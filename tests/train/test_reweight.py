"""Dynamic reweighting: ppl_trend and doremi math, and the loop on a 3-channel stream (no repeats, no skips)."""

from __future__ import annotations

import math

import orjson
import pytest
from train_helpers import read_metrics

from mixkit.pipeline.layout import Workdir
from mixkit.train.loop import run_train
from mixkit.train.reweight import DoReMi, PplTrend, ReweightError, build_reweighter, read_reference_losses


def test_ppl_trend_raises_slowest_channel_bounded():
    r = PplTrend({"step_size": 0.2, "min_weight": 0.0})
    w = {"a": 0.4, "b": 0.4, "c": 0.2}
    assert r.update({"a": 4.0, "b": 4.0, "c": 6.0}, w, 10) is None  # first window: baseline only
    # a falls 25%, b 10%, c rises 5%: c learns slowest, then b
    new = r.update({"a": 3.0, "b": 3.6, "c": 6.3}, w, 20)
    assert math.isclose(sum(new.values()), 1.0)
    assert new["c"] > w["c"] and new["a"] < w["a"]
    # bounded: before renormalisation no weight moves by more than a factor exp(step_size)
    ratios = [new[k] / w[k] for k in w]
    assert max(ratios) / min(ratios) <= math.exp(0.4) + 1e-12
    assert r.state_dict() == {"prev": {"a": 3.0, "b": 3.6, "c": 6.3}}


def test_ppl_trend_floor_and_flat_windows():
    r = PplTrend({"step_size": 2.0, "min_weight": 0.1})
    r.update({"a": 1.0, "b": 1.0}, {"a": 0.5, "b": 0.5}, 1)
    assert r.update({"a": 1.0, "b": 1.0}, {"a": 0.5, "b": 0.5}, 2) is None  # equal trends: no change
    w = {"a": 0.5, "b": 0.5}
    for i in range(3, 10):
        w = r.update({"a": 1.0 / i, "b": 1.0}, w, i) or w
    assert w["a"] == pytest.approx(0.1) and w["b"] == pytest.approx(0.9)


def test_doremi_exponentiated_gradient_with_smoothing(tmp_path):
    ref = tmp_path / "metrics.jsonl"
    lines = [{"kind": "train", "step": s, "channel_loss": {"a": 2.0, "b": 3.0}} for s in range(1, 11)]
    ref.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    r = build_reweighter("doremi", {"reference": "metrics.jsonl", "eta": 1.0, "smoothing": 0.1}, tmp_path)
    assert isinstance(r, DoReMi)
    # excess: a = 2.5 - 2.0 = 0.5, b = max(2.9 - 3.0, 0) = 0
    new = r.update({"a": 2.5, "b": 2.9}, {"a": 0.5, "b": 0.5}, 1)
    alpha_a = math.exp(0.5) / (math.exp(0.5) + 1)
    assert r.alpha["a"] == pytest.approx(alpha_a)
    assert new["a"] == pytest.approx(0.9 * alpha_a + 0.1 * 0.5)
    assert math.isclose(sum(new.values()), 1.0)
    # alpha accumulates across windows (it is the method's state, saved in checkpoints)
    again = DoReMi(r.params, tmp_path)
    again.load_state_dict(r.state_dict())
    assert again.update({"a": 2.5, "b": 2.9}, new, 2)["a"] > new["a"]


def test_doremi_missing_reference_is_a_clear_error(tmp_path):
    r = build_reweighter("doremi", {"reference": "nope/metrics.jsonl"}, tmp_path)
    with pytest.raises(ReweightError, match="reference run"):
        r.update({"a": 1.0}, {"a": 1.0}, 1)


def _check_no_repeat_no_skip(stream, consumed: int) -> dict[str, int]:
    """Every sequence below ``consumed`` was read exactly as the final plan has it, and each channel's
    documents were started in order 0, 1, 2, ... with none twice and none missing."""
    assert sorted(stream.reads) == list(range(consumed))
    for i in range(consumed):
        _, starts = stream._seqs[i]
        assert stream.reads[i] == starts, f"sequence {i} changed after it was trained on"
    started: dict[str, list[int]] = {c: [] for c in stream.channels}
    for i in range(consumed):
        for c, d in stream.reads[i]:
            started[c].append(d)
    for c, docs in started.items():
        assert docs == list(range(len(docs))), f"channel {c}: documents repeated or skipped"
    return {c: len(d) for c, d in started.items()}


def test_ppl_trend_raises_the_slowest_channel_in_the_loop(make_recipe, make_stream):
    """'noise' (random tokens) cannot be learned: its loss falls slowest, so its weight must go up within a
    few windows; every weight change keeps the stream free of repeats and skips."""
    recipe = make_recipe(
        max_steps=24,
        lr=1e-2,
        log_every=4,
        schedule={"name": "constant", "warmup_steps": 0},
        reweight={"method": "ppl_trend", "every": 4, "step_size": 0.3},
    )
    stream = make_stream()
    run_train(recipe, stream=stream)
    metrics = Workdir.of(recipe).train / "metrics.jsonl"
    rw = read_metrics(metrics, "reweight")
    assert len(rw) >= 1 and rw[0]["step"] <= 12  # the first update comes in the second or third window
    assert rw[-1]["weights"]["noise"] > 1 / 3 + 0.05
    assert rw[0]["weights"]["noise"] > rw[0]["previous_weights"]["noise"]
    assert [p for p, _ in stream.reweights] == [r["position"] for r in rw]
    docs = _check_no_repeat_no_skip(stream, 24 * 4)
    assert min(docs.values()) > 0
    # the realised token share of noise after the last reweight follows the new weight
    train = read_metrics(metrics)
    share = train[-1]["window_tokens"]["noise"] / sum(train[-1]["window_tokens"].values())
    assert share > 1 / 3


def test_doremi_in_the_loop_reads_a_reference_run(make_recipe, make_stream):
    """A reference run's metrics.jsonl drives doremi in a second run; the channel with the largest excess loss
    over the reference gains weight, and every update is logged."""
    ref = make_recipe("ref", max_steps=12, lr=1e-2, log_every=2)
    run_train(ref, stream=make_stream())
    recipe = make_recipe(
        "doremi",
        max_steps=8,
        lr=1e-2,
        log_every=2,
        reweight={
            "method": "doremi",
            "every": 4,
            "reference": "ref/train/metrics.jsonl",
            "eta": 1.0,
            "smoothing": 0.01,
        },
    )
    stream = make_stream()
    run_train(recipe, stream=stream)
    rw = read_metrics(Workdir.of(recipe).train / "metrics.jsonl", "reweight")
    assert [r["step"] for r in rw] == [4]
    ref_loss = read_reference_losses(Workdir.of(ref).train / "metrics.jsonl", window=5)
    excess = {c: rw[0]["window_loss"][c] - ref_loss[c] for c in stream.channels}
    top = max(excess, key=excess.get)
    assert excess[top] > 0
    assert rw[0]["weights"][top] > rw[0]["previous_weights"][top]
    assert math.isclose(sum(rw[0]["weights"].values()), 1.0)
    _check_no_repeat_no_skip(stream, 8 * 4)


def test_floor_holds_after_rescaling_and_rejects_impossible_floors():
    import pytest

    from mixkit.errors import MixkitError
    from mixkit.train.reweight import _floor

    w = _floor({"a": 0.0, "b": 0.1, "c": 0.9}, 0.1)  # scaling c down must not push b under the floor
    assert min(w.values()) >= 0.1 - 1e-12 and abs(sum(w.values()) - 1) < 1e-12
    assert w["a"] == w["b"] == 0.1
    with pytest.raises(MixkitError, match="min_weight"):
        _floor({"a": 1.0, "b": 1.0, "c": 1.0}, 0.4)
