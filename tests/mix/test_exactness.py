"""Acceptance properties of the packed stream, checked on real token shards with hypothesis:

1. ratio exactness: for every channel at every token prefix, |realised − planned| tokens < seq_len, where the
   plan's target grows linearly inside each segment (a stage is one or two segments); at each global-batch
   boundary the cumulative error is < 1 sequence; with ``mix.global_batch`` set, every global batch holds its
   planned share ± < 1 sequence per channel (without it, only ± < 2, the plain Pfair bound);
2. the stream is a pure function of (plan, seed, position): a fresh reader from position k equals the
   uninterrupted stream; the per-rank ``mixkit.pack.dataset.PackedDataset`` of world sizes 1, 2, 4 started at k
   covers every position from k exactly once (and reads what the stream holds there), and the train loop's
   ``read_micro_batches`` splits each optimizer step's block of sequences over ranks and micro-steps exactly;
3. a weight change at k repeats and skips nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixkit.mix.config import MixConfig
from mixkit.mix.plan import MixError, Plan
from mixkit.mix.planner import build_plan
from mixkit.mix.stream import Stream
from mixkit.pack.dataset import PackedDataset, PackedStream
from mixkit.pack.indexed import IndexedWriter
from mixkit.train.data import read_micro_batches

CHANNELS = ["c0", "c1", "c2", "c3", "c4", "c5"]


def write_shards(root: Path, n_channels: int, seed: int) -> list[int]:
    """Random documents of random lengths (1..300 tokens, last token = EOS id 0) per channel."""
    rng = np.random.default_rng(seed)
    totals = []
    for c in range(n_channels):
        n_docs = int(rng.integers(1, 40))
        lengths = rng.integers(1, 300, size=n_docs)
        flat = rng.integers(1, 5000, size=int(lengths.sum()))
        flat[np.cumsum(lengths) - 1] = 0
        with IndexedWriter(root / CHANNELS[c], np.uint16) as w:
            w.add_many(flat, lengths)
        totals.append(int(lengths.sum()))
    return totals


@st.composite
def mixes(draw):
    n = draw(st.integers(1, 6))
    seq_len = draw(st.sampled_from([8, 16, 32, 64]))
    stages = []
    for i in range(draw(st.integers(1, 3))):
        w = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n).filter(lambda x: sum(x) > 0))
        stages.append(
            {
                "name": f"s{i}",
                "tokens": draw(st.integers(seq_len, 300 * seq_len)),
                "ratios": {CHANNELS[c]: float(w[c]) for c in range(n)},
            }
        )
    period = draw(st.integers(1, 400))
    cfg = {"seq_len": seq_len, "max_epochs": 1e9, "period": period, "stages": stages}
    batch = draw(st.sampled_from([None, 1, 2, 3, 4, 8, 16]))
    if batch is not None:
        cfg["global_batch"] = batch
        for s in stages:  # a stage holds at least one global batch
            s["tokens"] = max(s["tokens"], batch * seq_len)
    return n, cfg


def token_targets(plan: Plan) -> np.ndarray:
    """Planned tokens per channel at every token prefix 0..T (float[T+1, n]), computed from the segments."""
    rates = np.concatenate(
        [
            np.repeat(
                np.asarray(s.counts, dtype=np.float64)[None, :] / s.period, s.length * plan.seq_len, axis=0
            )
            for s in plan.segments
        ]
    )
    return np.vstack([np.zeros((1, len(plan.channels))), np.cumsum(rates, axis=0)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=mixes(), seed=st.integers(0, 2**16))
def test_ratio_exactness_resume_and_ranks(tmp_path_factory, mix, seed):
    n, cfg = mix
    workdir = tmp_path_factory.mktemp("workdir")  # the layout PackedDataset reads: plan.json, tokens/
    root = workdir / "tokens"
    root.mkdir()
    totals = write_shards(root, n, seed)
    plan = build_plan(MixConfig.model_validate(cfg), CHANNELS[:n], totals, seed)
    plan.save(workdir / "plan.json")
    stream = Stream(plan, root)
    L, N = plan.seq_len, plan.total_sequences
    items = [stream.sequence(p) for p in range(N)]
    channel_ids = np.concatenate([it["channel_ids"] for it in items])
    assert channel_ids.size == N * L
    # 1. every token prefix (the realised count is read from the items themselves)
    onehot = np.zeros((N * L + 1, n))
    onehot[np.arange(1, N * L + 1), channel_ids] = 1
    err = np.abs(np.cumsum(onehot, axis=0) - token_targets(plan))
    assert err.max() < L, f"max error {err.max()} tokens >= seq_len {L}"
    # planned totals per stage are within one sequence of the requested ratios (stages shorter than a period)
    for st_rep in plan.report["stages"]:
        if st_rep["sequences"] <= cfg["period"]:
            for c in plan.channels:
                assert abs(st_rep["planned_tokens"][c] - st_rep["target_tokens"][c]) < L
    # global batches of B sequences
    B = cfg.get("global_batch") or 4
    assert plan.global_batch == (cfg.get("global_batch") or 0)
    assert N % B == 0 or "global_batch" not in cfg
    seq_counts = onehot[1:].reshape(N, L, n).sum(axis=1) / L
    cum = np.cumsum(seq_counts, axis=0)
    target_seq = token_targets(plan)[L::L] / L
    worst_batch = 0.0
    for end in range(B, N + 1, B):
        assert np.abs(cum[end - 1] - target_seq[end - 1]).max() < 1
        batch = cum[end - 1] - (cum[end - B - 1] if end > B else 0)
        ideal = target_seq[end - 1] - (target_seq[end - B - 1] if end > B else 0)
        worst_batch = max(worst_batch, float(np.abs(batch - ideal).max()))
    assert worst_batch < (1 if "global_batch" in cfg else 2), f"batch error {worst_batch} sequences"
    # 2. a restarted reader (new objects, from position k) equals the uninterrupted stream
    k = N // 3
    fresh = Stream(Plan.from_json(plan.to_json()), root)
    for p in range(k, min(N, k + 5)):
        for key in ("input_ids", "labels", "position_ids", "channel_ids"):
            np.testing.assert_array_equal(fresh.sequence(p)[key], items[p][key])
    for start in sorted({0, k, N - 1}):
        for world in (1, 2, 4):
            covered = []
            for r in range(world):
                ds = PackedDataset(workdir, rank=r, world_size=world, start=start)
                got = [ds.position(i) for i in range(len(ds))]
                covered += got
                if got:  # the item at i is the stream's sequence at position(i)
                    assert all(
                        (ds[i]["input_ids"].numpy() == items[got[i]]["input_ids"]).all()
                        for i in {0, len(ds) - 1}
                    )
            assert len(covered) == N - start and sorted(covered) == list(range(start, N))
    # 3. reweight at k (a global-batch boundary when the plan has one): the prefix is unchanged and each
    # channel's sequences stay contiguous
    if plan.global_batch > 1:
        k = k // plan.global_batch * plan.global_batch
    w = np.random.default_rng(seed).random(n) + 0.01
    new = plan.reweight(k, {CHANNELS[c]: float(w[c]) for c in range(n)}, until=N)
    ch0, idx0 = plan.locate(np.arange(k))
    ch1, idx1 = new.locate(np.arange(k))
    assert (ch0 == ch1).all() and (idx0 == idx1).all()
    ch, idx = new.locate(np.arange(N))
    for c in range(n):
        assert sorted(idx[ch == c].tolist()) == list(range(int((ch == c).sum())))
    # ... and the reweighted plan keeps the per-batch bound when the plan has a global batch; the prefix bound
    # becomes < 2 sequences: the cut period's lag (< 1) at k carries into the new weights (docs/mix.md)
    onehot = np.zeros((N + 1, n))
    onehot[np.arange(1, N + 1), ch] = 1
    cum = np.cumsum(onehot, axis=0)
    target = token_targets(new)[::L] / L
    assert np.abs(cum - target).max() < 2
    if "global_batch" in cfg:
        per_batch = np.diff(cum[::B], axis=0) - np.diff(target[::B], axis=0)
        assert np.abs(per_batch).max() < 1
        if B > 1:
            with pytest.raises(MixError, match="global-batch boundary"):
                plan.reweight(k + 1, {CHANNELS[0]: 1.0}, until=N)


class Recorder:
    """The real PackedStream, recording which global positions are read (in order)."""

    def __init__(self, stream: PackedStream) -> None:
        self.stream, self.read = stream, []

    def __getitem__(self, position: int):
        self.read.append(position)
        return self.stream[position]


def test_read_micro_batches_splits_each_step_exactly(tmp_path):
    """Each optimizer step at position p reads p .. p + mbs*grad_accum*world - 1, every sequence on exactly one
    (rank, micro-step); micro-step m of rank r is the block starting at p + (m*world + r)*mbs (the documented
    order, so a resume or another world size reads the same global batch), with the stream's own tokens."""
    (tmp_path / "tokens").mkdir()
    totals = write_shards(tmp_path / "tokens", 3, seed=5)
    ratios = {"c0": 1.0, "c1": 2.0, "c2": 3.0}
    cfg = {"seq_len": 16, "max_epochs": 1e9, "stages": [{"name": "s0", "tokens": 200 * 16, "ratios": ratios}]}
    build_plan(MixConfig.model_validate(cfg), CHANNELS[:3], totals, 5).save(tmp_path / "plan.json")
    stream = PackedStream(tmp_path)
    for mbs, accum, world in [(1, 1, 1), (4, 1, 1), (1, 3, 1), (2, 1, 2), (1, 2, 2), (2, 3, 2), (3, 2, 4)]:
        step = mbs * accum * world
        for position in (0, step, 7 * step):
            owner = {}
            for rank in range(world):
                rec = Recorder(stream)
                micro = read_micro_batches(rec, position, mbs, accum, rank, world)
                assert len(micro) == accum and len(rec.read) == mbs * accum
                for m, batch in enumerate(micro):
                    block = rec.read[m * mbs : (m + 1) * mbs]
                    assert block == list(
                        range(position + (m * world + rank) * mbs, position + (m * world + rank + 1) * mbs)
                    )
                    assert batch["input_ids"].shape == (mbs, 16)
                    for j, p in enumerate(block):
                        assert (batch["input_ids"][j] == stream[p]["input_ids"]).all()
                        assert (batch["labels"][j] == stream[p]["labels"]).all()
                        assert p not in owner
                        owner[p] = (rank, m)
            assert sorted(owner) == list(range(position, position + step))


