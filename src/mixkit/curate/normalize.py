"""Text normalisation: Unicode form, full-width ASCII, whitespace and control characters, Traditional -> Simplified.

Why: the same text typed on different keyboards or scraped from different sites differs in invisible ways
(``Ａ`` vs ``A``, ``\\u00a0`` vs space, ``\\r\\n`` vs ``\\n``); normalising first makes dedup, language ID and
the heuristic filters see one form. Unicode normal forms: UAX #15 (NFC/NFKC). Full-width forms: the Unicode
Halfwidth and Fullwidth Forms block (U+FF01..U+FF5E map to U+0021..U+007E by subtracting 0xFEE0).

Chinese punctuation. NFKC maps full-width punctuation (，。！？：；（）) to ASCII, which is wrong for Chinese
text, where the full-width forms are the correct ones (GB/T 15834-2011, 标点符号用法). With
``keep_cjk_punctuation`` (default) mixkit applies NFKC but restores full-width punctuation that sits next to a
Chinese character, and the full-width → half-width step only touches letters and digits.

Traditional → Simplified uses OpenCC's ``t2s`` table (opencc-python-reimplemented, extra ``curate``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import Field

from mixkit.curate.textstats import CJK_RE
from mixkit.errors import require
from mixkit.pipeline.step import Annotator, ShardContext, StepParams
from mixkit.records import Document

# Full-width punctuation that stays full-width in Chinese context, and its NFKC (half-width) image.
CJK_PUNCT = "，。！？：；（）「」『』【】《》、～"
_NFKC_OF = {c: unicodedata.normalize("NFKC", c) for c in CJK_PUNCT}
_FW_ALNUM = {
    cp: cp - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(r[0], r[1] + 1)
}
_FW_ALNUM[0x3000] = 0x20  # ideographic space -> space
# Control characters except \t \n; also zero-width and BOM characters, which carry no text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200d\u2060\ufeff]")
_OTHER_SPACES = "\t\u00a0\u1680\u2000-\u200a\u202f\u205f"
_SPACES_RE = re.compile(f"[ {_OTHER_SPACES}]{{2,}}|[{_OTHER_SPACES}]")
_FW_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]+")
_TRAIL_RE = re.compile(" +\n")
_BLANKS_RE = re.compile("\n{3,}")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def _restore_cjk_punct(original: str, normalized: str) -> str:
    """Put back the full-width punctuation NFKC replaced, where a Chinese character is adjacent in the original.

    NFKC maps each of these characters to exactly one character, so positions line up as long as nothing else in
    the text changed length; where they do not line up, a regex over the normalised text is used instead.
    """
    if not any(c in original for c in CJK_PUNCT):
        return normalized
    if len(original) == len(normalized):
        chars = list(normalized)
        for i, c in enumerate(original):
            if c in _NFKC_OF and chars[i] == _NFKC_OF[c]:
                near = original[max(0, i - 1) : i + 2]
                if CJK_RE.search(near) or any(p in near.replace(c, "", 1) for p in CJK_PUNCT):
                    chars[i] = c
        return "".join(chars)
    back = {v: k for k, v in _NFKC_OF.items() if len(v) == 1}
    pattern = re.compile(
        f"(?<=[{_CJK}])([{re.escape(''.join(back))}])|([{re.escape(''.join(back))}])(?=[{_CJK}])"
    )
    return pattern.sub(lambda m: back[m.group(1) or m.group(2)], normalized)


def normalize_text(
    text: str,
    form: str | None = "NFKC",
    fullwidth_to_halfwidth: bool = True,
    keep_cjk_punctuation: bool = True,
    clean_whitespace: bool = True,
    remove_control: bool = True,
    converter=None,
) -> str:
    """Normalise one text (see the module docstring for each option's rationale)."""
    if remove_control:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _CONTROL_RE.sub("", text)
    if form and not unicodedata.is_normalized(form, text):
        original = text
        text = unicodedata.normalize(form, text)
        if keep_cjk_punctuation and form in ("NFKC", "NFKD"):
            text = _restore_cjk_punct(original, text)
    if fullwidth_to_halfwidth and _FW_RE.search(text):
        text = _FW_RE.sub(lambda m: m.group().translate(_FW_ALNUM), text)
    if converter is not None and CJK_RE.search(text):
        text = converter.convert(text)  # pure-Python OpenCC is slow: only texts with Han characters
    if clean_whitespace:
        # each substitution only where something changes (a 5 MB text is mostly single spaces)
        text = _SPACES_RE.sub(" ", text)
        if " \n" in text:
            text = _TRAIL_RE.sub("\n", text)
        if "\n\n\n" in text:
            text = _BLANKS_RE.sub("\n\n", text)
        text = text.strip()
    return text


class Normalize(Annotator):
    """Rewrite ``doc.text`` to a normal form; drops nothing (a document that becomes empty is left to later
    filters). Counts changed documents in the ledger counter ``changed``."""

    name = "normalize"

    class Params(StepParams):
        form: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = Field(
            "NFKC", description="Unicode normal form or null"
        )
        fullwidth_to_halfwidth: bool = Field(
            True, description="Ａ１ -> A1 (letters, digits, ideographic space)"
        )
        keep_cjk_punctuation: bool = Field(
            True, description="keep ，。！？ full-width next to Chinese characters"
        )
        clean_whitespace: bool = Field(
            True, description="collapse spaces, strip trailing spaces, <= 1 blank line"
        )
        remove_control: bool = Field(True, description="drop control/zero-width chars, CRLF -> LF")
        traditional_to_simplified: bool = Field(
            False, description="OpenCC t2s (needs opencc-python-reimplemented)"
        )

    def setup(self) -> None:
        self._converter = None
        if self.params.traditional_to_simplified:
            opencc = require(
                "opencc", "curate", "normalize (traditional_to_simplified)", "opencc-python-reimplemented"
            )
            self._converter = opencc.OpenCC("t2s")

    def annotate(self, doc: Document, ctx: ShardContext) -> None:
        p = self.params
        new = normalize_text(
            doc.text,
            form=p.form,
            fullwidth_to_halfwidth=p.fullwidth_to_halfwidth,
            keep_cjk_punctuation=p.keep_cjk_punctuation,
            clean_whitespace=p.clean_whitespace,
            remove_control=p.remove_control,
            converter=self._converter,
        )
        if new != doc.text:
            doc.text = new
            ctx.count(self.name, "changed")
