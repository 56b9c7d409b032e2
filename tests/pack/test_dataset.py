"""Torch datasets over the packed stream: item contents, rank partitioning, resume, reweighting, val split."""

from __future__ import annotations

import numpy as np
import pytest
from packdata import corpus_texts

from mixkit.mix.stage import run_mix
from mixkit.pack.dataset import PackedDataset, PackedStream, ValStream, channel_names
from mixkit.pack.indexed import IndexedDataset
from mixkit.pack.stage import run_pack
from mixkit.pipeline.layout import Workdir

torch = pytest.importorskip("torch")

SEQ = 64
MIX = {
    "seq_len": SEQ,
    "total_tokens": 60_000,
    "max_epochs": 4,
    "stages": [
        {"name": "warmup", "tokens": "20%", "ratios": {"en": 0.5, "zh": 0.5}},
        {"name": "main", "ratios": {"en": 0.4, "zh": 0.3, "code": 0.3}},
    ],
}


@pytest.fixture(scope="module")
def packed(tmp_path_factory, tokenizer_dir):
    from packdata import make_recipe

    tmp = tmp_path_factory.mktemp("ds")
    docs = {
        "en": {"wiki": corpus_texts("en", 120)},
        "zh": {"zhweb": corpus_texts("zh", 300)},
        "code": {"py": corpus_texts("code", 60)},
    }
    recipe = make_recipe(tmp, tokenizer_dir, docs, mix=MIX, pack={"val_docs": 4})
    run_pack(recipe)
    run_mix(recipe, show=False)
    return recipe


def test_item_contract(packed):
    ds = PackedDataset(packed)
    eos = int(__import__("orjson").loads((Workdir.of(packed).tokens / "index.json").read_bytes())["eos_id"])
    assert ds.channels == channel_names(packed) == ["en", "zh", "code"]
    for i in range(0, len(ds), 37):
        item = ds[i]
        assert set(item) == {"input_ids", "labels", "position_ids", "channel_ids"}
        for v in item.values():
            assert v.dtype == torch.int64 and v.shape == (SEQ,)
        ids, labels, pos = item["input_ids"].numpy(), item["labels"].numpy(), item["position_ids"].numpy()
        starts = pos == 0
        assert starts[0]
        np.testing.assert_array_equal(starts[1:], ids[:-1] == eos)  # reset exactly after each EOS
        np.testing.assert_array_equal(pos[1:][~starts[1:]], pos[:-1][~starts[1:]] + 1)
        assert (labels[starts] == -100).all() and (labels[~starts] == ids[~starts]).all()
        assert len(set(item["channel_ids"].tolist())) == 1


def test_each_epoch_is_a_shuffled_pass_over_every_document(packed):
    stream = PackedStream(packed)
    cid = 1  # zh: the plan reads it for more than one epoch
    shard = IndexedDataset(Workdir.of(packed).tokens / "zh")
    docs = sorted(tuple(shard[i].tolist()) for i in range(len(shard)))
    total = int(shard.lengths.sum())
    n = -(-2 * total // SEQ)
    flat = np.concatenate([stream._stream.channel_sequence(cid, k)["input_ids"] for k in range(n)])
    epochs = []
    for e in range(2):
        part = flat[e * total : (e + 1) * total]
        ends = np.flatnonzero(part == shard[0][-1]) + 1
        got = [tuple(x.tolist()) for x in np.split(part, ends)[:-1]]
        assert sorted(got) == docs
        epochs.append(got)
    assert epochs[0] != epochs[1]  # a new seeded shuffle per epoch
    assert epochs[0] != [tuple(shard[i].tolist()) for i in range(len(shard))]  # not file order


@pytest.mark.parametrize("world_size", [1, 2, 4])
def test_ranks_cover_every_sequence_once(packed, world_size):
    full = PackedStream(packed)
    start = 5
    seen = []
    for rank in range(world_size):
        ds = PackedDataset(packed, rank=rank, world_size=world_size, start=start)
        for i in range(len(ds)):
            seen.append(ds.position(i))
        mid = len(ds) // 2
        np.testing.assert_array_equal(ds[mid]["input_ids"], full[ds.position(mid)]["input_ids"])
    assert sorted(seen) == list(range(start, len(full)))


def test_resume_and_dataloader(packed):
    a = PackedDataset(packed)
    b = PackedDataset(packed, start=100)
    for i in (0, 1, 50):
        for k in ("input_ids", "labels", "position_ids", "channel_ids"):
            assert torch.equal(a[100 + i][k], b[i][k])
    loader = torch.utils.data.DataLoader(b, batch_size=8)
    batch = next(iter(loader))
    assert batch["input_ids"].shape == (8, SEQ)
    import pickle

    b[0]  # opens the shards
    blob = pickle.dumps(b)
    assert len(blob) < 20_000  # memory maps are not copied into worker pickles
    assert torch.equal(pickle.loads(blob)[3]["input_ids"], b[3]["input_ids"])


def test_reweight_repeats_and_skips_nothing(packed):
    stream = PackedStream(packed)
    plan0 = stream.plan
    k = plan0.total_sequences // 2
    before = [stream.numpy(i)["input_ids"] for i in range(k - 3, k)]
    stream.reweight({"en": 0.1, "zh": 0.1, "code": 0.8}, k)
    for j, i in enumerate(range(k - 3, k)):
        np.testing.assert_array_equal(stream.numpy(i)["input_ids"], before[j])
    ch, idx = stream.plan.locate(np.arange(stream.plan.total_sequences))
    for c in range(3):
        assert sorted(idx[ch == c].tolist()) == list(
            range(int((ch == c).sum()))
        )  # contiguous: no gap, no repeat
    assert stream.weights(k)["code"] == pytest.approx(0.8, abs=1e-3)
    state = stream.state_dict()
    again = PackedStream(packed)
    again.load_state_dict(state)
    np.testing.assert_array_equal(again.numpy(k + 7)["input_ids"], stream.numpy(k + 7)["input_ids"])


def test_val_split(packed):
    val = ValStream(packed, SEQ)
    shard_tokens = {
        c: int(IndexedDataset(Workdir.of(packed).tokens / "val" / c).lengths.sum())
        for c in ("en", "zh", "code")
    }
    assert sum(n for _, _, n in val.windows) == sum(shard_tokens.values())
    ds = PackedDataset(packed, split="val", world_size=2, rank=1)
    assert len(ds) == len(val) // 2
    last = val[len(val) - 1]
    n = val.windows[-1][2]
    assert (last["labels"][n:] == -100).all()
    assert (last["channel_ids"] == 2).all()
    eos = val.eos_id
    for i in range(len(val)):
        item = val.numpy(i)
        n = val.windows[i][2]
        ids, pos = item["input_ids"][:n], item["position_ids"][:n]
        np.testing.assert_array_equal(pos[1:] == 0, ids[:-1] == eos)  # reset exactly after each EOS
        assert (item["labels"][:n][pos != 0] == ids[pos != 0]).all()
    with pytest.raises(Exception, match="seq_len"):
        PackedDataset(packed, seq_len=SEQ * 2)
