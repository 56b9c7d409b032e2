"""The stream's vectorised index agrees with the sequences it reads."""

from __future__ import annotations

import numpy as np
from test_exactness import CHANNELS, write_shards

from mixkit.mix.config import MixConfig
from mixkit.mix.planner import build_plan
from mixkit.mix.stream import Stream


def test_index_matches_sequences(tmp_path):
    totals = write_shards(tmp_path, 4, seed=5)
    cfg = MixConfig.model_validate(
        {
            "seq_len": 16,
            "max_epochs": 1e9,
            "period": 50,
            "stages": [{"name": "a", "tokens": 16 * 700, "ratios": {c: 1.0 for c in CHANNELS[:4]}}],
        }
    )
    plan = build_plan(cfg, CHANNELS[:4], totals, seed=9)
    stream = Stream(plan, tmp_path)
    pos = np.arange(plan.total_sequences)
    index = stream.index(pos)
    shuffled = np.random.default_rng(1).permutation(pos.size)
    again = stream.index(pos[shuffled])
    for key, values in index.items():
        np.testing.assert_array_equal(values[shuffled], again[key])
    for p in range(0, plan.total_sequences, 7):
        c = int(index["channel"][p])
        ch = stream.channel(c)
        doc, in_doc, _ = ch.pieces(int(index["sequence"][p]) * 16, 16)[0]
        assert (doc, in_doc) == (index["document"][p], index["offset"][p])
        seq = stream.sequence(p)
        start = int(ch.offsets[doc]) + in_doc
        assert seq["input_ids"][0] == ch.data.tokens[start]
        assert (seq["channel_ids"] == c).all()
    assert index["epoch"].max() >= 1  # the plan wraps around into later epochs
