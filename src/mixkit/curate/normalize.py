"""Text normalisation: Unicode form, full-width ASCII, whitespace and control characters, Traditional -> Simplified.

Why: the same text typed on different keyboards or scraped from different sites differs in invisible ways
(``Ａ`` vs ``A``, ``\\u00a0`` vs space, ``\\r\\n`` vs ``\\n``); normalising first makes dedup, language ID and
the heuristic filters see one form. Unicode normal forms: UAX #15 (NFC/NFKC). Full-width forms: the Unicode
Halfwidth and Fullwidth Forms block (U+FF01..U+FF5E map to U+0021..U+007E by subtracting 0xFEE0).

Chinese punctuation. NFKC maps full-width punctuation (，。！？：；（）) to ASCII, which is wrong for Chinese
text, where the full-width forms are the correct ones (GB/T 15834-2011, 标点符号用法). With
``keep_cjk_punctuation`` (default) mixkit applies NFKC but restores full-width punctuation that sits next to a
Chinese character, and the full-width → half-width step only touches letters and digits.

Traditional → Simplified uses OpenCC's ``t2s`` table (package ``opencc``, OpenCC's own C++ library, extra
``curate``; the pure-Python port spent ~30 s on a 10 MB page).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import numpy as np
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
_OTHER_SPACE_RE = re.compile(f"[{_OTHER_SPACES}]")
_SPACE_RUN_RE = re.compile("  +")  # a literal prefix: re skips ahead fast, unlike a character class
_FW_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]+")
_BLANKS_RE = re.compile("\n{3,}")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


_PUNCT_CODES = np.array(sorted(ord(c) for c in CJK_PUNCT), dtype=np.uint32)
_PUNCT_IMAGE = np.zeros(
    int(_PUNCT_CODES.max()) + 1, dtype=np.uint32
)  # mark -> its NFKC image (one character)
for _c, _v in _NFKC_OF.items():
    if len(_v) == 1:
        _PUNCT_IMAGE[ord(_c)] = ord(_v)


def _codes(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array (one element per ``str`` character)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _from_codes(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


def _is_han(codes: np.ndarray) -> np.ndarray:
    """Han ideographs, the ranges of ``textstats.CJK_CHARS``."""
    return (
        ((codes >= 0x4E00) & (codes <= 0x9FFF))
        | ((codes >= 0x3400) & (codes <= 0x4DBF))
        | ((codes >= 0xF900) & (codes <= 0xFAFF))
    )


_COMBINING: np.ndarray | None = None


def _composes(codes: np.ndarray) -> bool:
    """Whether the text holds a combining mark (canonical combining class > 0, planes 0 and 1) or a Hangul vowel
    or final jamo: characters whose normal form depends on the one before (the "maybe" answers of UAX #15's quick
    check, for which ``unicodedata.is_normalized`` computes the whole normal form). Only a shortcut: either
    answer gives the same text."""
    global _COMBINING
    if _COMBINING is None:
        table = np.array([unicodedata.combining(chr(cp)) > 0 for cp in range(0x20000)], dtype=bool)
        table[0x1161:0x11C3] = True
        _COMBINING = table
    return bool(_COMBINING[np.minimum(codes, 0x1FFFF)].any())


def _normalize_form(text: str, form: str) -> str:
    """``unicodedata.normalize(form, text)`` of a ``text`` that is not in that form, computed per distinct
    character where that is provably the same.

    Why: on a 10 MB document NFKC costs ~0.5 s, yet usually only a few distinct characters change (full-width
    commas in Chinese text). Let T be the text with every character c replaced by normalize(form, c). Then
    normalize(form, T) == normalize(form, text): a character's normal form is equivalent to it (canonically for
    NFC/NFD, compatibly for NFKC/NFKD), equivalence is preserved by concatenation, and the normal form of a
    string depends only on its equivalence class (UAX #15, sections 1.2 and 9). So when T passes the
    normalisation check, T is the answer; otherwise T is normalised in full (same result, same cost as before).
    The per-character map is applied with one numpy lookup when every image is a single character.
    """
    codes = _codes(text)
    present = np.flatnonzero(np.bincount(codes))
    images = {int(cp): unicodedata.normalize(form, chr(cp)) for cp in present.tolist()}
    changed = {cp: v for cp, v in images.items() if v != chr(cp)}
    if not changed:
        # every character is its own normal form, so the text is not normalised only in context (decomposed
        # accents to compose): the full normalisation, without a second check that costs as much (~0.25 s)
        return unicodedata.normalize(form, text)
    if all(len(v) == 1 for v in changed.values()):
        lut = np.arange(int(present[-1]) + 1, dtype=np.uint32)
        for cp, v in changed.items():
            lut[cp] = ord(v)
        out = _from_codes(lut[codes])
    else:
        # some images are longer (… -> ..., ﬁ -> fi): splice them in at their positions
        lut = np.zeros(int(present[-1]) + 1, dtype=bool)
        lut[list(changed)] = True
        where = np.flatnonzero(lut[codes]).tolist()
        parts: list[str] = []
        prev = 0
        for i in where:
            parts.append(text[prev:i])
            parts.append(changed[ord(text[i])])
            prev = i + 1
        parts.append(text[prev:])
        out = "".join(parts)
    return out if unicodedata.is_normalized(form, out) else unicodedata.normalize(form, out)


def _restore_cjk_punct(original: str, normalized: str) -> str:
    """Put back the full-width punctuation NFKC replaced, where a Chinese character or another such punctuation
    mark is adjacent in the original.

    NFKC maps each of these characters to exactly one character, so positions line up as long as nothing else in
    the text changed length (one vectorised pass over the code points); where they do not line up, a regex over
    the normalised text is used instead.
    """
    if not any(c in original for c in CJK_PUNCT):
        return normalized
    if len(original) == len(normalized):
        o = _codes(original)
        is_p = np.isin(o, _PUNCT_CODES)
        near_ok = _is_han(o) | is_p  # a neighbour that makes the mark Chinese punctuation
        side = np.zeros(o.size, dtype=bool)
        side[1:] |= near_ok[:-1]
        side[:-1] |= near_ok[1:]
        where = np.flatnonzero(is_p & side)
        if where.size == 0:
            return normalized
        n = _codes(normalized).copy()
        hit = where[
            n[where] == _PUNCT_IMAGE[o[where]]
        ]  # the mark was changed to its NFKC image there (not something else)
        n[hit] = o[hit]
        return _from_codes(n)
    back = {v: k for k, v in _NFKC_OF.items() if len(v) == 1}
    pattern = re.compile(
        f"(?<=[{_CJK}])([{re.escape(''.join(back))}])|([{re.escape(''.join(back))}])(?=[{_CJK}])"
    )
    return pattern.sub(lambda m: back[m.group(1) or m.group(2)], normalized)


_ZERO_WIDTH = np.array([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF], dtype=np.uint32)
_OTHER_SPACE_CODES = np.array([0x09, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F], dtype=np.uint32)


class _Codes:
    """The code points of the text being normalised, recomputed only when the text object changes; the cheap
    numpy tests below decide whether a regex pass over a 10 MB text is needed at all (most passes change
    nothing, and a regex scan costs ~0.1 s per 10 MB even when it finds nothing)."""

    def __init__(self) -> None:
        self._text: str | None = None
        self._codes = np.zeros(0, dtype=np.uint32)

    def of(self, text: str) -> np.ndarray:
        if text is not self._text:
            self._text, self._codes = text, _codes(text)
        return self._codes


def _has_control(c: np.ndarray) -> bool:
    """Any character ``_CONTROL_RE`` removes."""
    return bool(
        (((c < 0x20) & (c != 0x09) & (c != 0x0A)) | ((c >= 0x7F) & (c <= 0x9F))).any()
        or np.isin(c, _ZERO_WIDTH).any()
    )


def _has_other_space(c: np.ndarray) -> bool:
    """Any space character other than U+0020 (tab, no-break space, the U+2000 block ...)."""
    return bool(np.isin(c, _OTHER_SPACE_CODES).any())


def _has_fullwidth(c: np.ndarray) -> bool:
    """Any match of ``_FW_RE``: full-width digits or letters, or the ideographic space."""
    return bool(
        (
            ((c >= 0xFF10) & (c <= 0xFF19))
            | ((c >= 0xFF21) & (c <= 0xFF3A))
            | ((c >= 0xFF41) & (c <= 0xFF5A))
        ).any()
        or (c == 0x3000).any()
    )


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
    codes = _Codes()
    if remove_control:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if _has_control(codes.of(text)):
            text = _CONTROL_RE.sub("", text)
    if form and _composes(codes.of(text)):
        # decomposed accents and the like: the check would cost a full normalisation, so normalise at once
        normalized = unicodedata.normalize(form, text)
        if normalized != text:
            original, text = text, normalized
            if keep_cjk_punctuation and form in ("NFKC", "NFKD"):
                text = _restore_cjk_punct(original, text)
    elif form and not unicodedata.is_normalized(form, text):
        original = text
        text = _normalize_form(text, form)
        if keep_cjk_punctuation and form in ("NFKC", "NFKD"):
            text = _restore_cjk_punct(original, text)
    if fullwidth_to_halfwidth and _has_fullwidth(codes.of(text)):
        text = _FW_RE.sub(lambda m: m.group().translate(_FW_ALNUM), text)
    if converter is not None and CJK_RE.search(text):
        text = converter.convert(text)  # only texts with Han characters
    if clean_whitespace:
        # each substitution only where something changes (a 10 MB text is mostly single spaces)
        # every other space becomes U+0020, runs of spaces collapse to one, lines lose trailing spaces
        if _has_other_space(codes.of(text)):
            text = _OTHER_SPACE_RE.sub(" ", text)
        if "  " in text:
            text = _SPACE_RUN_RE.sub(" ", text)
        if " \n" in text:
            text = "\n".join(line.rstrip(" ") for line in text.split("\n"))
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
        traditional_to_simplified: bool = Field(False, description="OpenCC t2s (needs the opencc package)")

    def setup(self) -> None:
        self._converter = None
        if self.params.traditional_to_simplified:
            opencc = require("opencc", "curate", "normalize (traditional_to_simplified)")
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
