"""normalize: Unicode form, full-width ASCII, Chinese punctuation, whitespace, Traditional -> Simplified."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixkit.curate import normalize as N
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


# --- the fast paths against the plain definition ---------------------------------------------------------------
# Reference: the straightforward implementation (whole-text unicodedata.normalize, a per-character restore
# loop, regex passes run unconditionally) that the vectorised normalize_text must reproduce exactly.
_REF_SPACES = re.compile(f"[ {N._OTHER_SPACES}]{{2,}}|[{N._OTHER_SPACES}]")


def _reference_restore(original: str, normalized: str) -> str:
    if not any(c in original for c in N.CJK_PUNCT):
        return normalized
    if len(original) == len(normalized):
        chars = list(normalized)
        for i, c in enumerate(original):
            if c in N._NFKC_OF and chars[i] == N._NFKC_OF[c]:
                near = original[max(0, i - 1) : i + 2]
                if N.CJK_RE.search(near) or any(p in near.replace(c, "", 1) for p in N.CJK_PUNCT):
                    chars[i] = c
        return "".join(chars)
    back = {v: k for k, v in N._NFKC_OF.items() if len(v) == 1}
    pattern = re.compile(
        f"(?<=[{N._CJK}])([{re.escape(''.join(back))}])|([{re.escape(''.join(back))}])(?=[{N._CJK}])"
    )
    return pattern.sub(lambda m: back[m.group(1) or m.group(2)], normalized)


def _reference(text: str, form: str | None = "NFKC", keep_cjk_punctuation: bool = True) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = N._CONTROL_RE.sub("", text)
    if form and not unicodedata.is_normalized(form, text):
        original = text
        text = unicodedata.normalize(form, text)
        if keep_cjk_punctuation and form in ("NFKC", "NFKD"):
            text = _reference_restore(original, text)
    text = N._FW_RE.sub(lambda m: m.group().translate(N._FW_ALNUM), text)
    text = _REF_SPACES.sub(" ", text)
    text = re.sub(" +\n", "\n", text)
    text = N._BLANKS_RE.sub("\n\n", text)
    return text.strip()


# characters that exercise every branch: Han, CJK and full-width punctuation, full-width letters, ligatures and
# ellipsis (multi-character NFKC images), combining marks (composition), Hangul jamo, every kind of space,
# control and zero-width characters, CR/LF, and plain ASCII
_ALPHABET = (
    "abcXYZ019 .,!?~-\n\r\t\x00\x07\x85\u00a0\u1680\u2003\u202f\u205f\u3000\u200b\ufeff"
    "你好世界中文測試，。！？：；（）「」『』【】《》、～ＡＺａｚ０９－．"
    "ﬁﬂ…½²ⅷ㎏e\u0301\u0327\u0323A\u030a\u1100\u1161\u11a8가"
)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=_ALPHABET, max_size=80),
    st.sampled_from(["NFKC", "NFC", "NFD", "NFKD", None]),
    st.booleans(),
)
def test_fast_normalize_equals_reference(text, form, keep):
    assert N.normalize_text(text, form=form, keep_cjk_punctuation=keep) == _reference(text, form, keep)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["NFKC", "NFC", "NFD", "NFKD"]))
def test_per_character_normal_form_equals_unicodedata(text, form):
    """Any Unicode text (surrogates included): the per-character route gives unicodedata's answer."""
    assert N._normalize_form(text, form) == unicodedata.normalize(form, text)
