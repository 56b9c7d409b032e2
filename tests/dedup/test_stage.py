import random
import shutil

import pyarrow.parquet as pq
import pytest
from dedup_helpers import chinese_passages, english_paragraphs, make_recipe, mutate, write_curated

from mixkit import cli
from mixkit.dedup.stage import run_dedup
from mixkit.utils import loads

STEPS = ["exact", {"minhash": {"threshold": 0.8}}, {"lines": {"min_docs": 3}}]


def _corpus(seed: int, n: int = 80) -> list[dict]:
    rng = random.Random(seed)
    base = english_paragraphs(n, seed=seed, words=100)
    docs = [{"id": f"s{seed}-{i}", "text": t} for i, t in enumerate(base)]
    for i in range(0, n, 4):
        docs.append({"id": f"s{seed}-n{i}", "text": mutate(base[i], 0.01, rng)})
        docs.append({"id": f"s{seed}-x{i}", "text": base[i + 1]})
    return docs


def _outputs(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_stats_ledger_and_marker(tmp_path):
    write_curated(tmp_path / "run", "en", "web", 0, _corpus(1))
    write_curated(
        tmp_path / "run",
        "zh",
        "zhweb",
        0,
        [{"id": f"z{i}", "text": t} for i, t in enumerate(chinese_passages(30) + chinese_passages(5))],
    )
    recipe = make_recipe(tmp_path, STEPS, sources=("web", "zhweb"))
    res = run_dedup(recipe)
    for ch in ("en", "zh"):
        st = loads((tmp_path / f"run/stats/dedup/{ch}.json").read_bytes())
        assert st == res[ch]
        dropped = sum(sum(r.values()) for r in st["dropped"].values())
        assert st["input"] == st["kept"] + dropped
        assert st["order"] == ["exact", "minhash", "lines"] and set(st["steps"]) == set(st["order"])
        assert pq.read_table(tmp_path / f"run/dropped/dedup-{ch}.parquet").num_rows == dropped
    assert res["en"]["dropped"]["exact"]["exact_duplicate"] == 20
    assert res["en"]["dropped"]["minhash"]["near_duplicate"] == 20
    assert res["en"]["extra"]["cluster_sizes"]["2"] == 20
    assert res["zh"]["dropped"]["exact"]["exact_duplicate"] == 5
    # rerun with the same fingerprint: skipped, outputs untouched
    marker = tmp_path / "run/markers/dedup/dedup.done"
    mtime = (tmp_path / "run/deduped/en/web-00000.parquet").stat().st_mtime_ns
    assert run_dedup(recipe) == res
    assert (tmp_path / "run/deduped/en/web-00000.parquet").stat().st_mtime_ns == mtime
    # a changed config reruns
    recipe2 = make_recipe(tmp_path, ["exact"], sources=("web", "zhweb"))
    assert "minhash" not in run_dedup(recipe2)["en"]["steps"]
    assert marker.exists()


def test_deterministic_across_workers(tmp_path, monkeypatch):
    from mixkit.dedup import minhash

    monkeypatch.setattr(minhash, "MIN_BYTES_PER_WORKER", 1)  # use the pool even for this tiny input
    outs = []
    for w in (1, 2):
        root = tmp_path / f"w{w}"
        for shard in range(3):
            write_curated(root / "run", "en", "web", shard, _corpus(shard + 10, n=40))
        st = run_dedup(make_recipe(root, STEPS), workers=w)
        assert st["en"]["steps"]["minhash"]["counters"]["_workers"] == w
        counts = (st["en"]["input"], st["en"]["kept"], st["en"]["dropped"])
        outs.append((_outputs(root / "run/deduped") | _outputs(root / "run/dropped"), counts))
    assert outs[0] == outs[1] and outs[0][0]


def test_incremental_matches_joint_run(tmp_path):
    a_docs, b_docs = _corpus(21), _corpus(22)
    rng = random.Random(5)
    # B repeats and near-repeats some of A, and has its own duplicates
    for i in range(0, 40, 3):
        b_docs.append({"id": f"b-copyA{i}", "text": a_docs[i]["text"]})
        b_docs.append({"id": f"b-nearA{i}", "text": mutate(a_docs[i + 1]["text"], 0.02, rng)})
    # joint: A's shard sorts before B's
    joint = tmp_path / "joint"
    write_curated(joint / "run", "en", "a", 0, a_docs)
    write_curated(joint / "run", "en", "b", 0, b_docs)
    run_dedup(make_recipe(joint, STEPS, sources=("a", "b")))
    joint_dropped = {
        r["id"]
        for r in pq.read_table(joint / "run/dropped/dedup-en.parquet").to_pylist()
        if r["source"] == "b"
    }
    joint_b = pq.read_table(joint / "run/deduped/en/b-00000.parquet").to_pylist()
    # A alone, writing an index; then B alone against it
    ra = tmp_path / "ra"
    write_curated(ra / "run", "en", "a", 0, a_docs)
    run_dedup(make_recipe(ra, STEPS, sources=("a",), index_out=str(tmp_path / "index-a")))
    rb = tmp_path / "rb"
    write_curated(rb / "run", "en", "b", 0, b_docs)
    st = run_dedup(make_recipe(rb, STEPS, sources=("b",), index_in=str(tmp_path / "index-a")))["en"]
    inc_dropped = {r["id"] for r in pq.read_table(rb / "run/dropped/dedup-en.parquet").to_pylist()}
    inc_b = pq.read_table(rb / "run/deduped/en/b-00000.parquet").to_pylist()
    assert len(joint_dropped) > 40
    assert inc_dropped == joint_dropped
    assert [(r["id"], r["text"]) for r in inc_b] == [(r["id"], r["text"]) for r in joint_b]
    assert st["dropped"]["minhash"].get("near_duplicate_of_index", 0) > 0


def test_index_must_match_parameters(tmp_path):
    write_curated(tmp_path / "ra/run", "en", "a", 0, _corpus(31, n=8))
    run_dedup(make_recipe(tmp_path / "ra", ["minhash"], sources=("a",), index_out=str(tmp_path / "idx")))
    write_curated(tmp_path / "rb/run", "en", "b", 0, _corpus(32, n=8))
    from mixkit.errors import MixkitError

    with pytest.raises(MixkitError, match="same minhash parameters"):
        run_dedup(
            make_recipe(
                tmp_path / "rb",
                [{"minhash": {"num_perm": 64}}],
                sources=("b",),
                index_in=str(tmp_path / "idx"),
            )
        )


def test_cli_dedup(tmp_path):
    import yaml

    write_curated(tmp_path / "runs/t", "en", "web", 0, _corpus(41, n=20))
    (tmp_path / "data").mkdir()
    (tmp_path / "data/x.jsonl").write_text('{"text": "x"}\n')
    recipe = {
        "name": "t",
        "sources": [{"name": "web", "path": "data/*.jsonl", "channel": "en"}],
        "dedup": {"steps": STEPS},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    assert cli.main(["dedup", str(tmp_path / "r.yaml")]) == 0
    st = loads((tmp_path / "runs/t/stats/dedup/en.json").read_bytes())
    assert st["input"] == 30 and st["kept"] == 20
    shutil.rmtree(tmp_path / "runs/t/markers")
    assert cli.main(["dedup", str(tmp_path / "r.yaml"), "--workers", "2"]) == 0


def test_step_restricted_to_channels(tmp_path):
    docs = _corpus(51, n=12)
    write_curated(tmp_path / "run", "en", "web", 0, docs)
    write_curated(tmp_path / "run", "code", "src", 0, docs)
    recipe = make_recipe(tmp_path, [{"exact": {"channels": ["en"]}}], sources=("web", "src"))
    res = run_dedup(recipe)
    assert res["en"]["kept"] < res["en"]["input"]
    assert res["code"]["kept"] == res["code"]["input"] == len(docs)
    curated = (tmp_path / "run/curated/code/src-00000.parquet").read_bytes()
    assert (tmp_path / "run/deduped/code/src-00000.parquet").read_bytes() == curated


def test_benchmark_file_change_invalidates_marker(tmp_path):
    write_curated(tmp_path / "run", "en", "web", 0, _corpus(61, n=8))
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        '{"question": "one two three four five six seven eight nine ten eleven twelve thirteen"}\n'
    )
    recipe = make_recipe(tmp_path, [{"decontaminate": {"benchmarks": ["bench.jsonl"]}}])
    first = run_dedup(recipe)["en"]
    assert first["extra"]["decontam"] == {"bench": 0}
    (tmp_path / "run/deduped/en/web-00000.parquet").unlink()
    assert run_dedup(recipe) == {"en": first}  # same fingerprint: skipped
    bench.write_text(
        bench.read_text() + '{"question": "another question with enough words to be indexed here ok"}\n'
    )
    run_dedup(recipe)  # benchmark changed: rerun
    assert (tmp_path / "run/deduped/en/web-00000.parquet").exists()


def test_empty_shard_keeps_its_output_file(tmp_path):
    write_curated(tmp_path / "run", "en", "web", 0, [])
    write_curated(tmp_path / "run", "en", "web", 1, _corpus(71, n=8))
    write_curated(tmp_path / "run", "en", "web", 2, [])
    st = run_dedup(make_recipe(tmp_path, STEPS))["en"]
    import pyarrow.parquet as pq

    names = sorted(p.name for p in (tmp_path / "run/deduped/en").glob("*.parquet"))
    assert names == ["web-00000.parquet", "web-00001.parquet", "web-00002.parquet"]
    assert pq.read_table(tmp_path / "run/deduped/en/web-00000.parquet").num_rows == 0
    assert st["input"] == 12


def test_rerun_removes_stale_outputs(tmp_path):
    write_curated(tmp_path / "run", "en", "web", 0, _corpus(81, n=8))
    write_curated(tmp_path / "run", "zh", "web", 0, _corpus(82, n=8))
    run_dedup(make_recipe(tmp_path, ["exact"]))
    shutil.rmtree(tmp_path / "run/curated/zh")
    (tmp_path / "run/curated/en/web-00000.parquet").rename(tmp_path / "run/curated/en/web-00009.parquet")
    run_dedup(make_recipe(tmp_path, ["exact"]))
    assert sorted(
        p.relative_to(tmp_path / "run/deduped").as_posix()
        for p in (tmp_path / "run/deduped").rglob("*.parquet")
    ) == ["en/web-00009.parquet"]
    assert sorted(p.name for p in (tmp_path / "run/stats/dedup").glob("*.json")) == ["en.json"]


def test_validate_reports_bad_dedup_params(tmp_path):
    from mixkit.recipe import validate_recipe

    (tmp_path / "d.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "r.yaml").write_text(
        "name: t\nsources: [{name: s, path: d.jsonl, channel: en}]\n"
        "dedup:\n  steps:\n    - minhash: {treshold: 0.8}\n    - exactt: {}\n    - lines: {min_docs: 1}\n"
    )
    _, issues = validate_recipe(tmp_path / "r.yaml")
    text = "\n".join(issues)
    assert "threshold" in text  # did-you-mean for the misspelt key
    assert "exact" in text  # did-you-mean for the misspelt step
    assert "min_docs" in text


def test_index_round_trip_and_incomplete_index_is_refused(tmp_path):
    from mixkit.dedup.base import INDEX_DONE, DedupError
    from mixkit.errors import MixkitError

    a_docs, b_docs = _corpus(91, n=12), _corpus(92, n=12)
    b_docs.append({"id": "b-copy", "text": a_docs[0]["text"]})
    write_curated(tmp_path / "ra/run", "en", "a", 0, a_docs)
    idx = tmp_path / "idx"
    run_dedup(make_recipe(tmp_path / "ra", STEPS, sources=("a",), index_out=str(idx)))
    for step in ("exact", "minhash", "lines"):
        assert (idx / step / "en" / INDEX_DONE).is_file()
    assert not [p for p in idx.rglob(".*")]  # no temporary folders left
    # round trip: B's copy of an A document is dropped against the index
    write_curated(tmp_path / "rb/run", "en", "b", 0, b_docs)
    st = run_dedup(make_recipe(tmp_path / "rb", STEPS, sources=("b",), index_in=str(idx)))["en"]
    assert st["dropped"]["exact"]["exact_duplicate"] >= 1
    dropped = {r["id"] for r in pq.read_table(tmp_path / "rb/run/dropped/dedup-en.parquet").to_pylist()}
    assert "b-copy" in dropped
    # an index whose writer crashed (no completion marker) is refused, for every step, naming the folder
    for step in ("exact", "minhash", "lines"):
        marker = idx / step / "en" / INDEX_DONE
        saved = marker.read_bytes()
        marker.unlink()
        shutil.rmtree(tmp_path / "rb/run/markers", ignore_errors=True)
        with pytest.raises(DedupError, match=rf"{step}/en is incomplete"):
            run_dedup(make_recipe(tmp_path / "rb", STEPS, sources=("b",), index_in=str(idx)))
        marker.write_bytes(saved)
    # an index_in folder holding no finished index at all
    (tmp_path / "empty").mkdir()
    with pytest.raises(MixkitError, match="holds no finished dedup index"):
        run_dedup(make_recipe(tmp_path / "rb", STEPS, sources=("b",), index_in=str(tmp_path / "empty")))


def test_index_out_rewrite_replaces_the_old_index(tmp_path):
    from mixkit.dedup.base import INDEX_DONE

    idx = tmp_path / "idx"
    write_curated(tmp_path / "r/run", "en", "a", 0, _corpus(93, n=8))
    run_dedup(make_recipe(tmp_path / "r", ["exact", "lines"], sources=("a",), index_out=str(idx)))
    first = (idx / "exact/en/text.npy").read_bytes()
    (idx / "exact/en/stray.npy").write_bytes(b"x")  # would survive an in-place rewrite
    write_curated(tmp_path / "r/run", "en", "a", 0, _corpus(94, n=8))
    run_dedup(make_recipe(tmp_path / "r", ["exact", "lines"], sources=("a",), index_out=str(idx)))
    assert sorted(p.name for p in (idx / "exact/en").iterdir()) == [INDEX_DONE, "text.npy"]
    assert (idx / "exact/en/text.npy").read_bytes() != first
    assert sorted(p.name for p in (idx / "exact").iterdir()) == ["en"]
