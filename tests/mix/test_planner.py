"""The planner: budgets, ratios in tokens, temperature, epoch caps, infeasible recipes with numbers and options."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from mixkit.mix.config import MixConfig, parse_tokens
from mixkit.mix.plan import MixError
from mixkit.mix.planner import build_plan, feasibility, stage_budgets, stage_ratios

CH = ["en", "zh", "code", "domain"]
TOKENS = [400_000_000, 400_000_000, 100_000_000, 17_700_000]


def cfg(**kw) -> MixConfig:
    base = {
        "seq_len": 4096,
        "total_tokens": "200M",
        "max_epochs": 4,
        "stages": [
            {"name": "warmup", "tokens": "5%", "ratios": {"en": 0.45, "zh": 0.45, "code": 0.10}},
            {"name": "main", "ratios": {"en": 0.40, "zh": 0.40, "code": 0.10, "domain": 0.10}},
        ],
    }
    base.update(kw)
    return MixConfig.model_validate(base)


def test_parse_tokens():
    assert parse_tokens("2B") == 2_000_000_000
    assert parse_tokens("2_000_000") == 2_000_000
    assert parse_tokens("1.5e9") == 1_500_000_000
    assert parse_tokens("500M") == 500_000_000
    with pytest.raises(ValueError, match="not a token count"):
        parse_tokens("lots")


def test_budgets_shares_and_rest():
    c = cfg()
    assert stage_budgets(c) == [10_000_000, 190_000_000]
    c2 = cfg(
        total_tokens=None,
        stages=[
            {"name": "a", "tokens": "1M", "ratios": {"en": 1}},
            {"name": "b", "tokens": 3_000_000, "ratios": {"zh": 1}},
        ],
    )
    assert stage_budgets(c2) == [1_000_000, 3_000_000]
    with pytest.raises(ValidationError, match="total_tokens"):
        cfg(total_tokens=None)
    with pytest.raises(ValidationError, match="at most one stage"):
        cfg(stages=[{"name": "a", "ratios": {"en": 1}}, {"name": "b", "ratios": {"en": 1}}])


def test_plan_is_in_tokens_not_documents():
    """Channels get their share of *tokens* whatever their document lengths (which the planner never sees)."""
    plan = build_plan(cfg(), CH, TOKENS, seed=1)
    main = plan.report["stages"][1]
    for c, r in {"en": 0.4, "zh": 0.4, "code": 0.1, "domain": 0.1}.items():
        assert abs(main["planned_tokens"][c] - r * main["tokens"]) <= 4096 * (main["sequences"] // 65536 + 1)
    assert plan.report["stages"][0]["planned_tokens"]["domain"] == 0
    assert plan.total_tokens == (10_000_000 // 4096 + 190_000_000 // 4096) * 4096
    # epochs per channel and per source
    assert plan.report["epochs"]["domain"] == pytest.approx(0.1 * 46384 * 4096 / 17_700_000, rel=1e-3)


def test_infeasible_message_has_numbers_and_options():
    issues = feasibility(cfg(total_tokens="2B"), CH, TOKENS)
    assert len(issues) == 1
    msg = issues[0]
    assert "domain needs 10.7 epochs at 10% of main" in msg
    assert "cap 4 -> lower the ratio to 3.73% in main" in msg
    assert "raise mix.max_epochs to 10.8" in msg and "add 29.8M tokens of domain data" in msg
    with pytest.raises(MixError, match="infeasible"):
        build_plan(cfg(total_tokens="2B"), CH, TOKENS, seed=1)
    none = feasibility(cfg(), CH, [1, 1, 1, 0])
    assert any("domain has no tokens" in m for m in none)


def test_temperature_sampling():
    c = cfg(stages=[{"name": "t", "temperature": 2.0}])
    p = stage_ratios(c, CH, TOKENS)[0]
    expected = np.sqrt(np.array(TOKENS, dtype=float))
    np.testing.assert_allclose(p, expected / expected.sum())
    c2 = cfg(temperature=1e9, stages=[{"name": "t", "channels": ["en", "zh"]}])
    np.testing.assert_allclose(stage_ratios(c2, CH, TOKENS)[0], [0.5, 0.5, 0, 0], atol=1e-6)
    with pytest.raises(ValidationError, match="ratios or a temperature"):
        cfg(stages=[{"name": "t"}])


def test_warnings_and_small_stages():
    plan = build_plan(
        cfg(
            total_tokens=40960 * 10,
            max_epochs=1e6,
            stages=[{"name": "s", "ratios": {"en": 0.999, "domain": 0.001}}],
        ),
        CH,
        TOKENS,
        0,
    )
    assert any("rounds to 0 sequences" in w for w in plan.report["warnings"])
    with pytest.raises(MixError, match="less than one sequence"):
        build_plan(cfg(total_tokens=100, stages=[{"name": "s", "ratios": {"en": 1}}]), CH, TOKENS, 0)
    with pytest.raises(MixError, match="unknown channel"):
        build_plan(cfg(stages=[{"name": "s", "ratios": {"english": 1}}]), CH, TOKENS, 0)


def test_long_stage_is_periodic_and_quantised():
    c = cfg(total_tokens="2B", max_epochs=100, period=4096)
    plan = build_plan(c, CH, TOKENS, seed=3)
    main = [s for s in plan.segments if s.stage == "main"]
    assert main[0].period == 4096 and len(main) == 2
    ch, idx = plan.locate(np.arange(plan.total_sequences))
    for cid in range(4):
        assert (np.sort(idx[ch == cid]) == np.arange(int((ch == cid).sum()))).all()
    assert plan.channel_sequences(plan.total_sequences).sum() == plan.total_sequences


def test_locate_fast_and_generic_paths_agree():
    plan = build_plan(cfg(total_tokens="2B", max_epochs=100, period=512), CH, TOKENS, seed=3)
    pos = np.arange(plan.total_sequences)
    ch, idx = plan.locate(pos)  # contiguous: tiled periods
    perm = np.random.default_rng(0).permutation(pos.size)
    ch2, idx2 = plan.locate(pos[perm])  # unsorted: per-position arithmetic
    np.testing.assert_array_equal(ch[perm], ch2)
    np.testing.assert_array_equal(idx[perm], idx2)
    for a, b in ((0, pos.size), (3, 5000), (511, 100_000), (pos.size - 7, pos.size), (9, 9)):
        c3, i3 = plan.locate_range(a, b)
        np.testing.assert_array_equal(c3, ch[a:b])
        np.testing.assert_array_equal(i3, idx[a:b])
    dup = np.repeat(np.arange(1000, 1000 + 2048), 2)  # sorted with repeats: not a contiguous run
    c4, i4 = plan.locate(dup)
    np.testing.assert_array_equal(c4, ch[dup])
    np.testing.assert_array_equal(i4, idx[dup])
    for p in (0, 1, 4095, 100_000, plan.total_sequences - 1):
        c1, i1 = plan.locate(p)
        assert (c1[0], i1[0]) == (ch[p], idx[p])


def test_reweight_caps_raise_or_clip():
    c = cfg(
        max_epochs=1.0, stages=[{"name": "s", "ratios": {"en": 0.5, "zh": 0.5, "code": 0.0, "domain": 0.0}}]
    )
    tokens = [60 * 4096, 200 * 4096, 300 * 4096, 30 * 4096]
    plan = build_plan(cfg(**{**c.model_dump(), "total_tokens": 100 * 4096}), CH, tokens, seed=0)
    with pytest.raises(MixError, match="domain would need"):
        plan.reweight(40, {"en": 0.1, "domain": 0.9}, max_epochs=1.0)
    new = plan.reweight(40, {"en": 0.1, "domain": 0.9}, max_epochs=1.0, on_cap="clip")
    epochs = new.epochs()
    assert all(e <= 1.0 + 1e-9 for e in epochs.values())
    seqs = new.channel_sequences(100) - new.channel_sequences(40)
    assert seqs[3] == 30 and seqs[0] == 30  # domain gets all its cap allows, en the rest
    assert seqs.sum() == 60
    ch0, idx0 = plan.locate(np.arange(40))
    ch1, idx1 = new.locate(np.arange(40))
    assert (ch0 == ch1).all() and (idx0 == idx1).all()
    # a channel with no data at all: the others (here en, the only one) take its share
    only_en = build_plan(
        cfg(max_epochs=1.0, total_tokens=50 * 4096, stages=[{"name": "s", "ratios": {"en": 1}}]),
        CH,
        [50 * 4096, 0, 0, 0],
        seed=0,
    ).reweight(10, {"zh": 1.0}, max_epochs=1.0, on_cap="clip")
    assert only_en.weights_at(10)["en"] == 1.0


def test_global_batch_rounds_stages_to_whole_batches():
    """With mix.global_batch, stages end on batch boundaries (dropped sequences are a warning), a stage
    shorter than one batch is an error with the fix, and the plan records the batch."""
    c = cfg(
        seq_len=16,
        total_tokens=None,
        global_batch=8,
        period=100,
        stages=[
            {"name": "a", "tokens": 16 * 357, "ratios": {"en": 0.3, "zh": 0.5, "code": 0.2}},
            {"name": "b", "tokens": 16 * 90, "ratios": {"en": 0.1, "domain": 0.9}},
        ],
    )
    plan = build_plan(c, CH, TOKENS, seed=0)
    assert [(s["start"], s["end"]) for s in plan.report["stages"]] == [(0, 352), (352, 440)]
    assert plan.global_batch == 8 and plan.report["global_batch"] == 8
    assert all(s.start % 8 == 0 and s.period % 8 == 0 for s in plan.segments)
    assert any("5 sequences (80 tokens) dropped" in w for w in plan.report["warnings"])
    short = cfg(
        seq_len=16,
        total_tokens=None,
        global_batch=64,
        stages=[{"name": "tiny", "tokens": 16 * 10, "ratios": {"en": 1.0}}],
    )
    with pytest.raises(MixError, match="fewer than one global batch of 64"):
        build_plan(short, CH, TOKENS, seed=0)
