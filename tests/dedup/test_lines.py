import pyarrow.parquet as pq
from dedup_helpers import english_paragraphs, make_recipe, write_curated

from mixkit.dedup.lines import normalize_line
from mixkit.dedup.stage import run_dedup


def test_normalize_line_ccnet():
    assert normalize_line("  Accept ALL cookies! (2024) ") == "accept all cookies 0000"


def test_boilerplate_lines_removed_documents_kept(tmp_path):
    paras = english_paragraphs(6, seed=8, words=40)
    nav = "Home | About | Contact 2024"
    docs = [{"id": f"d{i}", "text": f"{nav}\n{p}\nAccept all cookies."} for i, p in enumerate(paras[:4])]
    docs.append({"id": "only_boiler", "text": "Home | About | Contact 2023\naccept all COOKIES"})
    docs.append({"id": "twice", "text": f"{paras[4]}\nRare line shared by two\n"})
    docs.append({"id": "twice2", "text": f"{paras[5]}\nrare line shared by two"})
    write_curated(tmp_path / "run", "en", "web", 0, docs)
    st = run_dedup(make_recipe(tmp_path, [{"lines": {"min_docs": 3}}]))["en"]
    rows = {
        r["id"]: r["text"] for r in pq.read_table(tmp_path / "run/deduped/en/web-00000.parquet").to_pylist()
    }
    assert rows["d0"] == paras[0]
    assert "Rare line shared by two" in rows["twice"]  # only 2 documents: kept
    assert "only_boiler" not in rows
    assert st["dropped"] == {"lines": {"empty_after_line_dedup": 1}}
    assert st["steps"]["lines"]["counters"]["lines_removed"] == 10
    dropped = pq.read_table(tmp_path / "run/dropped/dedup-en.parquet").to_pylist()
    assert dropped[0]["reason"] == "empty_after_line_dedup" and "cookies" in dropped[0]["text"].lower()
