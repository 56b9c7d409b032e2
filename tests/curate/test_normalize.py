"""normalize: Unicode form, full-width ASCII, Chinese punctuation, whitespace, Traditional -> Simplified."""

from __future__ import annotations

import pytest

from mixkit.curate.normalize import Normalize, normalize_text
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document


def test_fullwidth_ascii_to_halfwidth_keeps_chinese_punctuation():
    text = "我们使用ＧＰＴ－４和Ｐｙｔｈｏｎ３．１１，效果很好！价格：１００元（含税）。"
    out = normalize_text(text)
    assert out == "我们使用GPT-4和Python3.11，效果很好！价格：100元（含税）。"


def test_english_fullwidth_punctuation_becomes_ascii():
    assert normalize_text("Ｈｅｌｌｏ，ｗｏｒｌｄ！") == "Hello,world!"
    assert normalize_text("ﬁne café") == "fine café"  # NFKC ligature, composed é


def test_keep_cjk_punctuation_off():
    assert normalize_text("你好，世界！", keep_cjk_punctuation=False) == "你好,世界!"


def test_whitespace_and_control_cleanup():
    text = "Line one\u00a0 with\tspaces   \r\nline\u200b two\x07\n\n\n\nEnd  "
    assert normalize_text(text) == "Line one with spaces\nline two\n\nEnd"


def test_nfc_form_keeps_compatibility_chars():
    assert normalize_text("ﬁ Ａ", form="NFC", fullwidth_to_halfwidth=False) == "ﬁ Ａ"


def test_step_counts_changes_and_traditional_to_simplified():
    pytest.importorskip("opencc")
    step = Normalize({"traditional_to_simplified": True})
    ctx = ShardContext()
    docs = [Document(id="t", text="這是一個關於機器學習的簡單說明。"), Document(id="s", text="already clean")]
    out = list(step.run(docs, ctx))
    assert out[0].text == "这是一个关于机器学习的简单说明。"
    assert out[1].text == "already clean"
    assert ctx.stats["normalize"].counters["changed"] == 1


def test_step_params_are_strict():
    with pytest.raises(ValueError):
        Normalize({"from": "NFKC"})
