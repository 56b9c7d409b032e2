"""The HTML report rendered from a synthetic workdir: content of every section, self-containment, determinism."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mixkit.report.html import render, write_report

pytest.importorskip("matplotlib")


def _page(recipe: Any) -> str:
    return write_report(recipe).read_text(encoding="utf-8")


def _section(page: str, key: str) -> str:
    m = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert m, f"section {key} missing"
    return m.group(1)


def test_every_section_has_content(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    page = _page(recipe)
    assert (expect["workdir"] / "report.html").is_file()
    assert "Not run" not in page
    assert "Problems while building" not in page
    # summary: the ledger totals
    summary = _section(page, "summary")
    for key in ("input", "kept", "dropped", "quarantined"):
        assert f"{expect['ledger'][key]:,}" in summary
    assert "balanced" in summary
    assert summary.count("outputs present") == 5  # curate, dedup, pack, mix, train
    assert "1.5 s" in summary and "abc123" in summary  # from markers/stages/curate.json
    # curation: funnel steps in recipe/data order, reasons per step, quarantine reasons
    cur = _section(page, "curation")
    assert cur.index("lang_id") < cur.index("gopher_quality") < cur.index("dedup.minhash")
    assert "too_few_words" in cur and "wrong_language" in cur and "benchmark_overlap" in cur
    assert "invalid_utf8" in cur and "missing_text" in cur
    # dedup: cluster stats and decontamination per benchmark
    dd = _section(page, "dedup")
    assert "55 clusters of near-duplicates hold 162 documents" in dd
    assert "the largest cluster has 40 documents. 1,256 documents have no duplicate." in dd
    assert "14 bands × 8 rows" in dd
    assert "mmlu" in dd and "gsm8k" in dd and "cmmlu" in dd
    # mix: both stages, targets and planned tokens, epochs per source, warnings; chars/token per channel
    mix = _section(page, "mix")
    assert "stage main" in mix and "stage anneal" in mix
    assert "target_ratio" in mix and "planned_ratio" in mix
    assert "31,232" in mix and "web_zh" in mix  # planned tokens of code in main; sources over the plan
    assert "code: repeated 1.03 times" in mix
    assert "--data-path" in mix and "tokens/code" in mix
    assert "chars_per_token" in mix and "4.5" in mix and "val_docs" in mix
    # training: stages and reweighting events
    tr = _section(page, "training")
    assert "200 optimizer steps" in tr
    assert "ppl_trend" in tr and "anneal" in tr
    # manifest: recipe hash, seed, versions, input checksums
    man = _section(page, "manifest")
    root = expect["workdir"].parents[1]
    assert hashlib.sha256((root / "recipe.yaml").read_bytes()).hexdigest() in man
    assert hashlib.sha256((root / "data" / "en.jsonl").read_bytes()).hexdigest() in man
    assert "part1.jsonl" in man and "torch" in man and "pyarrow" in man
    assert re.search(r"<td>seed</td><td[^>]*>7</td>", man)


def test_plots_are_inline_pngs_and_nothing_is_external(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    page = _page(recipe)
    srcs = re.findall(r'<img class="plot" src="([^"]+)"', page)
    assert len(srcs) == expect["plots"]
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=\"(?!data:|#)", page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.replace("&lt;script", "")  # no script of ours; sample texts are escaped


def test_dropped_samples_are_deterministic_bounded_and_escaped(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    samples = _section(_page(recipe), "samples")
    # two samples per (step, reason) as configured (report.dropped_samples: 2), five reasons in curate
    groups = re.findall(r"<details[^>]*><summary><b>([^<]+)</b>: ([^<]+?) — ([\d,]+) document", samples)
    assert {(s, r) for s, r, _ in groups} == {
        ("gopher_quality", "too_few_words"),
        ("lang_id", "wrong_language"),
        ("gopher_quality", "symbol_ratio"),
        ("dedup.minhash", "near_duplicate"),
    }
    dropped_part = samples.split("<h3>Quarantined records</h3>")[0]
    for block in re.findall(r"<details.*?</details>", dropped_part, re.S):
        assert block.count("id <code>") == 2
    # texts are cut to sample_chars (60) and say so
    assert "(first 60 of " in samples
    assert "<script>alert" not in samples
    # quarantine samples with file:line and raw content
    assert "data/en.jsonl:10" in samples and "{not json" in samples
    assert "caf\ufffd 1" in samples  # base64 raw bytes shown decoded, the invalid byte as U+FFFD
    # the same sample whatever order the dropped files are in
    first = samples
    dropped = expect["workdir"] / "dropped"
    a, b = sorted(dropped.glob("part-*.parquet"))
    tmp = a.with_name("tmp.parquet")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    assert _section(_page(recipe), "samples") == first


def test_hostile_text_is_escaped(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, _ = synthetic
    recipe.report.dropped_samples = 100
    page = _page(recipe)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in page


def test_report_is_byte_identical_on_rerender(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, _ = synthetic
    # The git rows name the revision of mixkit's checkout, which other work may commit to or edit between the
    # two renders: the same workdir, recipe and code give the same bytes, so only those rows are set aside.
    git_row = re.compile(rb"<tr><td>git \([a-z]+\)</td><td>[^<]*</td></tr>")
    first = write_report(recipe).read_bytes()
    second = write_report(recipe).read_bytes()
    assert git_row.sub(b"", second) == git_row.sub(b"", first)
    import mixkit

    if (Path(mixkit.__file__).resolve().parents[2] / ".git").exists() and shutil.which("git"):
        assert len(git_row.findall(first)) >= 1  # the mixkit checkout's revision is recorded


def test_empty_workdir_says_not_run(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    shutil.rmtree(expect["workdir"])
    page = _page(recipe)
    for key in ("summary", "curation", "dedup", "training"):
        assert "Not run" in _section(page, key), key
    assert "no plan.json" in _section(page, "mix") and "no tokens/stats.json" in _section(page, "mix")
    assert "<img" not in page
    assert "data/en.jsonl" in _section(page, "manifest")  # inputs are still listed and hashed


def test_partial_stages(synthetic: tuple[Any, dict[str, Any]]) -> None:
    """Curate only (no dedup, mix, pack, train): those sections say not run, curation still complete."""
    recipe, expect = synthetic
    wd = expect["workdir"]
    for sub in ("stats/dedup", "train", "tokens"):
        shutil.rmtree(wd / sub)
    (wd / "plan.json").unlink()
    page = _page(recipe)
    assert "Not run" in _section(page, "dedup") and "Not run" in _section(page, "training")
    cur = _section(page, "curation")
    assert "Not run" not in cur and "dedup.minhash" not in cur
    assert page.count('<img class="plot"') == 2  # funnel and drop reasons


def test_corrupt_inputs_are_reported_not_fatal(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    wd = expect["workdir"]
    (wd / "ledger.json").write_text("{truncated", encoding="utf-8")
    (wd / "plan.json").write_text("[1, 2", encoding="utf-8")
    with open(wd / "train" / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json}\n")
    page = _page(recipe)
    problems = _section(page, "problems")
    assert "ledger.json: could not read" in problems
    assert "plan.json: could not read" in problems
    assert "1 unreadable line(s) skipped" in problems
    # the ledger is rebuilt from stats/ (mixkit.pipeline.ledger), so the summary survives a corrupt ledger.json
    assert "balanced" in _section(page, "summary") and "1,900" in _section(page, "summary")


def test_stale_or_unbalanced_ledger(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    wd = expect["workdir"]
    ledger = json.loads((wd / "ledger.json").read_text())
    # written after curate, before dedup ran: kept is the curate output
    stale = {**ledger, "kept": 1490, "dropped": 397, "stages": ["curate"]}
    (wd / "ledger.json").write_text(json.dumps(stale))
    page = _page(recipe)
    assert "is older than the stats of the last stage" in _section(page, "problems")
    assert "1,410" in _section(page, "summary")  # the rebuilt ledger: after dedup
    # stats that do not balance (a dedup input that is not curate's output): say so, show the saved ledger
    st = json.loads((wd / "stats" / "dedup" / "en.json").read_text())
    (wd / "stats" / "dedup" / "en.json").write_text(json.dumps({**st, "input": 999}))
    page = _page(recipe)
    assert "ledger could not be rebuilt from stats/" in _section(page, "problems")
    assert "1,490" in _section(page, "summary")


def test_large_inputs_get_partial_hash(synthetic: tuple[Any, dict[str, Any]]) -> None:
    recipe, expect = synthetic
    recipe.report.full_hash_limit = 1000  # en.jsonl (1,340 bytes) is over, zh.jsonl (830 bytes) under
    from mixkit.report.manifest import build_manifest, file_checksum

    man = build_manifest(recipe, recipe.report.full_hash_limit, 100)
    files = {f["path"]: f for src in man["inputs"] for f in src["files"]}
    en, zh = files["data/en.jsonl"], files["data/zh.jsonl"]
    root = expect["workdir"].parents[1]
    data = (root / "data" / "en.jsonl").read_bytes()
    want = hashlib.sha256(f"size={len(data)}\n".encode() + data[: 1 << 20] + data[-(1 << 20) :]).hexdigest()
    assert en == {"path": "data/en.jsonl", "size": len(data), "sha256": want, "partial": True}
    assert zh["partial"] is False
    assert zh["sha256"] == hashlib.sha256((root / "data" / "zh.jsonl").read_bytes()).hexdigest()
    assert file_checksum(root / "data" / "en.jsonl", 1 << 30)["sha256"] == hashlib.sha256(data).hexdigest()
    page = _page(recipe)
    assert "<td>partial</td>" in _section(page, "manifest")


def test_training_records_from_the_train_loop(tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]) -> None:
    """Records shaped as mixkit.train.loop writes them: start (initial weights), train, val, reweight."""
    recipe, expect = synthetic
    recs = [
        {"kind": "start", "step": 0, "channels": ["en", "zh"], "weights": {"en": 0.7, "zh": 0.3}, "seed": 1}
    ]
    for step in range(10, 101, 10):
        recs.append(
            {
                "kind": "train",
                "step": step,
                "loss": 5 - step / 50,
                "lr": 1e-3,
                "stage": "s1" if step < 60 else "s2",
                "channel_loss": {"en": 4.0, "zh": 5.0},
                "tokens": {"en": 10 * step, "zh": 5 * step},
                "tokens_per_s": 1000.0,
                "grad_norm": None,
                "position": step,
            }
        )
        if step % 50 == 0:
            recs.append(
                {
                    "kind": "val",
                    "step": step,
                    "loss": 4.5,
                    "val_loss": {"en": 4.0, "zh": 5.0},
                    "val_ppl": {"en": 54.6, "zh": 148.4},
                    "val_tokens": {"en": 100, "zh": 100},
                }
            )
    recs.append(
        {
            "kind": "reweight",
            "step": 50,
            "method": "doremi",
            "weights": {"en": 0.6, "zh": 0.4},
            "previous_weights": {"en": 0.7, "zh": 0.3},
        }
    )
    (expect["workdir"] / "train" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    from mixkit.report.collect import collect_training

    t = collect_training(expect["workdir"] / "train" / "metrics.jsonl", [])
    assert t["boundaries"] == [{"step": 10, "stage": "s1"}, {"step": 60, "stage": "s2"}]
    assert t["initial_weights"] == {"en": 0.7, "zh": 0.3}
    assert t["val_ppl"]["zh"] == [(50, 148.4), (100, 148.4)]
    assert t["tokens"] == {"en": 1000.0, "zh": 500.0}
    tr = _section(_page(recipe), "training")
    assert tr.count('<img class="plot"') == 3 and "doremi" in tr


def test_render_without_workdir_inputs_is_valid_html(synthetic: tuple[Any, dict[str, Any]]) -> None:
    from mixkit.report.collect import Collected

    page = render(Collected(title="t<&>", workdir=Path("/nowhere")))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "t&lt;&amp;&gt;" in page
