"""Readers: every format, sharding inside files, ids and provenance."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from mixkit.io.readers import Quarantined, ReadOptions, read_shard
from mixkit.io.shards import plan_shards
from mixkit.recipe.schema import SourceConfig


def _read_all(src: SourceConfig, base, shard_size=1 << 20):
    opts = ReadOptions(
        source=src.name, channel=src.channel, text_field=src.text_field, id_field=src.id_field, base=str(base)
    )
    shards = plan_shards(src, base, shard_size)
    items = [item for shard in shards for item in read_shard(shard, opts)]
    return shards, items


def test_jsonl_zst_and_ids(tmp_path):
    lines = b"".join(json.dumps({"content": f"doc {i}"}).encode() + b"\n" for i in range(5))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    src = SourceConfig(name="z", path="*.zst", channel="en", text_field="content")
    shards, items = _read_all(src, tmp_path)
    assert len(shards) == 1
    assert [d.text for d in items] == [f"doc {i}" for i in range(5)]
    assert items[2].id == "z/a.jsonl.zst:3" and items[2].channel == "en" and items[2].source == "z"


def test_truncated_zst_quarantines_the_break(tmp_path):
    import random

    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    lines = b"".join(
        json.dumps({"text": " ".join(rng.choices(words, k=60))}).encode() + b"\n" for i in range(4000)
    )
    blob = zstandard.ZstdCompressor().compress(lines)  # several 128 KB blocks: the cut leaves whole blocks
    (tmp_path / "cut.jsonl.zst").write_bytes(blob[: len(blob) // 2])
    _, items = _read_all(SourceConfig(name="z", path="*.zst", channel="en"), tmp_path)
    docs = [i for i in items if not isinstance(i, Quarantined)]
    broken = [i for i in items if isinstance(i, Quarantined)]
    assert len(broken) == 1 and broken[0].reason == "truncated_or_corrupt_compressed_file"
    assert 0 < len(docs) < 4000 and broken[0].line == len(docs) + 1


def test_parquet_row_groups_become_shards(tmp_path):
    table = pa.table({"text": [f"row {i} " * 20 for i in range(1000)], "uid": [f"u{i}" for i in range(1000)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=100)
    src = SourceConfig(name="p", path="t.parquet", channel="en", id_field="uid")
    shards, items = _read_all(src, tmp_path, shard_size=1)
    assert len(shards) == 10
    assert shards[3].first_line == 300
    assert [d.id for d in items] == [f"u{i}" for i in range(1000)]


def test_parquet_null_and_non_string_text(tmp_path):
    pq.write_table(pa.table({"text": ["fine", None, ""]}), tmp_path / "n.parquet")
    _, items = _read_all(SourceConfig(name="p", path="n.parquet", channel="en"), tmp_path)
    assert items[0].text == "fine"
    assert [i.reason for i in items[1:]] == ["missing_field", "empty_text"]
    assert [i.line for i in items[1:]] == [1, 2]


def test_text_folder_one_doc_per_file(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# Title\n\nBody text.", encoding="utf-8")
    (folder / "b.txt").write_text("纯文本文件。", encoding="utf-8")
    (folder / "c.txt").write_bytes(b"\xff\xfe broken")
    (folder / "d.txt").write_text("")
    _, items = _read_all(SourceConfig(name="notes", path="notes", channel="zh", format="text"), tmp_path)
    docs = [i for i in items if not isinstance(i, Quarantined)]
    assert [d.id for d in docs] == ["notes/notes/a.md", "notes/notes/b.txt"]
    assert sorted(i.reason for i in items if isinstance(i, Quarantined)) == ["empty_text", "invalid_utf8"]


def test_html_main_text_extraction(tmp_path):
    page = """<html><head><title>Tea</title></head><body>
    <nav><a href="/">Home</a> | <a href="/about">About</a></nav>
    <article><h1>Green tea</h1><p>Green tea is made from leaves that have not been withered and oxidised.
    It originated in China and spread across East Asia over many centuries of trade.</p>
    <p>Brewing temperature matters: water at about 80 degrees Celsius keeps the taste gentle.</p></article>
    <footer>Copyright 2024. All rights reserved.</footer></body></html>"""
    (tmp_path / "tea.html").write_text(page, encoding="utf-8")
    (tmp_path / "gbk.html").write_bytes(
        "<html><body><p>绿茶是中国的传统饮品，历史悠久。</p></body></html>".encode("gbk")
    )
    _, items = _read_all(SourceConfig(name="web", path="*.html", channel="en"), tmp_path)
    by_id = {d.id: d for d in items}
    tea = by_id["web/tea.html"]
    assert "Green tea is made from leaves" in tea.text and tea.meta["title"] == "Tea"
    assert "绿茶是中国的传统饮品" in by_id["web/gbk.html"].text


def test_hf_datasets_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": [f"hf doc {i}" for i in range(30)], "label": list(range(30))})
    ds.save_to_disk(str(tmp_path / "hf"))
    src = SourceConfig(name="hf", path="hf", channel="en", format="hf")
    _, items = _read_all(src, tmp_path)
    assert [d.text for d in items] == [f"hf doc {i}" for i in range(30)]


def test_unknown_extension_says_how_to_fix(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    from mixkit.errors import MixkitError

    with pytest.raises(MixkitError, match="set `format:`"):
        plan_shards(SourceConfig(name="c", path="x.csv", channel="en"), tmp_path, 1000)


def test_multi_frame_zst_reads_every_frame(tmp_path):
    # pzstd and `cat a.zst b.zst` make files of several frames; small frames end inside one read chunk
    frames = [
        zstandard.ZstdCompressor().compress(
            b"".join(json.dumps({"text": f"frame {f} doc {i}"}).encode() + b"\n" for i in range(3))
        )
        for f in range(4)
    ]
    (tmp_path / "multi.jsonl.zst").write_bytes(b"".join(frames))
    _, items = _read_all(SourceConfig(name="z", path="*.zst", channel="en"), tmp_path)
    assert [d.text for d in items] == [f"frame {f} doc {i}" for f in range(4) for i in range(3)]


def test_ids_of_files_outside_the_recipe_folder_do_not_depend_on_where_they_live(tmp_path):
    from mixkit.io.readers import options_for
    from mixkit.recipe.schema import CurateConfig

    ids = []
    for where in ("one", "two/deeper"):
        data = tmp_path / where / "corpus"
        data.mkdir(parents=True)
        (data / "a.jsonl").write_text('{"text": "same record"}\n')
        src = SourceConfig(name="web", path=str(data / "*.jsonl"), channel="en")
        opts = options_for(src, CurateConfig(), tmp_path / "recipes")  # the recipe lives elsewhere
        (shard,) = plan_shards(src, tmp_path / "recipes", 1 << 20)
        ids += [d.id for d in read_shard(shard, opts)]
    assert ids == ["web/a.jsonl:1", "web/a.jsonl:1"]


def test_parquet_broken_mid_file_counts_every_unread_row(tmp_path):
    table = pa.table({"text": [f"row {i} " * 50 for i in range(400)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=100, compression="none")
    blob = bytearray((tmp_path / "t.parquet").read_bytes())
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata
    start = meta.row_group(2).column(0).data_page_offset  # wreck the third row group's data page
    blob[start : start + 64] = b"\xff" * 64
    (tmp_path / "t.parquet").write_bytes(bytes(blob))
    _, items = _read_all(SourceConfig(name="p", path="t.parquet", channel="en"), tmp_path)
    docs = [i for i in items if not isinstance(i, Quarantined)]
    broken = [i for i in items if isinstance(i, Quarantined)]
    assert len(broken) == 1 and broken[0].reason == "unreadable_file"
    assert len(docs) + broken[0].records == 400
