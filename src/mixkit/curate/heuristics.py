"""Rule-based quality filters: Gopher repetition and quality, C4, FineWeb — for English and Chinese.

Sources (English defaults are the published ones):

- Gopher: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
  Appendix A.1.1 (quality filters) and Table A1 (repetition thresholds).
- C4: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
  Section 2.2 (line-level rules, 5 sentences, 3 words, lorem ipsum, curly bracket, javascript), and the C4
  reference cleaner in tensorflow_datasets (policy lines, 1000-character words, citation markers).
- FineWeb: Penedo et al. 2024, "The FineWeb Datasets", Section 3.5 (custom filters: line punctuation ratio
  0.12, duplicated-line character ratio 0.1... measured as 0.01 in the released pipeline, short-line ratio 0.67,
  list ratio 0.3).

Chinese. The rules are the same; what changes is the unit (a "word" is a Han character, so lengths and n-grams
are character-based), the sentence punctuation (。！？) and the stop words. The ``zh`` rows of ``DEFAULTS`` are
mixkit's adaptation, each deviation explained next to it: the word-length bounds of Gopher make no sense when every
word is one character (disabled), and a Chinese line carries about as much as an English line three times as
long, so FineWeb's short-line length is scaled from 30 to 10 characters.

Every filter reads the shared ``TextStats`` of the document (computed once, see ``textstats``) and picks the
thresholds of the document's language: ``lang: auto`` uses ``meta.lang`` from the ``language`` step, or the
script of the text. Any threshold can be overridden in the recipe (``null`` disables a rule).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from mixkit.curate.textstats import (
    CJK_CHARS,
    STATS_KEY,
    TERMINAL_PUNCTUATION,
    TextStats,
    code_units,
    count_sentences_in,
    from_code_units,
    is_punct_token,
    split_words,
    text_stats,
)
from mixkit.pipeline.step import Filter, ShardContext, StepParams
from mixkit.records import Document

log = logging.getLogger("mixkit.curate.heuristics")

# Gopher's stop words (App. A: "at least two of the following English stop words: the, be, to, of, and, that,
# have, with"). Chinese: the most frequent function characters/words of modern written Chinese (mixkit's list,
# after the high-frequency function words in Chinese word-frequency lists); a real Chinese sentence almost
# always contains two of them.
STOP_WORDS = {
    "en": ("the", "be", "to", "of", "and", "that", "have", "with"),
    "zh": (
        "的",
        "了",
        "是",
        "在",
        "和",
        "有",
        "我",
        "不",
        "这",
        "也",
        "就",
        "人",
        "都",
        "一",
        "他",
        "们",
        "个",
        "上",
        "中",
        "为",
    ),
}

# Per-language default thresholds. Units: words (Chinese: characters), characters, or fractions in [0, 1].
_GOPHER_REPETITION: dict[str, Any] = {
    "dup_line_frac": 0.3,
    "dup_para_frac": 0.3,
    "dup_line_char_frac": 0.2,
    "dup_para_char_frac": 0.2,
    "top_n_grams": {2: 0.2, 3: 0.18, 4: 0.16},
    "dup_n_grams": {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
}

DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "gopher_repetition": {
        # Rae et al. 2021, Table A1.
        "en": _GOPHER_REPETITION,
        # Same fractions over character n-grams (RedPajama-V2's quality signals apply the Gopher repetition
        # fractions to character-segmented CJK text the same way).
        "zh": _GOPHER_REPETITION,
    },
    "gopher_quality": {
        # Rae et al. 2021, App. A.1.1: 50..100,000 words, mean word length 3..10 characters, symbol-to-word ratio
        # 0.1 (# and ellipsis), <= 90 % bullet lines, <= 30 % lines ending in an ellipsis, >= 80 % words with a
        # letter, >= 2 stop words.
        "en": {
            "min_doc_words": 50,
            "max_doc_words": 100_000,
            "min_avg_word_length": 3.0,
            "max_avg_word_length": 10.0,
            "max_symbol_word_ratio": 0.1,
            "max_bullet_lines_ratio": 0.9,
            "max_ellipsis_lines_ratio": 0.3,
            "min_alpha_words_ratio": 0.8,
            "min_stop_words": 2,
        },
        # Words are characters: the length bounds are meaningless (every Han word has length 1) and disabled;
        # 50 characters is a short paragraph; stop words from STOP_WORDS["zh"].
        "zh": {
            "min_doc_words": 50,
            "max_doc_words": 300_000,
            "min_avg_word_length": None,
            "max_avg_word_length": None,
            "max_symbol_word_ratio": 0.1,
            "max_bullet_lines_ratio": 0.9,
            "max_ellipsis_lines_ratio": 0.3,
            "min_alpha_words_ratio": 0.6,
            "min_stop_words": 2,
        },
    },
    "c4": {
        # Raffel et al. 2020, Sec. 2.2 + the tfds C4 cleaner. A Chinese line needs 3 characters, not 3 words.
        "en": {"min_num_sentences": 5, "min_words_per_line": 3, "max_word_length": 1000},
        "zh": {"min_num_sentences": 5, "min_words_per_line": 3, "max_word_length": 1000},
    },
    "fineweb": {
        # Penedo et al. 2024, Sec. 3.5 and the released FineWeb pipeline.
        "en": {
            "line_punct_thr": 0.12,
            "short_line_thr": 0.67,
            "short_line_length": 30,
            "char_duplicates_ratio": 0.01,
            "new_line_ratio": 0.3,
        },
        # 30 English characters ~ 6 words ~ 10 Chinese characters.
        "zh": {
            "line_punct_thr": 0.12,
            "short_line_thr": 0.67,
            "short_line_length": 10,
            "char_duplicates_ratio": 0.01,
            "new_line_ratio": 0.3,
        },
    },
}


def _dup_count_and_chars(items: list[str]) -> tuple[int, int]:
    """(number of items equal to an earlier item, their total characters)."""
    uniq = set(items)
    return len(items) - len(uniq), sum(map(len, items)) - sum(map(len, uniq))


class _LangFilter(Filter):
    """A filter whose thresholds come from ``DEFAULTS[name][lang]`` overridden by explicitly set params."""

    family: ClassVar[str] = ""

    def thresholds(self, lang: str) -> dict[str, Any]:
        table = DEFAULTS[self.family]
        base = dict(table.get(lang, table["en"]))
        for key in self.params.model_fields_set:
            if key in base:
                base[key] = getattr(self.params, key)
        return base

    def stats(self, doc: Document) -> TextStats:
        return text_stats(doc, self.params.lang)

    def check(self, doc: Document, ctx: ShardContext) -> bool | str:
        raise NotImplementedError

    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        verdict = self.check(doc, ctx)
        if verdict is not True:
            # a dropped document waits in memory until the executor writes it: free its cached statistics
            doc.meta.pop(STATS_KEY, None)
        return verdict


class GopherRepetition(_LangFilter):
    """Drop documents with repeated lines, paragraphs or n-grams (Rae et al. 2021, App. A, Table A1).

    Fractions are of the document's characters (``len(text)``) except ``dup_line_frac``/``dup_para_frac``
    (fractions of lines/paragraphs). n-grams are word n-grams (Chinese: character n-grams). Cost is
    O(words · log words) with numpy hashing: no quadratic loop on pathological inputs.
    """

    name = "gopher_repetition"
    family = "gopher_repetition"

    class Params(StepParams):
        lang: str = Field("auto", description="auto (meta.lang or script), en or zh: picks the defaults row")
        dup_line_frac: float | None = None
        dup_para_frac: float | None = None
        dup_line_char_frac: float | None = None
        dup_para_char_frac: float | None = None
        top_n_grams: dict[int, float] | None = None
        dup_n_grams: dict[int, float] | None = None

    def check(self, doc: Document, ctx: ShardContext) -> bool | str:
        text = doc.text
        if not text:
            return "empty"
        st = self.stats(doc)
        th = self.thresholds(st.lang)
        n_chars = len(text)
        paras = st.paragraphs
        n_dup, dup_chars = _dup_count_and_chars(paras)
        if th["dup_para_frac"] and n_dup / len(paras) > th["dup_para_frac"]:
            return "dup_para_frac"
        if th["dup_para_char_frac"] and dup_chars / n_chars > th["dup_para_char_frac"]:
            return "dup_para_char_frac"
        lines = st.lines_nl
        n_dup, dup_chars = _dup_count_and_chars(lines)
        if th["dup_line_frac"] and n_dup / len(lines) > th["dup_line_frac"]:
            return "dup_line_frac"
        if th["dup_line_char_frac"] and dup_chars / n_chars > th["dup_line_char_frac"]:
            return "dup_line_char_frac"
        for n, frac in sorted((th["top_n_grams"] or {}).items()):
            if frac is not None and st.top_ngram_exceeds(int(n), frac * n_chars):
                return f"top_{n}_gram"
        dup_limits = [
            (int(n), frac * n_chars)
            for n, frac in sorted((th["dup_n_grams"] or {}).items())
            if frac is not None
        ]
        # One upper bound, valid for every n from the smallest up, below the smallest limit settles the whole sweep
        # (a document that passes, the usual case, then skips all its scans); otherwise scan each n exactly.
        if dup_limits and st.duplicate_ngrams_within(dup_limits[0][0], min(lim for _, lim in dup_limits)):
            return True
        for n, limit in dup_limits:
            if st.duplicate_ngram_chars(n, stop_above=int(limit)) > limit:
                return f"duplicated_{n}_n_grams"
        return True


class GopherQuality(_LangFilter):
    """Gopher's document quality rules (Rae et al. 2021, App. A.1.1).

    Words counted for the length bounds exclude pure-punctuation tokens; "avg word length" is in characters;
    the symbol ratio is (# count, or ... + … count) per word; bullet/ellipsis ratios are per line; the alpha ratio
    is the share of words containing a letter; stop words are counted as distinct words present.
    """

    name = "gopher_quality"
    family = "gopher_quality"

    class Params(StepParams):
        lang: str = "auto"
        min_doc_words: int | None = None
        max_doc_words: int | None = None
        min_avg_word_length: float | None = None
        max_avg_word_length: float | None = None
        max_symbol_word_ratio: float | None = None
        max_bullet_lines_ratio: float | None = None
        max_ellipsis_lines_ratio: float | None = None
        min_alpha_words_ratio: float | None = None
        min_stop_words: int | None = None
        stop_words: list[str] | None = Field(None, description="replaces the language's default stop words")

    def check(self, doc: Document, ctx: ShardContext) -> bool | str:
        st = self.stats(doc)
        th = self.thresholds(st.lang)
        text = doc.text
        f = st.word_features
        n_words, n_ns = f["n_words"], f["n_non_symbol"]
        if th["min_doc_words"] and n_ns < th["min_doc_words"]:
            return "gopher_short_doc"
        if th["max_doc_words"] and n_ns > th["max_doc_words"]:
            return "gopher_long_doc"
        if n_ns:
            avg = f["non_symbol_chars"] / n_ns
            if th["min_avg_word_length"] and avg < th["min_avg_word_length"]:
                return "gopher_below_avg_threshold"
            if th["max_avg_word_length"] and avg > th["max_avg_word_length"]:
                return "gopher_above_avg_threshold"
        if n_words == 0:
            return "gopher_short_doc"
        ratio = th["max_symbol_word_ratio"]
        if ratio and text.count("#") / n_words > ratio:
            return "gopher_too_many_hashes"
        if ratio and (text.count("...") + text.count("…")) / n_words > ratio:
            return "gopher_too_many_ellipsis"
        lines = st.splitlines or [""]
        if th["max_bullet_lines_ratio"]:
            bullets = sum(1 for s in lines if s.lstrip().startswith(("•", "-")))
            if bullets / len(lines) > th["max_bullet_lines_ratio"]:
                return "gopher_too_many_bullets"
        if th["max_ellipsis_lines_ratio"]:
            ell = sum(1 for s in lines if s.rstrip().endswith(("...", "…")))
            if ell / len(lines) > th["max_ellipsis_lines_ratio"]:
                return "gopher_too_many_end_ellipsis"
        if th["min_alpha_words_ratio"] and f["n_alpha"] / n_words < th["min_alpha_words_ratio"]:
            return "gopher_below_alpha_threshold"
        if th["min_stop_words"]:
            stop = (
                self.params.stop_words
                if self.params.stop_words is not None
                else STOP_WORDS.get(st.lang, STOP_WORDS["en"])
            )
            if len(st.words_present(stop)) < th["min_stop_words"]:
                return "gopher_enough_stop_words"
        return True


_CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_C4_END = (".", "?", "!", '"', "'")
_C4_END_ZH = (*_C4_END, "。", "？", "！", "”", "」", "』", "…")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_SENT_PUNCT = frozenset(TERMINAL_PUNCTUATION)


def count_sentences(words: list[str]) -> int:
    """Sentences in a line of words: a sentence starts at the first word that follows a sentence-final
    punctuation token (. ! ? 。！？) and is not itself punctuation (the rule of spaCy's rule-based sentencizer)."""
    if not words:
        return 0
    n, seen_end = 1, False
    for w in words:
        is_end = w in _SENT_PUNCT
        if seen_end and not is_end and not is_punct_token(w):
            n += 1
            seen_end = False
        elif is_end:
            seen_end = True
    return n


_ZH_UNITS_RE = re.compile(f"[{CJK_CHARS}]|[^\\W_{CJK_CHARS}]+")
# a sentence boundary: 。！？ (or . ! ? before a space/punctuation), closing marks, then the next word character
_ZH_BOUNDARY_RE = re.compile(r"(?:[。！？]|[.!?](?=[\s\W]))[\s\W]*?(?=[^\W_])")


def count_sentences_zh(line: str) -> int:
    """Sentences in a Chinese line: 1 + the number of sentence-final marks followed by more text (the same rule as
    ``count_sentences``, on characters instead of tokens)."""
    return (1 + len(_ZH_BOUNDARY_RE.findall(line))) if line.strip() else 0


_SENTENCE_PREFIX = 4096  # characters of a long line whose sentences are counted first (``_line_sentences``)
_SENTENCE_BULK = (
    1 << 16
)  # characters from which a line's sentences are counted from arrays (``count_sentences_in``)


def _line_sentences(line: str, zh: bool, need: int) -> int:
    """The sentences of ``line`` (``count_sentences`` of its words, or ``count_sentences_zh``), or, when its first
    ``_SENTENCE_PREFIX`` characters already hold ``need`` of them, that lower count: C4 only asks whether a page
    reaches its minimum, and a 10 MB line of ~1.4 M sentences spent ~1 s splitting all its words for it.

    Exact for that question: the prefix ends before an ASCII space, so its words are the line's first words and
    its sentence boundaries the line's first boundaries; a count never falls as words are added."""
    if len(line) > _SENTENCE_PREFIX:
        cut = line.find(" ", _SENTENCE_PREFIX)
        if cut > 0:
            head = line[:cut]
            n = count_sentences_zh(head) if zh else count_sentences(split_words(head))
            if n >= need:
                return n
    if not zh and len(line) >= _SENTENCE_BULK:
        return count_sentences_in(line)  # the same count without a Python string per word
    return count_sentences_zh(line) if zh else count_sentences(split_words(line))


# --- whole-text line tables (the fast paths of C4 and FineWeb) -------------------------------------------------
# Documents of at least this many lines take the whole-text paths: below, the per-line loop of a few hundred
# lines costs less than the fixed cost of a dozen numpy passes.
_FAST_LINES = 1024
# ... and lines of at most this many characters on average: the per-line loops cost ~0.3-1.2 us a line (c4) and
# ~0.25 us (fineweb), the arrays ~10-30 ns a character, so past these lengths the loops cost less.
_C4_LINE_CHARS = 32
_FINEWEB_LINE_CHARS = 16
# character classes: a space of ``str.isspace`` (what strip and split remove), a line break of ``str.splitlines``
_SPACE, _BREAK = 1, 2
_CLASS_MAX = 0x3001  # above the last whitespace code point (U+3000): every higher code point is clamped to it
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # the line boundaries of ``str.splitlines``
_CLASSES = np.array(
    [
        (_SPACE if chr(c).isspace() else 0) | (_BREAK if chr(c) in _BREAKS else 0)
        for c in range(_CLASS_MAX + 1)
    ],
    dtype=np.uint8,
)


def _many_lines(text: str, n_lines: int, line_chars: int) -> bool:
    """Whether ``text`` of ``n_lines`` lines takes the whole-text path: many lines, of at most ``line_chars``
    characters on average (longer lines are few enough for the line loop, which costs less than the arrays
    then, and stops as early at a page rule)."""
    return n_lines >= _FAST_LINES and n_lines * line_chars >= len(text)


def _classes(codes: np.ndarray) -> np.ndarray:
    return _CLASSES[codes] if codes.dtype == np.uint8 else _CLASSES[np.minimum(codes, _CLASS_MAX)]


def _prefix_sum(mask: np.ndarray) -> np.ndarray:
    """``out[i]`` = number of True in ``mask[:i]`` (length ``len(mask) + 1``)."""
    out = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=out[1:])
    return out


def _splitlines_bounds(text: str, codes: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of every line of ``text.splitlines()``: ``\\r\\n`` is one break, and a break that ends the
    text starts no line."""
    n = len(codes)
    brk = np.flatnonzero(cls & _BREAK)
    width: np.ndarray | int = 1
    if len(brk) != text.count("\n"):  # other breaks than "\n"
        lf_of_crlf = (codes[brk] == 10) & (brk > 0) & (codes[np.maximum(brk - 1, 0)] == 13)
        brk = brk[~lf_of_crlf]
        width = 1 + ((codes[brk] == 13) & (brk + 1 < n) & (codes[np.minimum(brk + 1, n - 1)] == 10))
    starts = np.concatenate(([0], brk + width))
    ends = np.concatenate((brk, [n]))
    if starts[-1] == n:
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _strip_bounds(starts: np.ndarray, ends: np.ndarray, space: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of every line after ``str.strip`` (an empty range at the line's start when it is blank);
    ``space``: whether each character is a space. Only lines that start or end with a space are looked up."""
    a, b = starts.copy(), ends.copy()
    nonempty = ends > starts
    if not nonempty.any():
        return a, b
    n = len(space)
    padded = nonempty & (space[np.minimum(starts, n - 1)] | space[np.maximum(ends - 1, 0)])
    fix = np.flatnonzero(padded)
    if len(fix):
        at = np.flatnonzero(~space)  # positions of the non-space characters
        before = _prefix_sum(~space)
        s, k1, k2 = starts[fix], before[starts[fix]], before[ends[fix]]
        blank = k1 == k2
        if len(at):
            a[fix] = np.where(blank, s, at[np.minimum(k1, len(at) - 1)])
            b[fix] = np.where(blank, s, at[np.maximum(k2 - 1, 0)] + 1)
        else:
            a[fix] = b[fix] = s
    return a, b


def _lines_containing(hay: str, needle: str, starts: np.ndarray) -> np.ndarray:
    """Per line (``starts``: line starts in ``hay``), whether ``needle`` (no line break in it) occurs in it.

    The occurrences are those of ``str.split``, which skips an occurrence that overlaps an earlier one: the earlier
    one is then in the same line, so every line holding the needle is found."""
    found = np.zeros(len(starts), dtype=bool)
    if needle not in hay:
        return found
    pieces = hay.split(needle)
    gaps = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1]
    at = np.cumsum(gaps + len(needle)) - len(needle)
    found[np.searchsorted(starts, at, side="right") - 1] = True
    return found


def _lines_at(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    found = np.zeros(len(starts), dtype=bool)
    found[np.searchsorted(starts, positions, side="right") - 1] = True
    return found


@functools.cache
def _zh_unit_kinds() -> np.ndarray:
    """Per BMP code point: 1 for a Han character of ``CJK_CHARS`` (a unit of ``_ZH_UNITS_RE`` each), 2 for another
    word character but "_" (``re``'s ``\\w``: ``str.isalnum``; a run of them is one unit), else 0."""
    kinds = np.array([2 if chr(c).isalnum() else 0 for c in range(0x10000)], dtype=np.uint8)
    for i in range(0, len(CJK_CHARS), 3):  # CJK_CHARS is a character class of ranges "a-b"
        kinds[ord(CJK_CHARS[i]) : ord(CJK_CHARS[i + 2]) + 1] = 1
    return kinds


def _zh_unit_starts(codes: np.ndarray) -> np.ndarray:
    """Whether each character starts a unit of ``_ZH_UNITS_RE`` (a line's unit count is then the count of its
    unit starts: the characters around a stripped line are spaces, which are in no unit)."""
    if codes.dtype == np.uint8:
        kinds = _zh_unit_kinds()[codes]
    else:
        kinds = _zh_unit_kinds()[np.minimum(codes, 0xFFFF)]
        astral = np.flatnonzero(codes > 0xFFFF)
        if len(
            astral
        ):  # beyond the table (Han of the extension planes are word characters outside CJK_CHARS)
            distinct, which = np.unique(codes[astral], return_inverse=True)
            kind = [2 if chr(c).isalnum() else 0 for c in distinct.tolist()]
            kinds[astral] = np.array(kind, dtype=np.uint8)[which]
    word = kinds == 2
    starts = kinds == 1
    starts[:1] |= word[:1]
    starts[1:] |= word[1:] & ~word[:-1]
    return starts


_FIRST_BLOCK = 1 << 16  # characters of the first block of lines of C4's whole-text path
_BREAK_RE = re.compile(f"[{_BREAKS}]")


def _line_cut(text: str, at: int) -> int:
    """The end of the line break at or after ``at`` (``len(text)`` if none): ``text[:cut]`` is whole lines."""
    m = _BREAK_RE.search(text, at) if at < len(text) else None
    if m is None:
        return len(text)
    i = m.start()
    return i + 2 if text[i] == "\r" and text.startswith("\n", i + 1) else i + 1


def _join_ranges(codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> str:
    """``"\\n".join(text[i:j] for i, j in zip(a, b))`` (``codes``: the text's code points) for ranges in order,
    each but the last followed by a character (its line break) outside every range."""
    n = len(codes)
    stop = b + 1  # each range with the character after it, which becomes the newline ...
    stop[-1] -= 1  # ... but the last range
    cover = np.cumsum(np.bincount(a, minlength=n + 1) - np.bincount(stop, minlength=n + 1))[:n] > 0
    out = codes[cover]
    out[np.cumsum(b[:-1] - a[:-1] + 1) - 1] = ord("\n")
    return from_code_units(out)


class C4(_LangFilter):
    """C4's line and page rules (Raffel et al. 2020, Sec. 2.2).

    Per line: drop lines with a word over ``max_word_length`` characters, remove citation markers ([1], [edit]),
    drop lines not ending in terminal punctuation (or ending in an ellipsis), lines with fewer than
    ``min_words_per_line`` words (Chinese: characters), lines mentioning javascript, cookie/terms-of-use lines.
    Per page: drop if "lorem ipsum" or "{" appears in a kept line, or fewer than ``min_num_sentences`` sentences
    remain. With ``remove_lines`` (default, as in C4) the document keeps only its kept lines.
    """

    name = "c4"
    family = "c4"

    class Params(StepParams):
        lang: str = "auto"
        min_num_sentences: int | None = None
        min_words_per_line: int | None = None
        max_word_length: int | None = None
        remove_citations: bool = True
        filter_no_terminal_punct: bool = True
        filter_lorem_ipsum: bool = True
        filter_javascript: bool = True
        filter_curly_bracket: bool = True
        filter_policy: bool = True
        remove_lines: bool = Field(
            True, description="rewrite the text to its kept lines (C4); false: only decide"
        )

    def check(self, doc: Document, ctx: ShardContext) -> bool | str:
        text = doc.text
        n_lines = text.count("\n") + text.count("\r")
        if not _many_lines(text, n_lines, _C4_LINE_CHARS):
            # the line loop splits the lines anyway: the other breaks (\u2028 ...) are counted for free
            n_lines = len(self.stats(doc).splitlines)
        return self._check_fast(doc) if _many_lines(text, n_lines, _C4_LINE_CHARS) else self._check_plain(doc)

    def _check_plain(self, doc: Document) -> bool | str:
        """The rules line by line: the reference that ``_check_fast`` must agree with."""
        p = self.params
        st = self.stats(doc)
        zh = st.lang == "zh"
        th = self.thresholds(st.lang)
        ends = _C4_END_ZH if zh else _C4_END
        max_wl = th["max_word_length"]
        min_wpl = th["min_words_per_line"] or 0
        n_sent = 0
        kept: list[str] = []
        long_wl = max_wl if max_wl and max_wl > 0 else None
        for line in st.splitlines:
            line = original = line.strip()
            # only a line longer than the limit can hold a word longer than it: the split is skipped otherwise
            # (10 MB of one number per line spent ~0.5 s splitting lines for this check)
            if long_wl is not None and len(line) > long_wl and any(len(w) > long_wl for w in line.split()):
                continue
            if p.remove_citations and "[" in line:
                line = _CITATION_RE.sub("", line)
            if p.filter_no_terminal_punct and (not line.endswith(ends) or line.endswith("...")):
                continue
            # Chinese: a line's "words" are its Han characters plus runs of letters/digits
            n_line_words = len(_ZH_UNITS_RE.findall(line)) if zh else len(original.split())
            if n_line_words < min_wpl:
                continue
            low = line.lower()
            if p.filter_lorem_ipsum and "lorem ipsum" in low:
                return "lorem_ipsum"
            if p.filter_javascript and "javascript" in low:
                continue
            if p.filter_curly_bracket and "{" in line:
                return "curly_bracket"
            if p.filter_policy and any(s in low for s in _POLICY):
                continue
            if th["min_num_sentences"] and n_sent < th["min_num_sentences"]:
                # past the minimum the count decides nothing more: it stops
                n_sent += _line_sentences(line, zh, th["min_num_sentences"] - n_sent)
            kept.append(line)
        if th["min_num_sentences"] and n_sent < th["min_num_sentences"]:
            return "too_few_sentences"
        if p.remove_lines:
            new = "\n".join(kept).strip()
            if not new:
                return "no_line_kept"  # only reachable with min_num_sentences disabled
            if new != doc.text:
                doc.text = new
        return True

    def _check_fast(self, doc: Document) -> bool | str:
        """``_check_plain`` with each rule applied to many lines at once, from arrays over the text's characters.

        Why: 10 MB of short lines is millions of lines, and the per-line loop (strip, split, lower, substring
        tests) spent 1.3-3 s on them. The text is taken in blocks of whole lines, each 4 times the one before
        (a page rule met early, say a "{" in the first lines, still ends the work early, as in the loop); in a
        block a line is a (start, end) pair: its stripped extent comes from the positions of non-space characters,
        its last characters and word count from the code array; citations are removed from the whole block at
        once (a citation never spans a line or touches its leading or trailing spaces, so each line keeps its
        offsets), and each phrase is found once in the lower-cased block. The rules run from the most selective
        (terminal punctuation) on the lines still kept; only lines longer than ``max_word_length`` and the
        sentence count (until the page reaches its minimum) go through Python strings, and the kept lines are
        joined from the code array.
        """
        st = self.stats(doc)
        zh = st.lang == "zh"
        th = self.thresholds(st.lang)
        need = th["min_num_sentences"]
        text = doc.text
        n_sent = 0
        kept: list[str] = []  # the kept lines of each block that has some, joined
        pos, size = 0, _FIRST_BLOCK
        while pos < len(text):
            cut = _line_cut(text, pos + size)
            verdict, n_sent, joined = self._check_block(text[pos:cut], zh, th, n_sent)
            if verdict is not None:
                return verdict
            if joined is not None:
                kept.append(joined)
            pos, size = cut, size * 4
        if need and n_sent < need:
            return "too_few_sentences"
        if self.params.remove_lines:
            new = "\n".join(kept).strip()
            if not new:
                return "no_line_kept"
            if new != text:
                doc.text = new
        return True

    def _check_block(
        self, text: str, zh: bool, th: dict[str, Any], n_sent: int
    ) -> tuple[str | None, int, str | None]:
        """The rules on ``text``, whole lines of a page whose earlier lines hold ``n_sent`` sentences: (the page's
        verdict if a line decides it, the sentences counted so far, the kept lines joined or None if none)."""
        p = self.params
        max_wl = th["max_word_length"]
        min_wpl = th["min_words_per_line"] or 0
        long_wl = max_wl if max_wl and max_wl > 0 else None
        codes = code_units(text)
        cls = _classes(codes)
        space = (cls & _SPACE).view(np.bool_)
        starts, ends = _splitlines_bounds(text, codes, cls)
        a, b = _strip_bounds(starts, ends, space)
        ok = np.ones(len(starts), dtype=bool)
        if long_wl is not None:
            for i in np.flatnonzero(b - a > long_wl).tolist():
                if any(len(w) > long_wl for w in text[a[i] : b[i]].split()):
                    ok[i] = False
        # the lines after citation removal: text2[a2:b2]
        text2, codes2, starts2, a2, b2 = text, codes, starts, a, b
        if p.remove_citations and "[" in text:
            text2 = _CITATION_RE.sub("", text)
            if len(text2) != len(text):
                codes2 = code_units(text2)
                starts2, ends2 = _splitlines_bounds(text2, codes2, _classes(codes2))
                a2, b2 = starts2 + (a - starts), ends2 - (ends - b)
        if p.filter_no_terminal_punct:
            end_codes = [ord(c) for c in (_C4_END_ZH if zh else _C4_END)]
            ok &= (b2 > a2) & np.isin(codes2[np.maximum(b2 - 1, 0)], end_codes)
        idx = np.flatnonzero(ok)  # the lines still kept, in order
        if p.filter_no_terminal_punct and len(idx):
            e = b2[idx]
            dots = (e - a2[idx] >= 3) & (codes2[e - 1] == ord("."))
            dots &= (codes2[np.maximum(e - 2, 0)] == ord(".")) & (codes2[np.maximum(e - 3, 0)] == ord("."))
            idx = idx[~dots]
        if min_wpl > 0 and len(idx):
            if zh:
                before_unit = _prefix_sum(_zh_unit_starts(codes2))
                n_words = before_unit[b2[idx]] - before_unit[a2[idx]]
            else:
                word_start = ~space
                word_start[1:] &= space[:-1]
                before_word = _prefix_sum(word_start)
                n_words = before_word[ends[idx]] - before_word[starts[idx]]
            idx = idx[n_words >= min_wpl]
        if len(idx):
            lower = text2.lower()
            if len(lower) != len(text2):
                # "İ" is the one character lower-cased to two ("i" + U+0307): a match can hold its "i" only as
                # the phrase's last character, which none is, so a one-character stand-in that is in no phrase
                # keeps every match and the positions
                lower = text2.replace("\u0130", "\u0307").lower()

            def containing(phrase: str) -> np.ndarray:
                """Per line of ``idx``: whether its lower-cased text holds ``phrase``."""
                if len(lower) == len(text2) and not phrase.endswith("i"):  # the positions carry over
                    return _lines_containing(lower, phrase, starts2)[idx]
                # line by line
                lines = map(text2.__getitem__, map(slice, a2[idx].tolist(), b2[idx].tolist()))
                return np.array([phrase in line.lower() for line in lines], dtype=bool)

            none = np.zeros(len(idx), dtype=bool)
            lorem = containing("lorem ipsum") if p.filter_lorem_ipsum else none
            javascript = containing("javascript") if p.filter_javascript else none
            curly = (
                _lines_at(np.flatnonzero(codes2 == ord("{")), starts2)[idx]
                if p.filter_curly_bracket
                else none
            )
            # the first line that reaches a page rule decides
            page = lorem | (~javascript & curly)
            if page.any():
                return ("lorem_ipsum" if lorem[int(np.argmax(page))] else "curly_bracket"), n_sent, None
            idx = idx[~javascript]
            if p.filter_policy and len(idx):
                for phrase in _POLICY:
                    idx = idx[~containing(phrase)]
        need = th["min_num_sentences"]
        if need:
            for i in idx:
                if n_sent >= need:
                    break
                n_sent += _line_sentences(text2[a2[i] : b2[i]], zh, need - n_sent)
        joined = _join_ranges(codes2, a2[idx], b2[idx]) if p.remove_lines and len(idx) else None
        return None, n_sent, joined


class FineWeb(_LangFilter):
    """FineWeb's custom filters (Penedo et al. 2024, Sec. 3.5).

    Over non-blank lines: the share ending in terminal punctuation must be >= ``line_punct_thr``; the share of
    lines of at most ``short_line_length`` characters must be <= ``short_line_thr``; characters in duplicated lines
    over all non-newline characters must be <= ``char_duplicates_ratio``; newlines per word <= ``new_line_ratio``.
    """

    name = "fineweb"
    family = "fineweb"

    class Params(StepParams):
        lang: str = "auto"
        line_punct_thr: float | None = None
        line_punct_exclude_zero: bool = False
        short_line_thr: float | None = None
        short_line_length: int | None = None
        char_duplicates_ratio: float | None = None
        new_line_ratio: float | None = None
        stop_chars: str | None = Field(None, description="line-final characters counted as punctuation")

    def check(self, doc: Document, ctx: ShardContext) -> bool | str:
        text = doc.text
        dense = _many_lines(text, text.count("\n"), _FINEWEB_LINE_CHARS)
        return self._check_fast(doc) if dense else self._check_plain(doc)

    def _check_plain(self, doc: Document) -> bool | str:
        """The rules over the list of lines: the reference that ``_check_fast`` must agree with."""
        st = self.stats(doc)
        th = self.thresholds(st.lang)
        lines = st.nonblank_lines
        if not lines:
            return "empty"
        stop = tuple(self.params.stop_chars) if self.params.stop_chars else tuple(TERMINAL_PUNCTUATION)
        if th["line_punct_thr"] is not None:
            ratio = sum(1 for ln in lines if ln.endswith(stop)) / len(lines)
            if ratio < th["line_punct_thr"] and not (ratio == 0 and self.params.line_punct_exclude_zero):
                return "line_punct_ratio"
        if th["short_line_thr"] is not None:
            short = th["short_line_length"]
            ratio = sum(1 for ln in lines if len(ln) <= short) / len(lines)
            if ratio > th["short_line_thr"]:
                return "short_line_ratio"
        return self._check_rest(doc, st, th)

    def _check_fast(self, doc: Document) -> bool | str:
        """``_check_plain`` with the line counts taken from arrays over the text's characters: a line is a
        (start, end) pair between newlines, non-blank when it holds a non-space character; its length and last
        character come from the bounds. Why: the per-line loops over 5 M lines of 10 MB spent ~1 s; the list of
        lines is still built when the duplicate-line rule is reached."""
        st = self.stats(doc)
        th = self.thresholds(st.lang)
        text = doc.text
        codes = code_units(text)
        newlines = np.flatnonzero(codes == ord("\n"))
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [len(codes)]))
        before = _prefix_sum((_classes(codes) & _SPACE) == 0)
        nonblank = before[ends] > before[starts]
        starts, ends = starts[nonblank], ends[nonblank]
        n_lines = len(starts)
        if not n_lines:
            return "empty"
        stop = self.params.stop_chars or TERMINAL_PUNCTUATION
        if th["line_punct_thr"] is not None:
            n_punct = int(np.count_nonzero(np.isin(codes[ends - 1], [ord(c) for c in stop])))
            ratio = n_punct / n_lines
            if ratio < th["line_punct_thr"] and not (ratio == 0 and self.params.line_punct_exclude_zero):
                return "line_punct_ratio"
        if th["short_line_thr"] is not None:
            ratio = int(np.count_nonzero(ends - starts <= th["short_line_length"])) / n_lines
            if ratio > th["short_line_thr"]:
                return "short_line_ratio"
        return self._check_rest(doc, st, th)

    def _check_rest(self, doc: Document, st: TextStats, th: dict[str, Any]) -> bool | str:
        """The duplicate-line and newline rules, after the line ratios."""
        if th["char_duplicates_ratio"] is not None:
            denom = len(doc.text) - doc.text.count("\n")
            if denom and _dup_count_and_chars(st.nonblank_lines)[1] / denom > th["char_duplicates_ratio"]:
                return "char_dup_ratio"
        if th["new_line_ratio"] is not None:
            n_words = st.n_words
            if n_words == 0 or doc.text.count("\n") / n_words > th["new_line_ratio"]:
                return "list_ratio"
        return True
