import pyarrow.parquet as pq
from dedup_helpers import english_paragraphs, make_recipe, write_curated

from mixkit.dedup.exact import first_by_priority, normalize_url
from mixkit.dedup.stage import run_dedup


def test_first_by_priority():
    import numpy as np

    h = np.array([5, 7, 5, 5, 9], dtype=np.uint64)
    pos = np.array([3, 0, 1, 2, 4])
    assert first_by_priority(h, pos).tolist() == [True, False, False, True, False]


def test_exact_normalised_and_url(tmp_path):
    a, b, c = english_paragraphs(3, seed=5)
    docs = [
        {"id": "1", "text": a, "meta": {"url": "https://www.example.com/page/"}},
        {"id": "2", "text": "  " + a.upper().replace(" ", "\n  "), "meta": {}},  # same text after normalising
        {"id": "3", "text": b, "meta": {"url": "http://example.com/page"}},  # same URL as 1
        {"id": "4", "text": c, "meta": {}},
    ]
    write_curated(tmp_path / "run", "en", "web", 0, docs)
    recipe = make_recipe(tmp_path, [{"exact": {"url_field": "url"}}])
    st = run_dedup(recipe)["en"]
    assert st["dropped"] == {"exact": {"duplicate_url": 1, "exact_duplicate": 1}}
    assert pq.read_table(tmp_path / "run/deduped/en/web-00000.parquet").column("id").to_pylist() == ["1", "4"]
    assert normalize_url("HTTPS://www.A.org/x/#frag") == "a.org/x"


def test_exact_priority_prefers_listed_source(tmp_path):
    (a,) = english_paragraphs(1, seed=6)
    write_curated(tmp_path / "run", "en", "a_web", 0, [{"id": "w", "text": a}])
    write_curated(tmp_path / "run", "en", "b_med", 0, [{"id": "m", "text": a}])
    recipe = make_recipe(tmp_path, [{"exact": {"priority": ["b_med"]}}], sources=("a_web", "b_med"))
    run_dedup(recipe)
    assert pq.read_table(tmp_path / "run/deduped/en/a_web-00000.parquet").num_rows == 0
    assert pq.read_table(tmp_path / "run/deduped/en/b_med-00000.parquet").column("id").to_pylist() == ["m"]
