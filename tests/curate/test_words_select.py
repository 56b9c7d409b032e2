"""flagged_words, url_filter and select on English and Chinese examples."""

from __future__ import annotations

import pytest

from mixkit.curate.select import Select
from mixkit.curate.words import FlaggedWords, URLFilter
from mixkit.pipeline.step import ShardContext, build_step
from mixkit.records import Document


def _run(step, docs):
    ctx = ShardContext()
    return [d.id for d in step.run(docs, ctx)], ctx


def test_flagged_words_english_and_chinese(zh_paragraphs):
    docs = [
        Document(id="en_ok", text="The museum opens at nine and the guided tour lasts one hour."),
        Document(id="en_bad", text="Watch free porn videos here, the best xxx site online."),
        Document(id="en_substring", text="The cockpit of the plane was small; Dickens wrote novels."),
        Document(id="zh_ok", text=zh_paragraphs[0]),
        Document(id="zh_bad", text="最新色情视频免费看，加微信进入黄色网站，还有网上赌博平台。"),
    ]
    kept, ctx = _run(FlaggedWords(), docs)
    assert kept == ["en_ok", "en_substring", "zh_ok"]
    assert ctx.stats["flagged_words"].dropped == {"flagged_words": 2}


def test_flagged_words_ratio_and_user_list(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# my list\nspamword\n", encoding="utf-8")
    text = "spamword " + "ordinary text about cooking and travel " * 10
    step = FlaggedWords({"words_file": str(words), "max_ratio": 0.05, "tag_meta": True})
    doc = Document(id="r", text=text)
    assert step.run is not None
    kept, _ = _run(step, [doc])
    assert kept == ["r"] and 0 < doc.meta["flagged_ratio"] < 0.05
    kept, _ = _run(FlaggedWords({"words_file": str(words)}), [Document(id="r", text=text)])
    assert kept == []


def test_url_filter():
    step = URLFilter({"domains": ["spam.example", "ads.test"], "patterns": [r"/casino/"], "missing": "keep"})
    docs = [
        Document(id="ok", text="t", meta={"url": "https://news.example.org/a"}),
        Document(id="sub", text="t", meta={"url": "http://www.spam.example/page"}),
        Document(id="pat", text="t", meta={"url": "https://blog.example.org/casino/win"}),
        Document(id="nourl", text="t"),
        Document(id="lookalike", text="t", meta={"url": "https://notspam.example/"}),
    ]
    kept, ctx = _run(step, docs)
    assert kept == ["ok", "nourl", "lookalike"]
    assert ctx.stats["url_filter"].dropped == {"blocked_domain": 1, "blocked_pattern": 1}


def test_select_thresholds():
    docs = [Document(id=str(i), text="t", meta={"quality": q}) for i, q in enumerate([0.1, 0.5, 0.9])]
    docs.append(Document(id="none", text="t"))
    kept, ctx = _run(build_step("step", "select", {"field": "quality", "min": 0.5}), docs)
    assert kept == ["1", "2"]
    assert ctx.stats["select"].dropped == {"below_min_quality": 1, "missing_meta_quality": 1}
    kept, _ = _run(Select({"field": "quality", "max": 0.5, "missing": "keep"}), docs)
    assert kept == ["0", "1", "none"]


def test_select_membership_and_nested():
    docs = [
        Document(id="en", text="t", meta={"lang": "en", "pii": {"EMAIL": 2}}),
        Document(id="zh", text="t", meta={"lang": "zh"}),
        Document(id="fr", text="t", meta={"lang": "fr"}),
    ]
    assert _run(Select({"field": "lang", "in": ["en", "zh"]}), docs)[0] == ["en", "zh"]
    assert _run(Select({"field": "lang", "not_in": ["zh"]}), docs)[0] == ["en", "fr"]
    assert _run(Select({"field": "pii.EMAIL", "max": 1, "missing": "keep"}), docs)[0] == ["zh", "fr"]


def test_select_rejects_bad_params():
    with pytest.raises(ValueError, match="at least one"):
        Select({"field": "quality"})
    with pytest.raises(ValueError, match="greater than max"):
        Select({"field": "quality", "min": 2, "max": 1})
    with pytest.raises(ValueError):
        Select({"field": "quality", "minimum": 1})


def _plain_flagged(step: FlaggedWords, doc: Document) -> tuple[bool | str, float]:
    """The flagged_words rule written plainly (split everything, count): the reference for the fast paths."""
    from mixkit.curate.textstats import CJK_RE, doc_lang, split_words

    lang = doc_lang(doc, step.params.lang)
    text = doc.text
    if lang == "zh":
        n_units = max(len(CJK_RE.findall(text)), 1)
        flagged = sum(len(m.group()) for m in step._zh_re.finditer(text.lower())) if step._zh_re else 0
        flagged += sum(1 for w in split_words(text.lower()) if w in step._sets.get("en", frozenset()))
    else:
        words = split_words(text.lower())
        n_units = max(len(words), 1)
        flagged = sum(1 for w in words if w in step._sets.get(lang, step._all))
    ratio = flagged / n_units
    return ("flagged_words" if flagged and ratio > step.params.max_ratio else True), round(ratio, 6)


@pytest.mark.parametrize("max_ratio", [0.0, 0.02])
def test_flagged_words_fast_paths_match_plain_rule(max_ratio):
    import random

    rng = random.Random(int(max_ratio * 100))
    pieces = ["色情", "赌博", "的", "是", "中", "文", "，", "。", " ", "\n", "xxx", "porn", "Porn.", "cock", "pit",
              "!!", "?", "-", "the", "cat", "--", "…"]  # fmt: skip
    step = FlaggedWords({"max_ratio": max_ratio, "tag_meta": True})
    step.ensure_setup()
    for i in range(300):
        k = rng.randint(0, 60)
        weights = [rng.random() ** 3 for _ in pieces]
        text = "".join(rng.choices(pieces, weights, k=k))
        doc = Document(id=str(i), text=text)
        want, ratio = _plain_flagged(step, doc)
        assert step.keep(doc, ShardContext()) == want, text
        assert doc.meta["flagged_ratio"] == ratio, text
