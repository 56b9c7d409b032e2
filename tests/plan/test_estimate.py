"""Memory (ZeRO, activations), FLOPs, time and Chinchilla figures against hand-computed values from the papers."""

from __future__ import annotations

import pytest

from mixkit.plan import Architecture, PlanError, TrainingSetup, estimate
from mixkit.plan.estimate import activation_bytes, model_state_bytes

LLAMA7B = Architecture(vocab=32000, layers=32, hidden=4096, intermediate=11008, heads=32)


def test_zero_stages_follow_rajbhandari_2020() -> None:
    # ZeRO paper, Fig. 1: 7.5B params on 64 GPUs -> 120 GB, 31.4 GB, 16.6 GB, 1.9 GB per GPU (decimal GB).
    psi, n = 7.5e9, 64
    got = [model_state_bytes(int(psi), n, z)["total"] / 1e9 for z in range(4)]
    assert got == pytest.approx([120.0, 31.4, 16.6, 1.875], abs=0.05)
    s1 = model_state_bytes(1000, 10, 1)
    assert (s1["weights"], s1["gradients"], s1["optimizer"]) == (2000, 2000, 1200)


def test_activations_follow_korthikanti_2022() -> None:
    s, b, h, a, L, v = 2048, 1, 4096, 32, 32, 32000
    none = activation_bytes(LLAMA7B, s, b, "none")
    assert none["per_layer"] == s * b * h * (34 + 5 * a * s / h)
    assert none["total"] == L * none["per_layer"] + 5 * s * b * h + 4 * s * b * v
    assert activation_bytes(LLAMA7B, s, b, "selective")["layers"] == L * 34 * s * b * h
    assert activation_bytes(LLAMA7B, s, b, "full")["layers"] == L * 2 * s * b * h
    # Doubling the micro-batch doubles activations; doubling the sequence more than doubles them (s^2 term).
    assert activation_bytes(LLAMA7B, s, 2, "none")["total"] == 2 * none["total"]
    assert activation_bytes(LLAMA7B, 2 * s, 1, "none")["total"] > 2 * none["total"]


def test_flops_time_and_chinchilla() -> None:
    plan = estimate(LLAMA7B, TrainingSetup(gpus=64, tokens=1e12, peak_tflops=1000.0, mfu=0.5))
    n = LLAMA7B.params
    c = plan.compute
    assert c["flops"] == pytest.approx(6 * n * 1e12)
    assert c["seconds"] == pytest.approx(6 * n * 1e12 / (64 * 1000e12 * 0.5))
    assert c["gpu_hours"] == pytest.approx(c["seconds"] * 64 / 3600)
    assert c["chinchilla_tokens"] == pytest.approx(20 * n)
    assert c["tokens_source"] == "given"
    # MFU from a measured throughput: 6N * tokens/s / (GPUs * peak).
    measured = estimate(LLAMA7B, TrainingSetup(gpus=8, throughput=100_000, peak_tflops=1000.0))
    assert measured.compute["mfu"] == pytest.approx(6 * n * 1e5 / (8 * 1e15))
    assert measured.compute["tokens"] == pytest.approx(20 * n)  # default D: Chinchilla-optimal


def test_headline_and_totals() -> None:
    plan = estimate(LLAMA7B, TrainingSetup(gpus=8, zero=3, recompute="full"))
    mem = plan.memory
    assert mem["headline"] == mem["model_states"]["zero3"]["total"] + mem["activations"]["full"]["total"]
    assert mem["total"]["zero0"]["none"] > mem["total"]["zero1"]["none"] > mem["total"]["zero3"]["full"]
    assert plan.to_dict()["params"]["total"] == LLAMA7B.params


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"gpus": 0}, "gpus"), ({"mfu": 1.5}, "MFU"), ({"zero": 4}, "ZeRO"), ({"tokens": -1}, "tokens")],
)
def test_bad_setup_explains(kwargs: dict, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        TrainingSetup(**kwargs)
