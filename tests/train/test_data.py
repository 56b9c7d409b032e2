"""How the loop reads data: the synthetic test stream has the real stream's layout, the held-out split gives every
process the same number of batches, and the step's loss denominator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import SEQ_LEN, SyntheticStream

from mixkit.mix.config import MixConfig
from mixkit.mix.planner import build_plan
from mixkit.mix.stream import Stream
from mixkit.pack.indexed import IndexedWriter
from mixkit.train.channel_loss import causal_lm_loss
from mixkit.train.data import eval_batches
from mixkit.train.loop import _eval_sample, step_denominator


def test_synthetic_stream_equals_the_real_stream(tmp_path: Path, corpus) -> None:
    """One channel, same documents in the order the real stream reads them: SyntheticStream[k] is exactly
    mixkit.mix.stream.Stream's k-th sequence (ids, labels -100 at every document AND sequence start, position ids
    restarting there), so the loop tests train on what a real run trains on."""
    docs = corpus["prose"][:40]
    lengths = np.array([len(d) for d in docs])
    with IndexedWriter(tmp_path / "prose", np.uint16) as w:
        w.add_many(np.concatenate([np.asarray(d) for d in docs]), lengths)
    total = int(lengths.sum())
    cfg = {"seq_len": SEQ_LEN, "stages": [{"name": "s0", "tokens": total, "ratios": {"prose": 1.0}}]}
    real = Stream(build_plan(MixConfig.model_validate(cfg), ["prose"], [total], 7), tmp_path)
    order = real.channel(0).epoch(0)[0]  # the real stream's (seeded) document order in epoch 0
    synthetic = SyntheticStream({"prose": [docs[i] for i in order]}, {"prose": 1.0}, vocab_size=512)
    n = total // SEQ_LEN
    assert n > 10
    cut = 0  # sequences that start inside a document (the real stream restarts positions there too)
    for k in range(n):
        want = real.channel_sequence(0, k)
        got = synthetic[k]
        for key in ("input_ids", "labels", "position_ids", "channel_ids"):
            np.testing.assert_array_equal(got[key].numpy(), want[key], err_msg=f"{key} of sequence {k}")
        assert got["labels"][0] == -100 and got["position_ids"][0] == 0
        cut += int(real.channel(0).pieces(k * SEQ_LEN, SEQ_LEN)[0][1] > 0)  # starts mid-document
    assert cut > 0


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 13])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("mbs", [1, 2, 4])
def test_eval_batches_same_count_on_every_process(n: int, world: int, mbs: int) -> None:
    indices = [10 * i + 3 for i in range(n)]  # arbitrary held-out sequence ids
    shares = [eval_batches(indices, mbs, r, world) for r in range(world)]
    # the same number of batches, of the same sizes, on every process (FSDP's forward is a collective)
    shapes = {tuple(len(b) for b in s) for s in shares}
    assert len(shapes) == 1
    per_process = -(-n // world)
    assert sum(next(iter(shapes))) == per_process
    assert len(shares[0]) == -(-per_process // mbs)
    assert all(0 < len(b) <= mbs for s in shares for b in s)
    # the real slots cover every index exactly once; padding is only at the end of a share
    real = sorted(i for s in shares for b in s for i in b if i is not None)
    assert real == indices
    for s in shares:
        flat = [i for b in s for i in b]
        pad = flat.count(None)
        assert pad <= 1 and flat[len(flat) - pad :] == [None] * pad
    assert any(i is None for s in shares for b in s for i in b) == (n % world != 0)


def test_eval_padding_has_zero_weight(make_stream) -> None:
    """A padding slot runs through the loss like a real sequence but adds no loss and no token to any channel."""
    val = make_stream()
    sample = _eval_sample(val, [3], None)
    assert (sample["labels"] == -100).all() and (sample["input_ids"] == val[3]["input_ids"]).all()
    batch = {k: v[None] for k, v in sample.items()}
    logits = torch.randn(1, SEQ_LEN, 512)
    loss, stats = causal_lm_loss(logits, batch["labels"], batch["channel_ids"], len(val.channels))
    assert float(loss) == 0.0 and stats[:-1].abs().sum() == 0 and stats[-1, 1] == SEQ_LEN


def test_single_process_denominator_is_the_local_count() -> None:
    """One process: the step divides by its own valid-target count (an int, as before: bitwise-stable resumes),
    at least 1, and makes no collective call."""
    from accelerate import Accelerator

    acc = Accelerator(cpu=True)
    assert acc.num_processes == 1
    assert step_denominator(37, acc) == 37 and isinstance(step_denominator(37, acc), int)
    assert step_denominator(0, acc) == 1
