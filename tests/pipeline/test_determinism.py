"""Acceptance: 1 worker and 2 workers give byte-identical outputs; one big file is split inside into shards."""

from __future__ import annotations

import itertools
import json

import pytest

from helpers import tree_digest
from mixkit.pipeline.curate_stage import build_tasks, run_curate
from mixkit.recipe import load_recipe


@pytest.fixture
def corpus(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(3000):
            fh.write(
                json.dumps({"id": f"d{i}", "text": f"Document {i}. " + "alpha beta gamma " * (i % 50 + 1)})
                + "\n"
            )
    with open(data / "small.jsonl", "w", encoding="utf-8") as fh:
        for i in range(50):
            fh.write(json.dumps({"text": f"small {i} 中文 文本"}, ensure_ascii=False) + "\n")
        fh.write("{broken\n")
    return tmp_path


def _recipe(folder, recipe_file, workdir, workers):
    return load_recipe(
        recipe_file(
            folder,
            {
                "name": "det",
                "workdir": workdir,
                "seed": 7,
                "sources": [{"name": "web", "path": "data/*.jsonl", "channel": "en", "id_field": "id"}],
                "curate": {"workers": workers, "shard_size": "64KB", "steps": []},
            },
            name=f"{workdir}.yaml",
        )
    )


def test_big_file_is_split_into_line_aligned_shards(corpus, recipe_file):
    tasks = build_tasks(_recipe(corpus, recipe_file, "w1", 1))
    big = [t.shard for t in tasks if t.shard.path.endswith("big.jsonl")]
    assert len(big) > 4
    content = (corpus / "data" / "big.jsonl").read_bytes()
    for a, b in itertools.pairwise(big):
        assert a.end == b.start and content[b.start - 1 : b.start] == b"\n"
        assert b.first_line == content[: b.start].count(b"\n") + 1


def test_one_and_two_workers_identical(corpus, recipe_file):
    l1 = run_curate(_recipe(corpus, recipe_file, "w1", 1))
    l2 = run_curate(_recipe(corpus, recipe_file, "w2", 2))
    d1, d2 = tree_digest(corpus / "w1"), tree_digest(corpus / "w2")
    assert d1 == d2
    assert len([k for k in d1 if k.startswith("curated/")]) > 4
    assert l1["kept"] == l2["kept"] == 3050 and l1["quarantined"] == 1


def test_optional_jsonl_copy_matches_parquet(corpus, recipe_file):
    import orjson
    import pyarrow.parquet as pq

    recipe = load_recipe(
        recipe_file(
            corpus,
            {
                "name": "j",
                "workdir": "wj",
                "sources": [{"name": "web", "path": "data/small.jsonl", "channel": "en"}],
                "curate": {"write_jsonl": True},
            },
            name="j.yaml",
        )
    )
    run_curate(recipe)
    pq_file = next((corpus / "wj" / "curated" / "en").glob("*.parquet"))
    rows = [orjson.loads(line) for line in pq_file.with_suffix(".jsonl").read_bytes().splitlines()]
    assert [r["text"] for r in rows] == pq.read_table(pq_file).column("text").to_pylist()
    assert len(rows) == 50
