import random

import numpy as np
import pyarrow.parquet as pq
import pytest
from dedup_helpers import chinese_passages, english_paragraphs, make_recipe, mutate, write_curated

from mixkit.dedup.minhash import MinHash, choose_bands, detect_probability, signatures
from mixkit.dedup.shingles import ShingleSpec, jaccard, shingle_set
from mixkit.dedup.stage import run_dedup
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document
from mixkit.utils import loads


def test_signature_agreement_estimates_jaccard():
    rng = random.Random(0)
    spec = ShingleSpec()
    errs = []
    for base in english_paragraphs(60, seed=1, words=200):
        other = mutate(base, rng.uniform(0.0, 0.2), rng)
        j = jaccard(shingle_set(base, spec), shingle_set(other, spec))
        sig, _ = signatures([base, other], spec, 128, seed=3)
        errs.append((sig[0] == sig[1]).mean() - j)
    errs = np.array(errs)
    assert abs(errs.mean()) < 0.02  # unbiased
    assert errs.std() < 0.06  # ~ sqrt(J(1-J)/128)


def test_signatures_of_empty_and_short_docs():
    sig, _ = signatures(["", "...", "one two"], ShingleSpec(), 64)
    assert (sig[0] == 0xFFFFFFFF).all() and (sig[1] == 0xFFFFFFFF).all()
    assert (sig[2] != 0xFFFFFFFF).all()  # densified: one shingle fills every bin


def test_choose_bands_meets_detection_target():
    b, r = choose_bands(0.8, 128, verify=True, min_detect=0.995)
    assert b * r <= 128
    assert detect_probability(0.8, b, r) >= 0.995
    b2, r2 = choose_bands(0.8, 128, verify=False)
    assert detect_probability(0.5, b2, r2) < 0.05  # balanced choice keeps false positives rare


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_minhash_finds_near_duplicates(tmp_path, lang):
    rng = random.Random(7)
    if lang == "en":
        base = english_paragraphs(120, seed=2, words=150)
    else:
        base = chinese_passages(120, seed=2, chars=300)
    spec = ShingleSpec()
    docs = [{"id": f"b{i}", "text": t} for i, t in enumerate(base)]
    truth = {}
    for i in range(0, 120, 2):
        rate = rng.choice([0.005, 0.01, 0.02, 0.1, 0.2])
        v = mutate(base[i], rate, rng, chars=lang == "zh")
        truth[f"v{i}"] = jaccard(shingle_set(base[i], spec), shingle_set(v, spec))
        docs.append({"id": f"v{i}", "text": v})
    write_curated(tmp_path / "run", lang, "web", 0, docs)
    recipe = make_recipe(tmp_path, [{"minhash": {"threshold": 0.8}}], channel=lang)
    st = run_dedup(recipe)[lang]
    dropped = {r["id"] for r in pq.read_table(tmp_path / "run/dropped" / f"dedup-{lang}.parquet").to_pylist()}
    should = {k for k, j in truth.items() if j >= 0.8}
    should_not = {k for k, j in truth.items() if j < 0.7}
    assert should and should_not
    assert should <= dropped  # every variant at Jaccard >= 0.8 goes (its base comes first)
    assert not (dropped & should_not)
    assert not any(d.startswith("b") for d in dropped)
    assert st["dropped"]["minhash"]["near_duplicate"] == len(dropped)
    kept = pq.read_table(tmp_path / "run/deduped" / lang / "web-00000.parquet").to_pylist()
    clustered = [loads(r["meta"]) for r in kept if "dup_cluster" in loads(r["meta"])]
    assert len(clustered) == len(dropped) and all(m["dup_cluster_size"] == 2 for m in clustered)


def test_priority_keeps_domain_copy(tmp_path):
    base = english_paragraphs(5, seed=3)
    write_curated(tmp_path / "run", "en", "aweb", 0, [{"id": f"w{i}", "text": t} for i, t in enumerate(base)])
    near = [mutate(t, 0.01, random.Random(i)) for i, t in enumerate(base)]
    write_curated(
        tmp_path / "run", "en", "domain", 0, [{"id": f"d{i}", "text": t} for i, t in enumerate(near)]
    )
    recipe = make_recipe(tmp_path, [{"minhash": {"priority": ["domain"]}}], sources=("aweb", "domain"))
    run_dedup(recipe)
    kept = pq.read_table(tmp_path / "run/deduped/en/domain-00000.parquet").num_rows
    assert kept == 5
    assert pq.read_table(tmp_path / "run/deduped/en/aweb-00000.parquet").num_rows == 0


def test_step_interface_on_documents():
    base = english_paragraphs(3, seed=4)
    docs = [Document(f"d{i}", t, "en", "s") for i, t in enumerate(base)] + [
        Document("copy", base[1] + " extra", "en", "s")
    ]
    ctx = ShardContext()
    out = list(MinHash({"threshold": 0.8}).run(docs, ctx))
    assert [d.id for d in out] == ["d0", "d1", "d2"]
    assert out[1].meta["dup_cluster_size"] == 2
    assert [(s, r, d.id) for s, r, d in ctx.dropped_docs] == [("minhash", "near_duplicate", "copy")]
    assert ctx.stats["minhash"].dropped["near_duplicate"] == 1


def test_params_validation():
    with pytest.raises(ValueError, match="both bands and rows"):
        MinHash.Params(bands=4)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        MinHash.Params(bands=20, rows=8, num_perm=128)


def test_state_is_removed_after_the_pass(tmp_path):
    write_curated(
        tmp_path / "run",
        "en",
        "web",
        0,
        [{"id": str(i), "text": t} for i, t in enumerate(english_paragraphs(5))],
    )
    run_dedup(make_recipe(tmp_path, ["minhash"]))
    assert not any((tmp_path / "run/dedup_state").rglob("*.npy"))
