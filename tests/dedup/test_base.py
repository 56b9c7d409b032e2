import pyarrow.parquet as pq
import pytest
from dedup_helpers import english_paragraphs, make_recipe, write_curated

from mixkit.dedup.base import INDEX_DONE, DedupError, building_index, index_folder
from mixkit.dedup.stage import run_dedup
from mixkit.io.writers import DOC_SCHEMA, DROPPED_SCHEMA


def test_deduped_and_dropped_shards_have_the_curated_schema(tmp_path):
    texts = english_paragraphs(30, seed=3)
    docs = [{"id": f"d{i}", "text": t, "meta": {"lang": "en", "score": i / 7}} for i, t in enumerate(texts)]
    docs += [{"id": "copy", "text": texts[0], "meta": {"lang": "en"}}]
    write_curated(tmp_path / "run", "en", "web", 0, docs)
    run_dedup(make_recipe(tmp_path, ["exact"]))
    out = pq.ParquetFile(tmp_path / "run/deduped/en/web-00000.parquet")
    assert out.schema_arrow == DOC_SCHEMA
    assert out.schema_arrow == pq.ParquetFile(tmp_path / "run/curated/en/web-00000.parquet").schema_arrow
    # dictionary encoding on channel/source, as curate writes them
    col = {out.metadata.row_group(0).column(i).path_in_schema: i for i in range(out.metadata.num_columns)}
    assert "RLE_DICTIONARY" in out.metadata.row_group(0).column(col["channel"]).encodings
    dropped = pq.ParquetFile(tmp_path / "run/dropped/dedup-en.parquet")
    assert dropped.schema_arrow == DROPPED_SCHEMA
    assert dropped.read().to_pylist()[0]["reason"] == "exact_duplicate"


def test_a_pass_that_drops_nothing_rewrites_curated_bytes(tmp_path):
    # same writer, same rows -> byte-identical file: "same schema" holds down to the bytes
    docs = [
        {"id": f"d{i}", "text": t, "meta": {"k": i}} for i, t in enumerate(english_paragraphs(20, seed=4))
    ]
    write_curated(tmp_path / "run", "en", "web", 0, docs)
    from mixkit.io.writers import ParquetDocWriter
    from mixkit.records import Document

    # curate writes ROW_GROUP_ROWS-row groups; rewrite the input with the default so the bytes can match
    src = tmp_path / "run/curated/en/web-00000.parquet"
    w = ParquetDocWriter(src)
    w.write_all(Document(d["id"], d["text"], "en", "web", d["meta"]) for d in docs)
    w.close()
    st = run_dedup(make_recipe(tmp_path, ["exact"]))["en"]
    assert st["kept"] == 20
    assert (tmp_path / "run/deduped/en/web-00000.parquet").read_bytes() == src.read_bytes()


def test_building_index_is_all_or_nothing(tmp_path):
    with building_index(tmp_path, "exact", "en") as d:
        (d / "a.txt").write_text("old")
    dest = tmp_path / "exact/en"
    assert index_folder(tmp_path, "exact", "en") == dest and (dest / INDEX_DONE).is_file()
    # a crash while rebuilding leaves the previous index untouched and no temporary folder
    with pytest.raises(RuntimeError), building_index(tmp_path, "exact", "en") as d:
        (d / "a.txt").write_text("half")
        raise RuntimeError("crash")
    assert (dest / "a.txt").read_text() == "old"
    assert sorted(p.name for p in (tmp_path / "exact").iterdir()) == ["en"]
    # a successful rebuild replaces it whole
    with building_index(tmp_path, "exact", "en") as d:
        (d / "b.txt").write_text("new")
    assert sorted(p.name for p in dest.iterdir()) == ["b.txt", INDEX_DONE]
    assert sorted(p.name for p in (tmp_path / "exact").iterdir()) == ["en"]


def test_index_folder_refuses_an_unfinished_index(tmp_path):
    assert index_folder(None, "exact", "en") is None
    assert index_folder(tmp_path, "exact", "en") is None  # nothing for this channel: a new channel
    (tmp_path / "exact/en").mkdir(parents=True)
    (tmp_path / "exact/en/text.npy").write_bytes(b"")
    with pytest.raises(DedupError, match=r"exact/en is incomplete .*Rerun .*index_out"):
        index_folder(tmp_path, "exact", "en")


def test_index_folder_refuses_an_interrupted_swap(tmp_path):
    # a crash between moving the old index aside and moving the new one in leaves only the hidden old folder
    with building_index(tmp_path, "lines", "en") as d:
        (d / "hashes.npy").write_bytes(b"")
    (tmp_path / "lines/en").rename(tmp_path / "lines/.en.abc123.old")
    with pytest.raises(DedupError, match=r"lines/en is missing .*rename .*\.en\.abc123\.old back"):
        index_folder(tmp_path, "lines", "en")
    # a crash during the first build of a channel leaves only the temporary folder
    (tmp_path / "lines/.en.abc123.old").rename(tmp_path / "lines/.en.xyz.tmp")
    with pytest.raises(DedupError, match=r"stopped while writing it"):
        index_folder(tmp_path, "lines", "en")
    assert index_folder(tmp_path, "lines", "zh") is None  # another channel is not affected