def test_packed_stream_reweights_from_the_next_global_batch(tmp_path):
    """The training loop's reweighting (PackedStream.reweight) on a batch-exact plan starts the new weights at
    the next global-batch boundary, so every batch keeps its share within one sequence."""
    (tmp_path / "tokens").mkdir()
    totals = write_shards(tmp_path / "tokens", 3, seed=9)
    cfg = {
        "seq_len": 16,
        "max_epochs": 1e9,
        "global_batch": 4,
        "stages": [{"name": "s0", "tokens": 200 * 16, "ratios": {"c0": 1.0, "c1": 2.0, "c2": 3.0}}],
    }
    plan = build_plan(MixConfig.model_validate(cfg), CHANNELS[:3], totals, 9)
    plan.save(tmp_path / "plan.json")
    stream = PackedStream(tmp_path)
    before = stream.plan.locate(np.arange(8))
    stream.reweight({"c0": 3.0, "c1": 1.0, "c2": 1.0}, position=5)
    assert stream.plan.report["reweighted_at"] == [8]
    after = stream.plan.locate(np.arange(8))
    assert all((a == b).all() for a, b in zip(before, after, strict=True))
    ch, _ = stream.plan.locate(np.arange(stream.plan.total_sequences))
    target = np.array([stream.plan.target_sequences(p) for p in range(0, stream.plan.total_sequences + 1, 4)])
    counts = np.stack([np.bincount(ch[b : b + 4], minlength=3) for b in range(0, ch.size, 4)])
    assert np.abs(counts - np.diff(target, axis=0)).max() < 1
