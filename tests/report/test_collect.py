"""Readers behind the report: funnel aggregation and deterministic sampling against brute force."""

from __future__ import annotations

import argparse
from typing import Any

import pyarrow.parquet as pq
import pytest
import xxhash

from mixkit import cli
from mixkit.commands import report as report_cmd
from mixkit.errors import RecipeError
from mixkit.pipeline.layout import Workdir
from mixkit.report.collect import collect_curation, collect_dedup, sample_dropped


def test_sample_is_the_k_lowest_seeded_hashes(synthetic: tuple[Any, dict[str, Any]]) -> None:
    _recipe, expect = synthetic
    folder = expect["workdir"] / "dropped"
    got = sample_dropped(folder, 3, 1000, seed=11, problems=[])
    rows = [
        {**r, "step": f"dedup.{r['step']}" if p.name.startswith("dedup-") else r["step"]}
        for p in sorted(folder.glob("*.parquet"))
        for r in pq.read_table(p).to_pylist()
    ]
    assert {g["step"] for g in got["groups"]} == {"lang_id", "gopher_quality", "dedup.minhash"}
    for g in got["groups"]:
        mine = [r for r in rows if (r["step"], r["reason"]) == (g["step"], g["reason"])]
        assert g["count"] == len(mine)
        ranked = sorted(mine, key=lambda r: xxhash.xxh64_intdigest(f"11:{r['id']}".encode()))[:3]
        assert [s["id"] for s in g["samples"]] == [r["id"] for r in ranked]
        assert [s["text"] for s in g["samples"]] == [r["text"] for r in ranked]
    # another seed, another sample; zero samples still counts the reasons
    other = sample_dropped(folder, 3, 1000, seed=12, problems=[])
    assert [s["id"] for g in other["groups"] for s in g["samples"]] != [
        s["id"] for g in got["groups"] for s in g["samples"]
    ]
    none = sample_dropped(folder, 0, 1000, seed=11, problems=[])
    assert [g["count"] for g in none["groups"]] == [g["count"] for g in got["groups"]]
    assert all(g["samples"] == [] for g in none["groups"])


def test_funnel_numbers(synthetic: tuple[Any, dict[str, Any]]) -> None:
    _recipe, expect = synthetic
    cur = collect_curation(Workdir(expect["workdir"]), [], [], [])
    en = cur["channels"]["en"]
    assert [(r["label"], r["remaining"], r["removed"]) for r in en["funnel"]] == [
        ("input", 1000, 0),
        ("readable (not quarantined)", 990, 10),
        ("lang_id", 900, 90),
        ("gopher_quality", 700, 200),
        ("dedup.minhash", 650, 50),
        ("dedup.decontaminate", 640, 10),
    ]
    assert en["kept"] == 640 and en["curated"] == 700 and en["quarantined"] == 10
    # every channel follows one step order; the recipe's order wins over the data's
    cur2 = collect_curation(Workdir(expect["workdir"]), ["gopher_quality", "lang_id"], ["decontaminate"], [])
    labels = [r["label"] for r in cur2["channels"]["zh"]["funnel"]]
    # curate: the recipe's order; dedup: the order the stats file says the steps ran in
    assert labels[2:] == ["gopher_quality", "lang_id", "dedup.minhash", "dedup.decontaminate"]
    top = cur["reasons"][0]
    assert (top["step"], top["reason"], top["by_channel"], top["total"]) == (
        "gopher_quality",
        "too_few_words",
        {"en": 120, "zh": 60},
        180,
    )
    dd = collect_dedup(Workdir(expect["workdir"]), [])
    assert dd["cluster_sizes"] == {1: 1256, 2: 45, 3: 6, 4: 1, 5: 2, 40: 1}
    assert dd["decontam"] == {"mmlu": 7, "gsm8k": 3, "cmmlu": 2}
    assert dd["decontam_items"] == {"mmlu": 3, "gsm8k": 1, "cmmlu": 1}
    assert dd["lsh"]["bands"] == 14


def test_report_command(synthetic: tuple[Any, dict[str, Any]], capsys) -> None:
    recipe, expect = synthetic
    assert cli.COMMANDS["report"] == "report"
    parser = argparse.ArgumentParser()
    report_cmd.add_arguments(parser)
    out = expect["workdir"] / "elsewhere.html"
    assert report_cmd.main(parser.parse_args([str(recipe.file), "-o", str(out)])) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (expect["workdir"] / "report.html").exists()


def test_report_command_tolerates_a_recipe_that_no_longer_validates(
    synthetic: tuple[Any, dict[str, Any]], caplog
) -> None:
    recipe, expect = synthetic
    path = recipe.file
    path.write_text(path.read_text() + "curate:\n  steps: [no_such_step]\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    report_cmd.add_arguments(parser)
    assert report_cmd.main(parser.parse_args([str(path)])) == 0
    assert (expect["workdir"] / "report.html").is_file()
    assert "no_such_step" in caplog.text
    path.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(RecipeError, match="YAML syntax error"):
        report_cmd.main(parser.parse_args([str(path)]))
