"""Text statistics computed once per document and shared by the heuristic filters.

The Gopher, C4 and FineWeb rules all look at the same few things: words, lines, paragraphs, n-gram repetition.
``text_stats(doc)`` computes them lazily (each property on first use) and caches the result on the document, so a
chain ``gopher_repetition -> gopher_quality -> c4 -> fineweb`` splits the text into words once, not four times.

Cache: the object lives in ``doc.meta["_stats"]``. Meta keys starting with ``_`` are *transient*: they are never
written to disk (writers drop them) and a step may not rely on them across a process boundary. The cache is valid
only while ``doc.text`` is the very string object it was computed from (``stats.text is doc.text``; the stats keep
a reference to that string so its identity cannot be recycled), so a step that rewrites the text (``c4`` removing
lines, ``normalize``, ``pii``) invalidates it automatically.

Word splitting. Gopher (Rae et al. 2021, App. A) and FineWeb (Penedo et al. 2024) count *words* as produced by a
word tokenizer (datatrove uses spaCy's rule-based English tokenizer). ``split_words`` reproduces the behaviour of
such a tokenizer with a fast cached splitter: whitespace chunks, then leading punctuation, trailing punctuation
(``'s``, periods after lower-case letters and digits, ellipses), contractions (``don't -> do n't``) and a few
infixes (hyphen between letters, ``/ : = < >`` before a letter, comma between letters). Chunks are cached per
process, so the cost per word is about one dict lookup; every loop is linear in the chunk length, so a 200 KB
run of punctuation costs milliseconds, not the tens of seconds a quadratic affix loop spends on it. A long text
whose chunks are mostly new (random tokens, logs, JSON dumps: the cache cannot help) is split as a whole with
numpy over its characters instead (``_bulk_cuts``; the same words, proof there), and its word count, lengths,
hashes and features then come from the bytes without building a Python string per word.

Chinese: every Han character counts as one word (character-based lengths and n-grams, as Chinese has no
spaces), and 。！？ end sentences.
"""

from __future__ import annotations

import operator
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from itertools import accumulate, filterfalse, repeat
from typing import Any

import numpy as np

from mixkit.records import Document

STATS_KEY = "_stats"

# Han ideographs (CJK Unified Ideographs + Extension A + compatibility ideographs) and CJK symbols/punctuation.
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK_CHARS}]")
# One Han character or CJK punctuation mark, or a run of other non-space characters: C-speed tokenisation that
# makes every Han character a word of its own.
_CJK_SPLIT_CLASS = f"{CJK_CHARS}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
_CJK_TOKEN_RE = re.compile(f"[{_CJK_SPLIT_CLASS}]|[^\\s{_CJK_SPLIT_CLASS}]+")

# Punctuation characters that make a token a "symbol" (Gopher's non-symbol words). ASCII punctuation, common
# Unicode punctuation, CJK punctuation and the C0/C1 control characters.
PUNCTUATION = (
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    "—”“‘’«»„‚–…•·¿¡§¶′″、。，！？：；（）「」『』【】《》〈〉〔〕～％＃＆＊＋－．／＠＼＾＿｀｜￥━►∶´"
    + "".join(chr(c) for c in range(32))
    + "".join(chr(c) for c in range(127, 160))
)
PUNCTUATION_SET = frozenset(PUNCTUATION)

# Sentence-final punctuation (FineWeb's line-end check, C4's terminal punctuation, spaCy sentencizer's set for the
# scripts mixkit targets). Unit: characters.
TERMINAL_PUNCTUATION = frozenset(".!?。！？．｡‼⁇⁈⁉﹒﹖﹗")

# --- the English word splitter -------------------------------------------------------------------------------
_QUOTES = "'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉"
_PUNCT = ",:;!?¿¡()[]{}<>_#*&。？！，、；：～·"
_CURRENCY = "$£€¥฿₽₹¢"
_PREFIX_CHARS = frozenset(_PUNCT + _QUOTES + _CURRENCY + "§%=—–…")
_SUFFIX_CHARS = frozenset(_PUNCT + _QUOTES + "—–…")
_PERIOD_AFTER = frozenset("%²-+" + _PUNCT + _QUOTES)
_UNITS = (
    "km",
    "m",
    "cm",
    "mm",
    "dm",
    "nm",
    "µm",
    "ha",
    "yd",
    "in",
    "ft",
    "kg",
    "g",
    "mg",
    "µg",
    "t",
    "lb",
    "oz",
    "mph",
    "kmh",
    "hPa",
    "Pa",
    "mbar",
    "mb",
    "MB",
    "kb",
    "KB",
    "gb",
    "GB",
    "tb",
    "TB",
    "T",
    "G",
    "M",
    "K",
    "%",
)
_UNIT_SET = frozenset(_UNITS)
_CONTRACTION_RE = re.compile(r"^([^\W_]+?)(n['’]t|['’](?:m|re|ve|ll|d))$", re.IGNORECASE)
_APOS_S = ("'s", "'S", "’s", "’S")
_ALPHA = r"[^\W\d_]"
_INFIX_RE = re.compile(
    r"\.\.+|…"
    r"|(?<=[0-9])[+\-*^](?=[0-9-])"
    r"|(?<=[a-zß-öø-ÿ'\"”“`‘´’])\.(?=[A-ZÀ-ÖØ-Þ'\"”“`‘´’])"
    rf"|(?<={_ALPHA}),(?={_ALPHA})"
    rf"|(?<={_ALPHA}|[0-9])(?:---|--|——|-|–|—|~)(?={_ALPHA})"
    rf"|(?<={_ALPHA}|[0-9])[:<>=/](?={_ALPHA})"
)
# Abbreviations kept whole (their final period is part of the word), as English tokenizers do.
_ABBREVIATIONS = frozenset(
    [
        "Mr.",
        "Mrs.",
        "Ms.",
        "Dr.",
        "Prof.",
        "St.",
        "Jr.",
        "Sr.",
        "Mt.",
        "Gen.",
        "Gov.",
        "Rep.",
        "Sen.",
        "Rev.",
        "Inc.",
        "Ltd.",
        "Co.",
        "co.",
        "Corp.",
        "Bros.",
        "vs.",
        "v.s.",
        "e.g.",
        "E.g.",
        "i.e.",
        "I.e.",
        "a.m.",
        "p.m.",
        "Ph.D.",
        "D.C.",
        "U.S.",
        "N.Y.",
        "Jan.",
        "Feb.",
        "Mar.",
        "Apr.",
        "Jun.",
        "Jul.",
        "Aug.",
        "Sep.",
        "Sept.",
        "Oct.",
        "Nov.",
        "Dec.",
    ]
    + [f"{c}." for c in "abcdefghijklmnopqrstuvwxyz"]
)
_CHUNK_CACHE: dict[str, tuple[str, ...]] = {}
_TOKEN_FEATURES: dict[str, tuple[bool, bool]] = {}  # token -> (has a non-punctuation char, has a letter)
_CHUNK_CACHE_MAX = 200_000  # entries; a cache of short strings, a few tens of MB at most


def _special(s: str) -> tuple[str, ...] | None:
    if s in _ABBREVIATIONS:
        return (s,)
    if "'" in s or "’" in s:
        m = _CONTRACTION_RE.match(s)
        if m:
            return (m.group(1), m.group(2))
    return None


def _prefix_len(s: str, i: int, j: int) -> int:
    c = s[i]
    if c == "." and i + 1 < j and s[i + 1] == ".":
        k = i + 2
        while k < j and s[k] == ".":
            k += 1
        return k - i
    if c in _PREFIX_CHARS:
        return 1
    if c == "+" and not (i + 1 < j and s[i + 1].isdigit()):
        return 1
    return 0


def _suffix_len(s: str, i: int, j: int) -> int:
    c = s[j - 1]
    if c == ".":
        k = j - 1
        while k > i and s[k - 1] == ".":
            k -= 1
        if j - k >= 2:
            return j - k
        if j - 1 > i:
            p = s[j - 2]
            if p.isdigit() or p.islower() or p in _PERIOD_AFTER:
                return 1
            if j - 2 > i and p.isupper() and s[j - 3].isupper():
                return 1
        return 0
    if j - i >= 2 and s[j - 2 : j] in _APOS_S:
        return 2
    if c in _SUFFIX_CHARS:
        return 1
    if j - 1 > i and s[j - 2].isdigit() and (c == "+" or c in _CURRENCY):
        return 1
    if c.isalpha() or c == "%":
        # a unit after a number: 10km, 5%
        for u_len in (4, 3, 2, 1):
            if j - u_len > i and s[j - u_len - 1].isdigit() and s[j - u_len : j] in _UNIT_SET:
                return u_len
    return 0


def _infix_split(core: str, out: list[str]) -> None:
    if "://" in core or core.startswith("www."):
        out.append(core)  # a URL stays one word
        return
    start = 0
    for m in _INFIX_RE.finditer(core):
        if m.start() > start:
            out.append(core[start : m.start()])
        if m.end() > m.start():
            out.append(m.group())
        start = m.end()
    if start < len(core):
        out.append(core[start:])


def _split_chunk(chunk: str) -> tuple[str, ...]:
    """Split one whitespace-free chunk into words (linear time in the chunk length)."""
    special = _special(chunk)
    if special is not None:
        return special
    prefixes: list[str] = []
    suffixes: list[str] = []
    i, j = 0, len(chunk)
    core_special: tuple[str, ...] | None = None
    last = -1
    while i < j and j - i != last:
        last = j - i
        pre = _prefix_len(chunk, i, j)
        if pre and i + pre < j:
            rest = _special(chunk[i + pre : j]) if j - i - pre < 32 else None
            if rest is not None:
                prefixes.append(chunk[i : i + pre])
                core_special, i = rest, j
                break
        suf = _suffix_len(chunk, i + pre, j) if i + pre < j else 0
        if suf and j - suf > i:
            rest = _special(chunk[i : j - suf]) if j - suf - i < 32 else None
            if rest is not None:
                suffixes.append(chunk[j - suf : j])
                core_special, i = rest, j
                break
        if pre and suf and pre + suf <= j - i:
            prefixes.append(chunk[i : i + pre])
            suffixes.append(chunk[j - suf : j])
            i, j = i + pre, j - suf
        elif pre:
            prefixes.append(chunk[i : i + pre])
            i += pre
        elif suf:
            suffixes.append(chunk[j - suf : j])
            j -= suf
        if i < j and j - i < 32:
            sp = _special(chunk[i:j])
            if sp is not None:
                core_special, i = sp, j
                break
    out = prefixes
    if core_special is not None:
        out.extend(core_special)
    elif i < j:
        _infix_split(chunk[i:j], out)
    out.extend(reversed(suffixes))
    return tuple(out)


def split_words(text: str, cjk_chars: bool = False) -> list[str]:
    """Split ``text`` into words the way an English rule-based word tokenizer does (see module docstring).

    Args:
        text: any text.
        cjk_chars: also make every Han character (and CJK punctuation mark) a word of its own; used for Chinese,
            whose words are counted in characters.

    Returns:
        the words, punctuation tokens included, whitespace excluded.
    """
    if cjk_chars and CJK_RE.search(text):
        return _expand_chunks(_CJK_TOKEN_RE.findall(text))
    if len(text) >= _BULK_MIN and _use_bulk(text[:_BULK_HEAD].split()):
        return _bulk_split_words(text)
    return _expand_chunks(text.split())


def _expand_chunks(chunks: list[str]) -> list[str]:
    """The words of whitespace-free ``chunks`` (``split_words`` after its whitespace split): each chunk replaced
    by its pieces."""
    # Most chunks are plain words (letters only, or digits only) and are words as they are: find the others with a
    # comprehension (C-speed string predicates) and splice their pieces in, instead of a Python loop over all.
    complex_at = [i for i, c in enumerate(chunks) if not (c.isalpha() or c.isdigit())]
    if not complex_at:
        return chunks
    cache = _CHUNK_CACHE
    long_cache: dict[str, tuple[str, ...]] = {}  # bounded by the text itself
    words: list[str] = []
    extend = words.extend
    prev = 0
    for i in complex_at:
        if i > prev:
            extend(chunks[prev:i])
        chunk = chunks[i]
        toks = cache.get(chunk)
        if toks is None:
            if len(chunk) < 64:
                toks = _split_chunk(chunk)
                if len(cache) >= _CHUNK_CACHE_MAX:
                    cache.clear()
                cache[chunk] = toks
            else:
                # Long chunks (ASCII table borders, URLs, base64) stay out of the process-wide cache, whose memory
                # is bounded by entry count; but they repeat within a document (a 10 MB page of tables spent 60 ms
                # re-splitting ~3,000 identical borders), so they are cached for this call only.
                toks = long_cache.get(chunk)
                if toks is None:
                    toks = long_cache[chunk] = _split_chunk(chunk)
        extend(toks)
        prev = i + 1
    if prev < len(chunks):
        extend(chunks[prev:])
    return words


# --- the word split of a whole text at once ---------------------------------------------------------------------
# ``_bulk_split_words`` gives ``_expand_chunks(text.split())`` for a long text with numpy over its characters, for
# texts of many distinct chunks (random tokens, logs, hashes) where the per-chunk path runs ``_split_chunk`` in
# Python for every chunk (~5 µs each: 10 MB of random e-mail addresses took several seconds).
_BULK_MIN = 1 << 16  # characters; shorter texts take the per-chunk path, whose cache makes it as fast
_BULK_HEAD = 1 << 17  # characters of a text's start whose chunks decide between the two paths (``_use_bulk``)
# class codes of non-ASCII characters in ``_bulk_cuts``: whitespace, a plain letter (``_letter_classes``) and any
# other (its chunk takes the per-chunk path)
_NON_ASCII, _NON_ASCII_SPACE, _NON_ASCII_LOWER, _NON_ASCII_UPPER, _NON_ASCII_LETTER = 128, 129, 130, 131, 132
_LATIN1_LOWER, _LATIN1_UPPER = 133, 134  # ß-ö ø-ÿ and À-Ö Ø-Þ: also in the "end.Start" infix's classes
# a character no word-splitting rule names or tests (``_letter_classes``): emoji, most symbols, private use
_NON_ASCII_INERT = 135
# a currency sign (£ € ¥ …): "$" in every rule, but outside PUNCTUATION (the word features ask)
_NON_ASCII_CURRENCY = 136
# the en dash, the em dash and the ellipsis: affix characters on both sides and infixes (``_INFIX_RE``'s dash group,
# whose "——" is a match of its own, and its "…", a match wherever it stands)
_EN_DASH, _EM_DASH, _ELLIPSIS = 137, 138, 139
# a decimal digit outside ASCII (٣, ３): ``str.isdigit`` for the suffix rules, but not the infix pattern's [0-9]; a
# digit that is no decimal (² ³ ①): ``str.isdigit``, and a letter of the infix pattern's class ([^\W\d_]) though
# not ``str.isalpha``; "§": a prefix character and nothing else
_NON_ASCII_DIGIT, _NON_ASCII_SUPER, _SECTION = 140, 141, 142
_DASH_LIKE = (_EN_DASH, _EM_DASH, _ELLIPSIS)
_CLASSED = 0x40000  # code points with a class of their own (planes 0 to 3); above: ``_NON_ASCII``
# ``str.isspace`` outside ASCII (the whitespace ``str.split`` cuts on); a test checks it against every code point
_NON_ASCII_SPACES = (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)


def _class_table(chars: str, *codes: int) -> np.ndarray:
    """A lookup table over the class codes (ASCII, ``_NON_ASCII``, ``_NON_ASCII_SPACE``): True for ``chars``."""
    t = np.zeros(256, dtype=bool)
    t[[ord(c) for c in chars] + list(codes)] = True
    return t


_B_SPACE = _class_table(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", _NON_ASCII_SPACE)
_B_DIGIT = _class_table(string.digits)  # the infix pattern's [0-9]
# ``str.isalpha`` (the word features), and the infix pattern's letter class, which also holds ² ³
_B_ISALPHA = _class_table(
    string.ascii_letters, _NON_ASCII_LOWER, _NON_ASCII_UPPER, _NON_ASCII_LETTER, _LATIN1_LOWER, _LATIN1_UPPER
)
_B_ALPHA = _B_ISALPHA | _class_table("", _NON_ASCII_SUPER)
_B_ALNUM = _B_DIGIT | _B_ALPHA
_B_WORD_CHAR = _B_ALNUM | _class_table("", _NON_ASCII_DIGIT)  # the contractions' [^\W_]
_B_ISDIGIT = _B_DIGIT | _class_table("", _NON_ASCII_DIGIT, _NON_ASCII_SUPER)  # ``str.isdigit``
# A chunk is *plain* when ``_split_chunk`` strips nothing from it and it is no special word, so that its words are
# its infix split: its core holds no apostrophe (``_apostrophes`` reads cores with one), starts with no character that can be a
# prefix (``_prefix_len``: the prefix set, "." and "+") and ends with none that can be a suffix (``_suffix_len``:
# the suffix set, ".", "+", "$", "%", a unit after a digit; every abbreviation ends with "."). A chunk made of
# characters of the prefix set, a plain core and characters of the suffix set ('("a1b2",' say) gives each affix
# character as a word and then the core's words: the stripping loop takes one affix character from each side per
# round (those sets are stripped whatever their neighbours), and no string it meets on the way is special (none
# ends with "."; one with an affix apostrophe starts or ends with an affix character, which no contraction does).
# Conservative: any other chunk takes ``_split_chunk``.
# Affix characters that ``_prefix_len`` / ``_suffix_len`` strip one at a time whatever their neighbours (ASCII).
_B_AFFIX_PRE = _class_table(
    "".join(c for c in _PREFIX_CHARS if c.isascii()), _NON_ASCII_CURRENCY, *_DASH_LIKE, _SECTION
)
_B_AFFIX_SUF = _class_table("".join(c for c in _SUFFIX_CHARS if c.isascii()), *_DASH_LIKE)
_AFFIX_MAX = 8  # affix characters per side handled by the whole-text split (more: the per-chunk path)
_B_NOT_FIRST = _class_table(
    "".join(c for c in _PREFIX_CHARS if c.isascii()) + ".+",
    _NON_ASCII,
    _NON_ASCII_SPACE,
    _NON_ASCII_CURRENCY,
    *_DASH_LIKE,
    _SECTION,
)
_B_NOT_LAST = _class_table(
    "".join(c for c in _SUFFIX_CHARS if c.isascii()) + ".+$%",
    _NON_ASCII,
    _NON_ASCII_SPACE,
    _NON_ASCII_CURRENCY,
    *_DASH_LIKE,
)
_B_NOT_INSIDE = _class_table("", _NON_ASCII)
# ``_INFIX_RE`` on ASCII: every match is one of these characters (or a run of them: "..", "--")
_B_INFIX = _class_table(".+-*^~,:<>=/", *_DASH_LIKE)
# "end." / "x86." / "ABC.": a final "." after a lower-case letter or a digit, or after two upper-case letters, is a
# suffix (``_suffix_len``)
_B_DOT_AFTER = _class_table(
    string.ascii_lowercase + string.digits,
    _NON_ASCII_LOWER,
    _LATIN1_LOWER,
    _NON_ASCII_DIGIT,
    _NON_ASCII_SUPER,
)
# a final "." after one of these is never a suffix (``_suffix_len``: not a digit, lower- or upper-case, in
# ``_PERIOD_AFTER`` or a dot): the core keeps it ("다.", "x@."); after an upper-case letter, unless two are there
_B_DOT_KEEP = _class_table(
    "".join(
        ch
        for ch in map(chr, range(0x21, 0x7F))
        if not (ch.isdigit() or ch.islower() or ch.isupper() or ch in _PERIOD_AFTER or ch == ".")
    ),
    _NON_ASCII_LETTER,
    _NON_ASCII_INERT,
    _NON_ASCII_CURRENCY,
    _EN_DASH,
    _EM_DASH,
    _ELLIPSIS,
    _SECTION,
)
_B_UPPER = _class_table(string.ascii_uppercase, _NON_ASCII_UPPER, _LATIN1_UPPER)
# the abbreviations by length, each as the big-endian number of its ASCII characters (class codes: a non-ASCII
# character's code is above 127, so no other text matches one)
_ABBREV_CODES = {
    k: np.array(
        sorted(int.from_bytes(a.encode(), "big") for a in _ABBREVIATIONS if len(a) == k), dtype=np.uint64
    )
    for k in sorted({len(a) for a in _ABBREVIATIONS})
}
_B_LOWER_Q = _class_table(
    string.ascii_lowercase + "'\"`", _LATIN1_LOWER
)  # the lookbehind before an infix "."
_B_UPPER_Q = _class_table(string.ascii_uppercase + "'\"`", _LATIN1_UPPER)  # the lookahead after it


_LETTER_CLASSES: np.ndarray | None = None
_CJK_SPLIT: np.ndarray | None = None


def _cjk_split_table() -> np.ndarray:
    """True at the BMP code points of ``_CJK_SPLIT_CLASS`` (each one a word in Chinese splitting), built once
    with the very regex."""
    global _CJK_SPLIT
    if _CJK_SPLIT is None:
        table = np.zeros(0x10000, dtype=bool)
        bmp = "".join(map(chr, range(0xD800))) + "\0" * 0x800 + "".join(map(chr, range(0xE000, 0x10000)))
        table[[m.start() for m in re.finditer(f"[{_CJK_SPLIT_CLASS}]", bmp)]] = True
        _CJK_SPLIT = table
    return _CJK_SPLIT


# contexts in which ``_rule_signature`` runs the infix pattern on a character
_PROBES = (
    "a{}b",
    "1{}2",
    "A{}B",
    "a.{}",
    "{}.A",
    "{}",
    "a{}",
    "{}a",
    "1{}",
    "{}1",
    "{}{}",
    "a{}.B",
    "a.{}B",
    "-{}-",
)


def _rule_signature(ch: str, punctuation: bool | None = None) -> tuple:
    """What the word-splitting rules do with ``ch``: its sets, predicates, infix matches in ``_PROBES``,
    contraction and "'s" roles, and PUNCTUATION (the word features; ``punctuation`` overrides it). Two characters
    with the same signature are split alike wherever they stand (``_letter_classes`` gives them one code)."""
    infix = tuple(tuple(m.span() for m in _INFIX_RE.finditer(p.format(ch, ch))) for p in _PROBES)
    return (
        ch in _PREFIX_CHARS,
        ch in _SUFFIX_CHARS,
        ch in _PERIOD_AFTER,
        ch in _CURRENCY,
        any(ch in u for u in _UNITS),
        ch.isalpha(),
        ch.isdigit(),
        ch.isupper(),
        ch.islower(),
        ch.isspace(),
        bool(re.match(r"\w", ch)),
        infix,
        bool(_CONTRACTION_RE.match(f"do{ch}ll")),
        bool(_CONTRACTION_RE.match(f"don{ch}t")),
        f"{ch}s" in _APOS_S,
        ch in PUNCTUATION_SET if punctuation is None else punctuation,
    )


def _letter_classes() -> np.ndarray:
    """Class code of every code point below ``_CLASSED`` from U+0080 up for ``_bulk_cuts``, built once (~0.2 s):
    whitespace, a *plain* letter (lower-case, upper-case or neither: the final-"." rule asks), a Latin-1 letter
    (lower or upper: also in the "end.Start" infix's classes), an *inert* character, or other.

    A plain letter plays in every word-splitting rule the part of an ASCII letter outside those infix classes:
    ``str.isalpha``, a letter of ``_INFIX_RE``'s ``_ALPHA`` class, not ``str.isdigit``, in no affix, quote,
    currency or unit set, and above U+00FF ("µ" starts units; ª º stay other). An inert character plays the part
    of no rule at all, like an ASCII character outside every set (a chunk's core may start, hold or end with it):
    not whitespace, not ``\\w`` (so not the contractions' ``[^\\W_]``, not a letter or a digit), neither upper- nor
    lower-case (the final-"." rule asks), and in none of the splitter's sets, its infix pattern or PUNCTUATION
    (the word features ask). Classified with the very predicates and regexes the rules use."""
    global _LETTER_CLASSES
    if _LETTER_CLASSES is None:
        table = np.full(_CLASSED, _NON_ASCII, dtype=np.uint8)
        chars = "".join(map(chr, range(0x100, 0xD800))) + "".join(map(chr, range(0xE000, _CLASSED)))
        codes = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
        letter = np.zeros(len(chars), dtype=bool)
        letter[[m.start() for m in re.finditer(_ALPHA, chars)]] = True
        special = set(_PREFIX_CHARS) | set(_SUFFIX_CHARS) | set(_PERIOD_AFTER) | set("".join(_UNITS))
        at = np.flatnonzero(letter)
        letters = [chars[i] for i in at.tolist()]
        plain = np.array(
            [ch.isalpha() and not ch.isdigit() and ch not in special for ch in letters], dtype=bool
        )
        lower = plain & np.array([ch.islower() for ch in letters], dtype=bool)
        upper = plain & np.array([ch.isupper() for ch in letters], dtype=bool)
        table[codes[at[plain]]] = _NON_ASCII_LETTER
        table[codes[at[lower]]] = _NON_ASCII_LOWER
        table[codes[at[upper]]] = _NON_ASCII_UPPER
        # inert: not \w, not whitespace, not cased, not named by any rule
        named = (
            special
            | set(_CURRENCY)
            | set(_QUOTES)
            | set(_INFIX_RE.pattern)
            | set("".join(_APOS_S))
            | set("’‘")
            | PUNCTUATION_SET
            | TERMINAL_PUNCTUATION
        )
        table[:0x80] = np.arange(0x80, dtype=np.uint8)
        table[np.r_[0xDF:0xF7, 0xF8:0x100]] = _LATIN1_LOWER
        table[np.r_[0xC0:0xD7, 0xD8:0xDF]] = _LATIN1_UPPER
        table[[c for c in _NON_ASCII_SPACES if c < _CLASSED]] = _NON_ASCII_SPACE
        chars = "".join(map(chr, range(0x80, 0x100))) + chars  # Latin-1's symbols can be inert too
        codes = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        other = np.ones(len(chars), dtype=bool)
        other[[m.start() for m in re.finditer(r"[\w\s]", chars)]] = False
        at = np.flatnonzero(other)
        inert = np.array(
            [not (ch.isupper() or ch.islower() or ch in named) for ch in map(chars.__getitem__, at.tolist())],
            dtype=bool,
        )
        table[codes[at[inert]]] = _NON_ASCII_INERT
        # non-ASCII characters that every rule treats as an ASCII one take its code: ’ is "'", “ ” ‘ ´ are '"',
        # « » 。 ， （ are "(", • ″ are "@" (punctuation no rule names), and the currency signs are "$" but for
        # PUNCTUATION
        like = {_rule_signature(chr(code)): code for code in (34, 39, 40, 64)}
        dollar = _rule_signature("$", punctuation=False)
        table[[ord("–"), ord("—"), ord("…")]] = _DASH_LIKE
        table[ord("§")] = _SECTION
        # digits outside ASCII: decimal ones (\d: not the infix pattern's letters) and the others (² ①: its
        # letters), neither cased nor named by a rule but "²" (in ``_PERIOD_AFTER``, which ``str.isdigit`` covers)
        for cp in np.flatnonzero(table == _NON_ASCII).tolist():
            ch = chr(cp)
            if (
                ch.isdigit()
                and not (ch.isalpha() or ch.isupper() or ch.islower())
                and (ch not in named or ch == "²")
            ):
                table[cp] = _NON_ASCII_DIGIT if re.match(r"\d", ch) else _NON_ASCII_SUPER
        for ch in sorted(named):
            if not ch.isascii() and ord(ch) < _CLASSED:
                sig = _rule_signature(ch)
                if sig in like:
                    table[ord(ch)] = like[sig]
                elif sig == dollar:
                    table[ord(ch)] = _NON_ASCII_CURRENCY
        _LETTER_CLASSES = table
    return _LETTER_CLASSES


def _unit_codes() -> dict[int, np.ndarray]:
    """The ASCII units of ``_suffix_len`` by length, each as the big-endian number of its characters."""
    by_len: dict[int, list[int]] = {}
    for u in _UNIT_SET:
        if u.isascii() and u != "%":  # "%" is never last in a plain chunk
            by_len.setdefault(len(u), []).append(int.from_bytes(u.encode(), "big"))
    return {k: np.array(sorted(v), dtype=np.uint64) for k, v in by_len.items()}


_UNIT_CODES = _unit_codes()


def _use_bulk(head: list[str], share: int = 4) -> bool:
    """Whether ``_bulk_split_words`` pays for a text whose first chunks are ``head``: when more than one chunk in
    ``share`` is a distinct chunk that is not letters only and not in the split cache (one that ``_split_chunk``
    would have to split, or a number: per distinct word, the word features of the word-list path cost Python
    work too). Prose, code and repeated tokens stay on the per-chunk path, which is about twice as fast on them
    (its cache makes a repeated chunk one dict lookup)."""
    fresh = {c for c in head if not c.isalpha()}.difference(_CHUNK_CACHE)
    return share * len(fresh) > len(head)


# Chinese chunks (``_CJK_TOKEN_RE``): mostly single characters, cheap on the per-chunk path; the whole-text split
# pays once one chunk in this many is new
_CJK_BULK_SHARE = 32


def _chunk_of(starts: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Index of the chunk holding each position of ``pos`` (every position is inside a chunk)."""
    return np.searchsorted(starts, pos, side="right") - 1


def _bulk_split_words(text: str) -> list[str]:
    """``_expand_chunks(text.split())``, the same list, computed over the whole text with numpy
    (``_bulk_cuts``)."""
    raw, _, _, cut = _bulk_cuts(text)
    return _cut_words(raw, cut)


def code_units(text: str) -> np.ndarray:
    """The characters of ``text`` as one array element each: a byte when the text is ASCII, else its UTF-32 code
    point (lone surrogates included). The array paths of the word split, C4 and FineWeb read texts this way."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_code_units(units: np.ndarray) -> str:
    """The text of ``code_units``' array (of either width)."""
    if units.dtype == np.uint8:
        return units.tobytes().decode("ascii")
    return units.tobytes().decode("utf-32-le", "surrogatepass")


def _cut_words(raw: np.ndarray, cut: np.ndarray) -> list[str]:
    """The words of ``_bulk_cuts``' characters and cut mask: the text with a space put at every cut, split on
    whitespace."""
    at = np.flatnonzero(cut)
    return from_code_units(np.insert(raw, at, 32) if len(at) else raw).split()


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of True in ``mask`` (the whitespace-free chunks of a non-whitespace mask)."""
    edge = np.diff(mask.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)


def _cut_word_bounds(word: np.ndarray, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of every word, from ``_bulk_cuts``' masks: a word starts at a non-whitespace character
    after whitespace or at a cut, and ends before whitespace or a cut."""
    n = len(word)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    link = np.zeros(n + 1, dtype=bool)  # link[p]: characters p - 1 and p are in the same word
    link[1:n] = word[:-1] & word[1:]
    link[1:n] &= ~cut[1:]
    starts = np.flatnonzero(word & ~link[:n])
    ends = np.flatnonzero(word & ~link[1:]) + 1
    return starts, (ends - starts).astype(np.int32)


def _translate_table(table: np.ndarray) -> bytes:
    """A ``bytes.translate`` table giving 1 for the class codes where ``table`` is True, else 0."""
    return table.astype(np.uint8).tobytes()


_T_WORD = _translate_table(~_B_SPACE)
_T_ISDIGIT = _translate_table(_B_ISDIGIT)
_T_ASCII_LETTER = _translate_table(_class_table(string.ascii_letters))
_T_NOT_INSIDE = _translate_table(_B_NOT_INSIDE)
_T_INFIX = _translate_table(_B_INFIX)


def _in_class(codes: bytes, table: bytes) -> np.ndarray:
    """The boolean mask of a class over class codes: ``bytes.translate``, ~4x faster than a numpy table lookup
    on 10 MB (one byte in, one byte out, no index conversion)."""
    return np.frombuffer(codes.translate(table), dtype=bool)


def _u64_windows(data: bytes) -> np.ndarray:
    """Element i: the 8 bytes of ``data`` from position i as one little-endian uint64 (overlapping, unaligned
    reads of a copy padded with 8 zero bytes), so that one gather reads a word's first 8 bytes."""
    padded = np.frombuffer(data + bytes(8), dtype=np.uint8)
    return np.ndarray(shape=(len(data),), dtype="<u8", buffer=padded, offset=0, strides=(1,))


def _number_chunks(
    text: str, raw: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """``(ids, chunks)`` with ``chunks[ids[i]] == text[starts[i]:ends[i]]``, each distinct chunk once. Chunks of
    at most ``_KEY_BYTES`` bytes of an ASCII text without NUL are numbered by their bytes (one uint64 each, one
    sort), not by slicing a Python string per occurrence (~0.5 µs each: 0.2 s for the 370k "+1" of 10 MB of
    phone numbers); the others by their strings."""
    n = len(starts)
    short = np.zeros(n, dtype=bool)
    if raw.dtype == np.uint8 and "\0" not in text:
        short = ends - starts <= _KEY_BYTES
    ids = np.empty(n, dtype=np.int64)
    chunks: list[str] = []
    at = np.flatnonzero(short)
    if len(at):
        view = _u64_windows(raw.tobytes())
        keys = view[starts[at]] & _KEY_MASKS[ends[at] - starts[at]]
        distinct, inverse = np.unique(keys, return_inverse=True)
        ids[at] = inverse.reshape(-1)
        chunks = [
            int(k).to_bytes(_KEY_BYTES, "little").rstrip(b"\0").decode("ascii") for k in distinct.tolist()
        ]
    at = np.flatnonzero(~short)
    if len(at):
        numbering = _Numbering()
        long_chunks = map(text.__getitem__, map(slice, starts[at].tolist(), ends[at].tolist()))
        ids[at] = np.fromiter(map(numbering.__getitem__, long_chunks), dtype=np.int64, count=len(at)) + len(
            chunks
        )
        chunks.extend(numbering)
    return ids, chunks


def _bulk_cuts(text: str, cjk: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(characters, classes, word mask, cut mask)`` of ``text``: its ASCII bytes (or UTF-32 code units), their
    class codes (ASCII as itself, others by ``_letter_classes``), True at the characters of words (not
    whitespace), and True before every character where ``split_words`` cuts a chunk into two words. With ``cjk``,
    the split of ``split_words(text, cjk_chars=True)``: every character of ``_CJK_SPLIT_CLASS`` is a word of its
    own and ends the chunk before it (the cuts are found with it as whitespace).

    Why it is exact: every word list of ``_split_chunk`` cuts its chunk into consecutive pieces, so the words of
    the text are the text with a space put at every cut, split on whitespace. The cuts of a *plain* chunk (see
    ``_B_NOT_FIRST``) are those of ``_INFIX_RE`` alone, found for all chunks at once: on ASCII every match of
    the regex is a single character decided by its two neighbours (which lie in the same chunk, whitespace being
    in no class of the regex), a run of two or more dots, or a run of dashes. Affix characters around a plain core
    are cut off one by one, and an affix neighbour never makes an infix match at the core's edge that the core
    alone would not have (the core neither starts nor ends with a dot, the one rule that looks at quotes; the
    others ask for letters, digits or dashes, which no affix character is). Runs of dashes are read by
    ``_dash_runs``, apostrophes (contractions, "'s") by ``_apostrophes``. URLs keep their core whole; the rest
    take the per-chunk path (``_split_chunk``, once per distinct chunk), their cuts read off its pieces.
    """
    raw = c = code_units(text)
    if raw.dtype != np.uint8:
        c = _letter_classes()[np.minimum(raw, _CLASSED - 1)]
        c[raw >= _CLASSED] = _NON_ASCII
    classes, sep = c, None
    if cjk and c is not raw:
        sep = _cjk_split_table()[np.minimum(raw, 0xFFFF)]
        c = c.copy()
        c[sep] = 32  # a chunk boundary, and no letter, digit or quote for the rules' neighbours
    n = len(c)
    cb = c.tobytes() if c is not raw else text.encode("ascii")  # for ``_in_class``
    word = _in_class(cb, _T_WORD)
    starts, ends = _runs(word)
    if not len(starts):
        if sep is not None:  # CJK characters only: each a word
            if "\u3000" in text:  # the ideographic space is a word here: in no class of the word features
                classes = classes.copy()
                classes[raw == 0x3000] = _NON_ASCII_INERT
            return raw, classes, sep, sep.copy()
        return raw, c, word, np.zeros(n, dtype=bool)
    # The core of each chunk: without its leading characters of the prefix set and trailing ones of the suffix
    # set (``_split_chunk`` strips them one by one, each a word of its own, when the core is plain: see
    # ``_B_AFFIX_PRE``). Affix runs longer than ``_AFFIX_MAX`` take the per-chunk path.
    core_s, core_e = starts.copy(), ends.copy()
    slow = np.zeros(len(starts), dtype=bool)
    grow = np.flatnonzero(_B_AFFIX_PRE[c[starts]])
    for _ in range(_AFFIX_MAX):
        if not len(grow):
            break
        core_s[grow] += 1
        grow = grow[core_s[grow] < ends[grow]]
        grow = grow[_B_AFFIX_PRE[c[core_s[grow]]]]
    slow[grow] = True
    shrink = np.flatnonzero(_B_AFFIX_SUF[c[ends - 1]])
    for _ in range(_AFFIX_MAX):
        if not len(shrink):
            break
        core_e[shrink] -= 1
        shrink = shrink[core_e[shrink] > core_s[shrink]]
        shrink = shrink[_B_AFFIX_SUF[c[core_e[shrink] - 1]]]
    slow[shrink] = True
    slow |= core_e <= core_s  # only affixes
    core_s = np.minimum(core_s, ends - 1)
    core_e = np.maximum(core_e, core_s + 1)
    # A single final "." after a lower-case letter or a digit is a suffix too ("end.", "x86."), unless the core
    # and its dot are an abbreviation (``_special``: kept whole, no infix split; that chunk takes the per-chunk
    # path)
    dot = np.flatnonzero((c[core_e - 1] == 46) & (core_e - core_s >= 2) & ~slow)
    before = c[core_e[dot] - 2]
    upper = _B_UPPER[before] & (core_e[dot] - core_s[dot] >= 3)
    upper[upper] = _B_UPPER[c[core_e[dot[upper]] - 3]]
    dot = dot[_B_DOT_AFTER[before] | upper]
    abbrev = _abbreviations(c, core_e[dot], core_e[dot] - core_s[dot])
    slow[dot[abbrev]] = True
    dot = dot[~abbrev]
    core_e[dot] -= 1
    apos_cut = apos_s = np.zeros(0, dtype=np.int64)
    if "'" in text or "’" in text:  # "’" has the class of "'"
        apos_cut, apos_s = _apostrophes(c, starts, core_s, core_e, slow)
    first, last = c[core_s], c[core_e - 1]
    # a "+" before a digit is no prefix (``_prefix_len``) and no infix at a core's start: "+1" is plain
    plus_digit = (first == 43) & _B_DIGIT[_class_at(c, core_s + 1)] & (core_s + 1 < core_e)
    # a final "." that no rule strips stays in the core (not after a ".", where the run is a suffix), unless the
    # core is an abbreviation (``_special``: one word, no infix split)
    kept_dot = np.flatnonzero((last == 46) & (core_e - core_s >= 2) & ~slow)
    if len(kept_dot):
        e = core_e[kept_dot]
        before = c[e - 2]
        two = np.where(e - 3 >= core_s[kept_dot], c[np.maximum(e - 3, 0)], 32)
        keep = (_B_DOT_KEEP[before] | (_B_UPPER[before] & ~_B_UPPER[two])) & ~_abbreviations(
            c, e, e - core_s[kept_dot]
        )
        kept_dot = kept_dot[keep]
    not_last = _B_NOT_LAST[last]
    not_last[kept_dot] = False
    slow |= (_B_NOT_FIRST[first] & ~plus_digit) | not_last
    length = core_e - core_s
    if raw is not c:  # an ASCII text has no such character: skip the pass
        slow[_chunk_of(starts, np.flatnonzero(_in_class(cb, _T_NOT_INSIDE)))] = True
    # A unit after a digit at the end is a suffix ("10km": the longest such unit, ``_suffix_len``), one word; the
    # core then ends with the digit, which no suffix rule strips, and ``_split_chunk`` goes on with it.
    joined = [apos_s]  # places inside a suffix of several characters, where the affix cuts below must not be
    unit = np.zeros(len(starts), dtype=np.int64)
    # candidates: a digit followed by an ASCII letter, 1-4 characters before the end of its chunk's core
    turn = np.flatnonzero(_in_class(cb[:-1], _T_ISDIGIT) & _in_class(cb[1:], _T_ASCII_LETTER))
    if len(turn):
        k_of = _chunk_of(starts, turn)
        size = core_e[k_of] - turn - 1  # the unit's length if one ends the core there
        keep = (size >= 1) & (size <= max(_UNIT_CODES)) & (turn >= core_s[k_of]) & ~slow[k_of]
        k_of, size = k_of[keep], size[keep]
        for k in sorted(_UNIT_CODES, reverse=True):
            at = k_of[(size == k) & (unit[k_of] == 0)]
            unit[at[np.isin(_tail_codes(c, core_e[at], k), _UNIT_CODES[k])]] = k
    if unit.any():
        at = np.flatnonzero(unit)
        core_e[at] -= unit[at]
        inside = unit[at] - 1
        joined.append(np.repeat(core_e[at] + 1, inside) + _ranks(inside))
        length = core_e - core_s
    # candidate infix characters, with their neighbours (a space beyond either end of the text)
    pos = np.flatnonzero(_in_class(cb, _T_INFIX))
    ch = c[pos]
    prev = c[np.maximum(pos - 1, 0)]
    prev[pos == 0] = 32
    nxt = c[np.minimum(pos + 1, n - 1)]
    nxt[pos == n - 1] = 32
    dash, dot = ch == 45, ch == 46
    # URLs stay one word ("://" anywhere, or "www." first): no cuts
    colon = pos[(ch == 58) & (nxt == 47)]
    colon = colon[(colon + 2 < n) & (c[np.minimum(colon + 2, n - 1)] == 47)]
    at = _chunk_of(starts, colon)
    url = np.zeros(len(starts), dtype=bool)
    url[at[(colon >= core_s[at]) & (colon + 3 <= core_e[at])]] = True  # "://" in the core
    www = np.flatnonzero(length >= 4)
    s = core_s[www]
    url[www[(c[s] == 119) & (c[s + 1] == 119) & (c[s + 2] == 119) & (c[s + 3] == 46)]] = True
    digit_p, digit_n = _B_DIGIT[prev], _B_DIGIT[nxt]
    alnum_p, alpha_n = _B_ALNUM[prev], _B_ALPHA[nxt]
    in_run = dot & ((prev == 46) | (nxt == 46))
    single = (
        (np.isin(ch, (43, 42, 94)) & digit_p & (digit_n | (nxt == 45)))  # "+*^" between digits: 3*4
        | (dash & ((digit_p & digit_n) | (alnum_p & alpha_n)))
        | (
            np.isin(ch, (126, 58, 60, 62, 61, 47, _EN_DASH, _EM_DASH)) & alnum_p & alpha_n
        )  # "~:<>=/–—" before a letter
        | (ch == _ELLIPSIS)
        | ((ch == 44) & _B_ALPHA[prev] & alpha_n)  # a comma between letters
        | (dot & ~in_run & _B_LOWER_Q[prev] & _B_UPPER_Q[nxt])  # "end.Start"
    )
    cut_before = single | (in_run & (prev != 46))
    cut_after = single | (in_run & (nxt != 46))
    _dash_runs(c, pos, prev, nxt, cut_before, cut_after)
    # "——" after a letter or a digit and before a letter is one match (a longer run of em dashes has none)
    em = np.flatnonzero((ch == _EM_DASH) & (nxt == _EM_DASH) & alnum_p & _B_ALPHA[_class_at(c, pos + 2)])
    cut_before[em] = True
    cut_after[em + 1] = True  # the second em dash: pos holds it too
    chunk = _chunk_of(starts, pos)
    fast = ~slow[chunk] & ~url[chunk]
    cut = np.zeros(n + 1, dtype=bool)  # a cut before position p (a mask, not a sort of the positions)
    cut[pos[cut_before & fast]] = True
    cut[pos[cut_after & fast] + 1] = True
    # every affix character of a fast chunk is a word: cuts at (start, core start] and [core end, end)
    done = ~slow
    for lo, hi in ((starts[done] + 1, core_s[done] + 1), (core_e[done], ends[done])):
        k = hi - lo
        cut[lo[k > 0]] = True  # most affix runs are one character: no repeat for them
        more = k > 1
        if more.any():
            lo, k = lo[more] + 1, k[more] - 1
            cut[np.repeat(lo, k) + _ranks(k)] = True
    # the other chunks: ``_split_chunk`` once per distinct chunk, its cut offsets expanded to every occurrence
    other = np.flatnonzero(slow)
    if len(other):
        s_at, e_at = starts[other], ends[other]
        ids, numbering = _number_chunks(text, raw, s_at, e_at)
        cache = _CHUNK_CACHE
        n_cuts: list[int] = []
        offsets: list[int] = []
        for chunk_text in numbering:  # in id order
            if chunk_text.isalpha() or chunk_text.isdigit():
                n_cuts.append(0)  # a word as it is (``_expand_chunks``' rule)
                continue
            toks = cache.get(chunk_text)
            if toks is None:
                toks = _split_chunk(chunk_text)
                if len(chunk_text) < 64:
                    if len(cache) >= _CHUNK_CACHE_MAX:
                        cache.clear()
                    cache[chunk_text] = toks
            n_cuts.append(len(toks) - 1)
            offsets.extend(accumulate(map(len, toks[:-1])))
        if offsets:
            per = np.array(n_cuts, dtype=np.int64)
            first = np.zeros(len(per), dtype=np.int64)
            np.cumsum(per[:-1], out=first[1:])
            k = per[ids]
            total = int(k.sum())
            out_first = np.zeros(len(k), dtype=np.int64)
            np.cumsum(k[:-1], out=out_first[1:])
            # offset index of every cut: the chunk's first offset plus the cut's rank inside its chunk
            idx = np.repeat(first[ids] - out_first, k) + np.arange(total)
            cut[np.repeat(s_at, k) + np.array(offsets, dtype=np.int64)[idx]] = True
    # contractions ("do|n't", "we|'ll"); "'s" and units are one word each, though every suffix character is cut
    # off above
    cut[apos_cut[~slow[_chunk_of(starts, apos_cut)]]] = True
    joined = np.concatenate(joined)
    cut[joined[~slow[_chunk_of(starts, joined)]]] = False
    cut = cut[:n]  # a cut at the very end, or before whitespace, separates nothing
    if sep is not None:  # a CJK character is a word: cuts before it and after it
        word = word | sep
        if "\u3000" in text:  # the ideographic space is a word here: in no class of the word features
            classes = classes.copy()
            classes[raw == 0x3000] = _NON_ASCII_INERT
        cut |= sep
        cut[1:] |= sep[:-1]
    cut &= word
    return raw, classes, word, cut


def _abbreviations(c: np.ndarray, ends: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Whether each core of ``_bulk_cuts`` (ending before ``ends``, ``lengths`` characters) is one of
    ``_ABBREVIATIONS``, from its class codes."""
    out = np.zeros(len(ends), dtype=bool)
    for k, codes in _ABBREV_CODES.items():
        at = np.flatnonzero(lengths == k)
        out[at[np.isin(_tail_codes(c, ends[at], k), codes)]] = True
    return out


def _tail_codes(c: np.ndarray, ends: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` class codes before each of ``ends`` as one big-endian number (``_UNIT_CODES``, ``_ABBREV_CODES``:
    a non-ASCII character's code is above 127, so it matches no ASCII word)."""
    code = np.zeros(len(ends), dtype=np.uint64)
    for t in range(k, 0, -1):
        code = (code << np.uint64(8)) | c[ends - t]
    return code


def _ranks(k: np.ndarray) -> np.ndarray:
    """0, 1, …, k[0] - 1, 0, 1, …, k[1] - 1, …: each element's rank in its group of ``k``."""
    total = int(k.sum())
    first = np.zeros(len(k), dtype=np.int64)
    np.cumsum(k[:-1], out=first[1:])
    return np.arange(total) - np.repeat(first, k)


def _class_at(c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The class codes at positions ``p`` of ``c``, a space (32) beyond its end."""
    out = c[np.minimum(p, len(c) - 1)]
    out[p >= len(c)] = 32
    return out


def _ascii_lower(x: np.ndarray) -> np.ndarray:
    """Class codes with ASCII upper-case letters made lower-case (the contractions' ``re.IGNORECASE``)."""
    return np.where((x >= 65) & (x <= 90), x + 32, x)


_CONTRACTION_PAIRS = np.array([ord(a) * 256 + ord(b) for a, b in ("re", "ve", "ll")])


def _apostrophes(
    c: np.ndarray, starts: np.ndarray, core_s: np.ndarray, core_e: np.ndarray, slow: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The apostrophes ("'" and "’", one class) of ``_bulk_cuts``' chunks: ``(cuts, joined)``, the contraction cuts to add and
    the positions after a "'s" suffix's apostrophe whose cut must go; ``core_e`` and ``slow`` are updated.

    In an affix run an apostrophe is an affix character like any other (a word of its own), unless an "s" or "S"
    follows it ("('s" gives "(" and "'s": ``_suffix_len``'s ``_APOS_S``): that chunk is slow. A core with one
    apostrophe is ``A'B`` (neither part empty: a core never starts or ends with an affix character):
    - ``_special``'s contractions (``_CONTRACTION_RE``): B is m, d, re, ve or ll (any case), or t after an "n"
      that is not A's only character, and A (without that "n") is letters and digits (``[^\\W_]``): two words,
      "A" and "'B" (or "A less n" and "n't"). ``_special`` looks at a core with affixes only below 32
      characters: longer ones are slow.
    - B is "s" or "S": a suffix of two characters (``_APOS_S``), A the core that ``_split_chunk`` goes on with
      (A is not special: it has no apostrophe and, ending with no ".", is no abbreviation: ``_B_NOT_LAST``).
    - otherwise no rule looks at the apostrophe (the infix pattern's "end.Start" rule only as a neighbour of a
      ".", which ``_bulk_cuts`` sees) and the core is split as it is.
    A core with two or more apostrophes is slow.
    """
    q = np.flatnonzero(c == 39)
    k = _chunk_of(starts, q)
    in_core = (q >= core_s[k]) & (q < core_e[k])
    after = _class_at(c, q + 1)
    slow[k[~in_core & ((after == 115) | (after == 83))]] = True
    q, k = q[in_core], k[in_core]
    slow[np.bincount(k, minlength=len(starts)) > 1] = True
    keep = ~slow[k]
    q, k = q[keep], k[keep]
    b_len = core_e[k] - q - 1
    b0 = _ascii_lower(_class_at(c, q + 1)).astype(np.int32)
    b1 = _ascii_lower(_class_at(c, q + 2)).astype(np.int32)
    a_len = q - core_s[k]
    nt = (b_len == 1) & (b0 == 116) & (a_len >= 2) & (_ascii_lower(c[np.maximum(q - 1, 0)]) == 110)
    shaped = ((b_len == 1) & ((b0 == 109) | (b0 == 100))) | (
        (b_len == 2) & np.isin(b0 * 256 + b1, _CONTRACTION_PAIRS)
    )
    shaped |= nt
    long = shaped & (core_e[k] - core_s[k] >= 32)
    slow[k[long]] = True
    shaped &= ~long
    # A of letters and digits: an AND over each [core start, apostrophe), segments in text order
    contraction = np.zeros(len(q), dtype=bool)
    at = np.flatnonzero(shaped)
    if len(at):
        bounds = np.stack((core_s[k[at]], q[at]), axis=1).ravel()
        contraction[at] = np.logical_and.reduceat(_B_WORD_CHAR[c], bounds)[::2]
    cuts = np.where(nt, q - 1, q)[contraction]
    apos_s = (b_len == 1) & (b0 == 115) & ~contraction
    core_e[k[apos_s]] = q[apos_s]
    return cuts, q[apos_s] + 1


def _dash_runs(
    c: np.ndarray,
    pos: np.ndarray,
    prev: np.ndarray,
    nxt: np.ndarray,
    cut_before: np.ndarray,
    cut_after: np.ndarray,
) -> None:
    """Marks the cuts of ``_INFIX_RE`` at runs of two or more ASCII dashes in ``cut_before`` / ``cut_after``
    (over the infix candidates ``pos``, with their neighbours' classes ``prev`` and ``nxt``).

    At a run's first dash the regex tries, in order: after a digit, one "-" (it is followed by "-"); after a
    letter, "---" or "--" when the whole run is that long and a letter follows it. Nothing else matches inside
    a run: every later dash has a dash before it, which no look-behind accepts."""
    i0 = np.flatnonzero((c[pos] == 45) & (nxt == 45) & (prev != 45))
    if not len(i0):
        return
    p0 = pos[i0]
    c2, c3 = _class_at(c, p0 + 2), _class_at(c, p0 + 3)
    three = c2 == 45
    after_run = np.where(three, c3, c2)  # a dash where the run is longer: no letter, no match
    pv = prev[i0]
    digit = _B_DIGIT[pv]
    letter = _B_ALPHA[pv] & _B_ALPHA[after_run]
    cut_before[i0[digit | letter]] = True
    cut_after[i0[digit]] = True
    cut_after[(i0 + np.where(three, 2, 1))[letter]] = True  # the run's last dash: pos holds every dash


_B_PUNCT = _class_table("".join(c for c in PUNCTUATION if c.isascii()), *_DASH_LIKE, _SECTION)


# splitmix64's finaliser (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number generators"): a
# bijection of 64-bit words whose output bits each depend on every input bit
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_WORD_BLOCKS = 8  # words of up to 8 blocks of 8 bytes are hashed in numpy; longer ones by Python's hash


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser applied to a uint64 array, in place."""
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def _word_hashes(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit hash per word of an ASCII text's bytes (words at ``starts``, ``lengths``: ``_cut_word_bounds``),
    for the n-gram counting.

    Why: hashing ~3 M fresh Python strings costs ~0.3 s; here each word's 8-byte blocks (read from an overlapping
    view of the bytes, the last one masked to the word) are folded in numpy: h = mix(h ^ block) from h = length ·
    golden ratio. Equal words get equal hashes; distinct words of up to 8 bytes get distinct ones (the mix is a
    bijection and the length is folded in), longer ones collide with probability ~2⁻⁶⁴ per pair, as with
    Python's hash. Words longer than ``_WORD_BLOCKS`` blocks take Python's hash of their bytes.
    """
    size = raw.itemsize  # UTF-32 text: a character is 4 bytes, a block 2 characters
    data = raw.tobytes()
    view = _u64_windows(data)
    starts = starts * size
    lens = lengths.astype(np.int64) * size
    h = lens.astype(np.uint64) * _HASH_MULT
    h ^= view[starts] & _KEY_MASKS[np.minimum(lens, 8)]
    _mix64(h)
    at = np.flatnonzero(lens > 8)
    for k in range(1, _WORD_BLOCKS):
        if not len(at):
            break
        rem = lens[at] - 8 * k
        x = h[at] ^ (view[starts[at] + 8 * k] & _KEY_MASKS[np.minimum(rem, 8)])
        h[at] = _mix64(x)
        at = at[rem > 8]
    if len(at):
        raw = memoryview(data)
        h[at] = np.fromiter(
            (
                hash(raw[s : s + m].tobytes())
                for s, m in zip(starts[at].tolist(), lens[at].tolist(), strict=True)
            ),
            dtype=np.int64,
            count=len(at),
        ).view(np.uint64)
    return h


def _class_word_features(c: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> dict[str, int]:
    """``TextStats.word_features`` of the words of an ASCII text's bytes (``_cut_word_bounds``): per word, whether
    it holds a character outside PUNCTUATION and whether it holds a letter (``logical_or.reduceat`` from each
    word's start to the next one's: the word and any whitespace after it, which is in neither class)."""
    if not len(starts):
        return {"n_words": 0, "n_non_symbol": 0, "non_symbol_chars": 0, "n_alpha": 0}
    non_symbol = np.logical_or.reduceat(~_B_PUNCT[c] & ~_B_SPACE[c], starts)
    alpha = np.logical_or.reduceat(_B_ISALPHA[c], starts)
    return {
        "n_words": len(starts),
        "n_non_symbol": int(np.count_nonzero(non_symbol)),
        "non_symbol_chars": int(lengths[non_symbol].sum()),
        "n_alpha": int(np.count_nonzero(alpha)),
    }


_PUNCT_TOKEN: dict[str, bool] = {}
_CATEGORY_P: np.ndarray | None = None


def _category_p() -> np.ndarray:
    """True at the code points below ``_CLASSED`` of Unicode category P* (``is_punct_token``'s test), built once;
    no code point above is one (a test checks it)."""
    global _CATEGORY_P
    if _CATEGORY_P is None:
        _CATEGORY_P = np.array(
            [unicodedata.category(chr(cp)).startswith("P") for cp in range(_CLASSED)], dtype=bool
        )
    return _CATEGORY_P


def count_sentences_in(text: str) -> int:
    """``count_sentences(split_words(text))`` for a long text (a 10 MB line), from the whole-text split's arrays:
    no Python string per word.

    ``count_sentences`` adds a sentence at every word that is not punctuation when the nearest word before it
    that is not punctuation-but-not-sentence-final is sentence-final: with E a one-character word of
    TERMINAL_PUNCTUATION, P any other word of category-P characters only and C the rest, the count is 1 plus the
    C words whose nearest non-P word before them is an E."""
    if not any(map(text.__contains__, TERMINAL_PUNCTUATION)):
        return 1 if text and not text.isspace() else 0  # no sentence-final word: one sentence, if any word
    raw, _, word, cut = _bulk_cuts(text)
    starts, lengths = _cut_word_bounds(word, cut)
    if not len(starts):
        return 0
    if raw.dtype == np.uint8:
        not_p = ~_category_p()[raw]
    else:
        not_p = ~_category_p()[np.minimum(raw, _CLASSED - 1)]
        not_p[raw >= _CLASSED] = True
    seen = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum(not_p, out=seen[1:])
    punct = seen[starts + lengths] == seen[starts]
    end = np.zeros(len(starts), dtype=bool)
    one = np.flatnonzero(lengths == 1)
    end[one] = np.isin(raw[starts[one]], _TERMINAL_CODES)
    kept = end | ~punct
    e, c = end[kept], ~punct[kept]
    return 1 + int(np.count_nonzero(c[1:] & e[:-1]))


_TERMINAL_CODES = np.array(sorted(map(ord, TERMINAL_PUNCTUATION)))


def is_punct_token(tok: str) -> bool:
    """True if every character of ``tok`` is Unicode punctuation (category P*)."""
    if tok.isalnum():
        return False  # letters and digits (categories L*, N*): no per-token lookup for random words
    r = _PUNCT_TOKEN.get(tok)
    if r is None:
        r = all(unicodedata.category(c).startswith("P") for c in tok)
        if len(tok) < 64 and len(_PUNCT_TOKEN) < _CHUNK_CACHE_MAX:
            _PUNCT_TOKEN[tok] = r
    return r


# --- language of a document -----------------------------------------------------------------------------------
def cjk_share(text: str, sample: int = 4000) -> float:
    """Share of Han characters among the non-space characters of the first ``sample`` characters (0..1)."""
    head = text[:sample]
    n = len(head) - head.count(" ") - head.count("\n")
    return len(CJK_RE.findall(head)) / n if n > 0 else 0.0


def doc_lang(doc: Document, lang: str = "auto") -> str:
    """The language whose thresholds apply to ``doc``: ``lang`` unless "auto"; then ``meta.lang`` (set by the
    ``language`` step) when it is ``zh``; otherwise ``zh`` if at least 30 % of the characters are Han, else ``en``.
    """
    if lang != "auto":
        return lang
    tagged = doc.meta.get("lang")
    if tagged == "zh":
        return "zh"
    if tagged in ("en", "code"):
        return "en"
    return "zh" if cjk_share(doc.text) >= 0.3 else "en"


# --- the shared statistics ------------------------------------------------------------------------------------
# At most this many hash buckets in the cheap top-n-gram bound. 2^16 float64 buckets (512 KB) stay in the CPU cache,
# so the weighted bincount is several times faster than with 2^20 (8 MB, a cache miss per n-gram); the looser bound
# costs nothing in practice: a bucket's collision mass is about n·len(text)/2^16 characters, < 0.1 % of the smallest
# Gopher limit (0.16·len(text)), so the exact sort is still skipped whenever the answer is clearly below the limit.
_BUCKETS = 1 << 16
_LARGE = 50_000  # words; documents above this try the bound before sorting
_SMALL = 400  # words; below this pure-Python n-gram counting is faster than numpy
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio constant: odd, well mixed
# At most this many n-gram numbers (V^n for a vocabulary of V words) in the exact top n-gram count
# (``_ngram_codes``): its ``bincount`` array (8 bytes a slot, 8 MB) stays cheap next to a sort of millions of hashes.
_CODES_MAX = 1 << 20
_SCAN_BLOCK = 1 << 16  # positions converted to Python lists at a time by the duplicate n-gram scan
_LITTLE_ENDIAN = sys.byteorder == "little"


def _distinct_estimate(h: np.ndarray) -> float:
    """Estimated number of distinct values in ``h`` (64-bit hashes), by linear counting (Whang, Vander-Zanden and
    Taylor 1990, "A linear-time probabilistic counting algorithm for database applications"): mark one of m
    slots per value; with a fraction z of slots left empty the estimate is -m·ln(z). m = 2^22 (a 4 MB table) keeps
    the standard error under 1 % up to ~10^7 values; only a rough "mostly repeats or not" is asked of it.
    Slot indices are computed in blocks of 2^20 into one reused 8 MB array: a fresh 8-byte-per-n-gram array costs
    more in page faults (~45 ms on 5.8 M n-grams) than the marking itself.
    """
    m = 1 << 22
    table = np.zeros(m, dtype=bool)
    block = 1 << 20
    idx = np.empty(min(len(h), block), dtype=np.uint64)
    for b in range(0, len(h), block):
        part = idx[: min(block, len(h) - b)]
        np.right_shift(h[b : b + block], np.uint64(64 - 22), out=part)
        table[part] = True
    empty = m - int(np.count_nonzero(table))
    return -m * float(np.log(max(empty, 1) / m))


_CLS_OTHER, _CLS_CJK_MARK, _CLS_HAN, _CLS_SPACE = 0, 1, 2, 3
_CHAR_CLASSES: np.ndarray | None = None


def _char_classes() -> np.ndarray:
    """Class of every BMP code point for the Chinese word split (``split_words(cjk_chars=True)``), built once:
    Han (a word of its own), another CJK mark that ``_CJK_TOKEN_RE`` makes a word of its own (U+3000 included,
    though it is also whitespace: the regex's first alternative wins), whitespace (regex ``\\s``), or other.
    Classified with the very regexes the split uses, so the two cannot disagree.
    """
    global _CHAR_CLASSES
    if _CHAR_CLASSES is None:
        table = np.zeros(0x10000, dtype=np.uint8)
        bmp = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
        codes = np.frombuffer(bmp.encode("utf-32-le"), dtype=np.uint32)
        single = np.zeros(len(bmp), dtype=bool)
        single[[m.start() for m in re.finditer(f"[{_CJK_SPLIT_CLASS}]", bmp)]] = True
        han = np.zeros(len(bmp), dtype=bool)
        han[[m.start() for m in CJK_RE.finditer(bmp)]] = True
        space = np.zeros(len(bmp), dtype=bool)
        space[[m.start() for m in re.finditer(r"\s", bmp)]] = True
        table[codes[space]] = _CLS_SPACE
        table[codes[single]] = _CLS_CJK_MARK
        table[codes[han]] = _CLS_HAN
        _CHAR_CLASSES = table
    return _CHAR_CLASSES


def cjk_char_codes(text: str) -> np.ndarray | None:
    """The code points of ``split_words(text, cjk_chars=True)`` when every word is one character, else None.

    That is the case when the text holds only Han characters, CJK marks that the split makes words of their own
    and whitespace, with at least one Han character (the usual 10 MB Chinese page). Why: the words, their hashes,
    lengths and features then come from one numpy array (``str.encode`` at C speed, ~30 ms on 3.3 M characters)
    instead of 3.3 M one-character Python strings (~1 s to split, hash and measure).
    """
    if not text or text.isascii():
        return None
    try:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # lone surrogates
        return None
    if int(codes.max()) >= 0x10000:
        return None
    cls = _char_classes()[codes]
    counts = np.bincount(cls, minlength=4)
    if counts[_CLS_OTHER] or not counts[_CLS_HAN]:
        return None
    return codes[cls != _CLS_SPACE] if counts[_CLS_SPACE] else codes


def count_han(text: str) -> int:
    """Number of Han characters in ``text`` (``len(CJK_RE.findall(text))``) without building one string per
    character: one ``str.encode`` and a table lookup per code point (~20 ms on 3.3 M characters, not ~0.25 s)."""
    if text.isascii():
        return 0
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if int(codes.max()) >= 0x10000:
        codes = codes[codes < 0x10000]  # every Han character of CJK_RE is in the BMP
    return int(np.count_nonzero(_char_classes()[codes] == _CLS_HAN))


# Word-id representation (``TextStats._word_ids``): used from this many chunks up (below, the word list is cheap),
# when a sample of the first chunks is mostly repeats (at most 1 distinct in 4): then hashing each distinct chunk
# once and gathering with numpy beats a Python string per word; on 10 MB of unique tokens it would not.
_IDS_MIN_CHUNKS = 20_000
_IDS_SAMPLE = 20_000


class _Numbering(dict):
    """A dict that gives each new key the next number on first lookup (``__missing__``), so one C-level
    ``map(numbering.__getitem__, keys)`` numbers keys in order of first appearance."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


_SPLIT_SLICE = 1 << 18  # characters split at a time by ``_chunk_word_ids``
# the whitespace of ``str.split`` and of ``_CJK_TOKEN_RE`` (``str.isspace`` characters for both)
_WHITESPACE_RE = re.compile(r"\s")


def _text_slices(text: str) -> Iterator[str]:
    """``text`` in consecutive pieces of about ``_SPLIT_SLICE`` characters, each cut just after a whitespace
    character. No chunk of ``str.split`` or ``_CJK_TOKEN_RE`` contains whitespace except U+3000 alone (a token
    of its own), so splitting the pieces one by one gives the chunks of the whole text, in order."""
    pos, end = 0, len(text)
    while pos < end:
        cut = pos + _SPLIT_SLICE
        if cut >= end:
            cut = end
        else:
            m = _WHITESPACE_RE.search(text, cut)
            cut = m.end() if m else end
        yield text[pos:cut] if pos or cut < end else text
        pos = cut


_KEY_BYTES = (
    8  # chunks of at most this many bytes are numbered by their bytes as one uint64 (``_short_chunk_ids``)
)
_KEY_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(_KEY_BYTES)] + [2**64 - 1], dtype=np.uint64)


# odd 64-bit multipliers tried in turn for a collision-free multiplicative hash of the distinct chunk keys
_KEY_MULTS = tuple(
    np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
)


def _key_index(distinct: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each key, the index of an element of the sorted ``distinct`` keys: its own index when the key is
    among them (any index otherwise; the caller checks). A multiplicative hash into a table of at least
    2·d² slots (Knuth, TAOCP vol. 3, 6.4) has no collision among d keys for one of a few multipliers, most of the
    time; a lookup is then a multiply, a shift and a gather (~3x faster than a binary search per key). Without
    such a multiplier (or for many distinct keys) it is ``searchsorted``."""
    d = len(distinct)
    bits = max(8, (2 * d * d).bit_length())
    if bits <= 20:
        shift = np.uint64(64 - bits)
        for mult in _KEY_MULTS:
            slots = (distinct * mult) >> shift
            if len(np.unique(slots)) == d:
                table = np.zeros(1 << bits, dtype=np.int32)
                table[slots] = np.arange(d, dtype=np.int32)
                return table[(keys * mult) >> shift]
    idx = np.searchsorted(distinct, keys)
    np.minimum(idx, d - 1, out=idx)
    return idx


def _short_chunk_ids(text: str) -> tuple[np.ndarray, list[str]] | None:
    """``(ids, chunks)`` with ``[chunks[i] for i in ids] == text.split()``, computed with numpy, for an ASCII
    text without NUL whose chunks all have at most ``_KEY_BYTES`` characters (else None).

    Why: the per-chunk numbering costs a dict lookup per chunk (~0.3 s for the 3.3 M chunks of 10 MB of spaced
    punctuation); here each chunk's bytes, read as one little-endian uint64 from an overlapping view of the text
    (and masked to the chunk's length: no NUL, so no two chunks share a key), are looked up in the sorted
    distinct keys with ``searchsorted``. The distinct keys come from the first chunks, then from the misses.
    """
    if not text.isascii() or "\0" in text:
        return None
    raw = text.encode("ascii")
    b = np.frombuffer(raw, dtype=np.uint8)
    starts, ends = _runs(~_B_SPACE[b])
    if not len(starts):
        return None
    lengths = ends - starts
    if int(lengths.max()) > _KEY_BYTES:
        return None
    keys = _u64_windows(raw)[starts] & _KEY_MASKS[lengths]
    distinct = np.unique(keys[: max(_IDS_SAMPLE, 1)])
    while True:
        idx = _key_index(distinct, keys)
        miss = distinct[idx] != keys
        if not miss.any():
            break
        distinct = np.union1d(distinct, keys[miss])
    chunks = [int(k).to_bytes(_KEY_BYTES, "little").rstrip(b"\0").decode("ascii") for k in distinct.tolist()]
    return idx, chunks


def _chunk_word_ids(
    text: str, split: Callable[[str], list[str]]
) -> tuple[np.ndarray, list[str]] | list[str] | None:
    """``(ids, vocab)`` with ``[vocab[i] for i in ids] == split_words`` of ``text`` whose whitespace-free chunks
    ``split`` gives (``str.split`` or the Chinese token regex); or, when the chunks are too few or too varied for
    it to pay (``_IDS_MIN_CHUNKS``, ``_IDS_SAMPLE``), the list of all chunks; or None when they are so varied that
    the whole-text split pays (``str.split`` chunks only: ``_use_bulk``), before splitting the rest.

    Method: the text is split in slices (``_text_slices``), and each slice's chunks numbered and dropped before
    the next is split: the 3.3 M chunk strings of 10 MB of punctuation are never alive at once (~170 MB of
    fresh memory and ~0.09 s less). One pass numbers the distinct chunks (``_Numbering``; Python runs only for a
    new chunk), each distinct chunk is split once (``_split_chunk``, the pieces ``split_words`` splices in) and
    its pieces numbered in the vocabulary; then the chunk id of every position is expanded to word ids with numpy
    (a chunk of k pieces gives k words): a step of 1 inside a chunk's run of pieces and a jump at each chunk's
    first piece, summed.
    """
    slices = _text_slices(text)
    head: list[str] = []  # the first chunks, enough to decide
    need = max(_IDS_MIN_CHUNKS, _IDS_SAMPLE)
    for piece in slices:
        head.extend(split(piece))
        if len(head) >= need:
            break
    # Chinese: a few new chunks (Latin tokens between the characters) already cost more per chunk than the
    # whole-text split, repeated characters or not
    if split is not str.split and len(text) >= _BULK_MIN and _use_bulk(head[:_IDS_SAMPLE], _CJK_BULK_SHARE):
        return None
    if len(head) < _IDS_MIN_CHUNKS or 4 * len(set(head[:_IDS_SAMPLE])) > min(len(head), _IDS_SAMPLE):
        if split is str.split and len(text) >= _BULK_MIN and _use_bulk(head[:_IDS_SAMPLE]):
            return None
        for piece in slices:
            head.extend(split(piece))
        return head
    # 4-byte ids and indices when they fit (every word is at least one character, so the text's length bounds
    # the word count): the fresh arrays here cost mostly page faults, per byte
    itype = np.int32 if len(text) < 2**31 else np.int64
    short = _short_chunk_ids(text) if split is str.split else None
    if short is not None:
        chunk_ids, numbering = short[0].astype(itype, copy=False), short[1]
        del head
    else:
        numbering = _Numbering()
        number = numbering.__getitem__
        parts = [np.fromiter(map(number, head), dtype=itype, count=len(head))]
        del head
        for piece in slices:
            chunks = split(piece)
            parts.append(np.fromiter(map(number, chunks), dtype=itype, count=len(chunks)))
        chunk_ids = np.concatenate(parts) if len(parts) > 1 else parts[0]
        del parts
    vocab: dict[str, int] = {}
    cache = _CHUNK_CACHE
    n_pieces: list[int] = []
    flat: list[int] = []
    for chunk in numbering:  # in id order
        if len(chunk) == 1 or chunk.isalpha() or chunk.isdigit():
            toks: tuple[str, ...] = (chunk,)  # a word as it is (split_words' rule)
        else:
            toks = cache.get(chunk) or _split_chunk(chunk)
        n_pieces.append(len(toks))
        flat.extend(vocab.setdefault(t, len(vocab)) for t in toks)
    flat_ids = np.array(flat, dtype=np.int32)
    if len(flat) == len(numbering):  # every chunk is one word
        return flat_ids[chunk_ids], list(vocab)
    pieces = np.array(n_pieces, dtype=itype)
    first = np.zeros(len(pieces), dtype=itype)  # index in ``flat`` of each chunk's first piece
    np.cumsum(pieces[:-1], out=first[1:])
    per = pieces[chunk_ids].astype(itype, copy=False)  # pieces of the chunk at each position
    start = first[chunk_ids]  # its first piece in ``flat``
    out_first = np.zeros(len(per), dtype=itype)  # index in the output of each position's first word
    np.cumsum(per[:-1], out=out_first[1:])
    # index into ``flat`` of every output word: +1 from word to word inside a chunk, and at a chunk's first
    # word a jump from the previous chunk's last piece to this chunk's first; the running sum gives the index
    step = np.ones(int(out_first[-1]) + int(per[-1]), dtype=itype)
    step[0] = start[0]
    step[out_first[1:]] = start[1:] - (start[:-1] + per[:-1] - 1)
    np.cumsum(step, out=step)
    return flat_ids[step], list(vocab)


class TextStats:
    """Lazily computed statistics of one text; each property is computed on first access and kept.

    Units: lengths in characters (Python ``str`` code points), counts in words/lines/paragraphs.
    """

    def __init__(self, text: str, lang: str = "en") -> None:
        self.text = text  # holding the reference keeps ``id(text)`` unique while the cache lives
        self.lang = lang

    # words ---------------------------------------------------------------------------------------------------
    @cached_property
    def _word_ids(self) -> tuple[np.ndarray, list[str]] | None:
        """The words as ``(ids, vocab)`` (word i is ``vocab[ids[i]]``, every vocab entry occurs), or None when
        the plain word list is cheaper.

        Why: a 10 MB Chinese page is 3.3 M one-character words and a page of punctuation 5.8 M words of a few dozen
        kinds; as Python strings they cost ~1 s to split, hash, measure and count. From ids, hashes and lengths
        are one gather each from per-vocabulary tables and the counts one ``bincount``. Chinese of Han characters,
        CJK marks and whitespace only: ids from the code points (``cjk_char_codes``); otherwise from the chunks
        (``_chunk_word_ids``) when they are mostly repeats.
        """
        text = self.text
        zh = self.lang == "zh"
        codes = cjk_char_codes(text) if zh else None
        if codes is not None:
            counts = np.bincount(codes, minlength=0x10000)
            distinct = np.flatnonzero(counts)
            remap = np.zeros(0x10000, dtype=np.int32)
            remap[distinct] = np.arange(len(distinct), dtype=np.int32)
            return remap[codes], [chr(c) for c in distinct.tolist()]
        split = _CJK_TOKEN_RE.findall if zh and CJK_RE.search(text) else str.split
        ids = _chunk_word_ids(text, split)
        if ids is None:
            self.__dict__["_bulk_split"] = True  # for ``words``: split the whole text at once
            self.__dict__["_bulk_cjk"] = split is not str.split  # ... with every CJK character a word
            return None
        if isinstance(ids, list):
            self.__dict__["_chunks"] = ids  # for ``words``: the text is not split twice
            return None
        return ids

    @cached_property
    def words(self) -> list[str]:
        """Words including punctuation tokens (Chinese: one word per Han character)."""
        ids = self._word_ids
        if ids is not None:
            return list(map(ids[1].__getitem__, ids[0].tolist()))
        chunks = self.__dict__.pop("_chunks", None)
        if chunks is not None:
            return _expand_chunks(chunks)
        bulk = self._bulk
        if bulk is not None:
            if self.__dict__["_bulk_cjk"] and "\u3000" in self.text:  # a word that ``str.split`` would drop
                starts, lengths = _cut_word_bounds(bulk[2], bulk[3])
                ends = (starts + lengths).tolist()
                return list(map(self.text.__getitem__, map(slice, starts.tolist(), ends)))
            return _cut_words(bulk[0], bulk[3])
        return split_words(self.text, cjk_chars=self.lang == "zh")

    @cached_property
    def _bulk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """``_bulk_cuts`` of the text when its words come from the whole-text split (``_word_ids``), else None."""
        _ = self._word_ids
        if not self.__dict__.get("_bulk_split"):
            return None
        return _bulk_cuts(self.text, cjk=self.__dict__["_bulk_cjk"])

    @cached_property
    def _byte_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(characters, classes, word starts, word lengths) of a text whose words come from ``_bulk_cuts`` and
        whose characters are all ASCII, whitespace or plain letters, else None: the word count, lengths, hashes
        and features then come from the arrays, and the million Python strings of the word list are never built
        unless asked for."""
        bulk = self._bulk
        if bulk is None or (bulk[0].dtype != np.uint8 and bool((bulk[1] == _NON_ASCII).any())):
            return None
        return (bulk[0], bulk[1], *_cut_word_bounds(bulk[2], bulk[3]))

    @property
    def n_words(self) -> int:
        """Number of words (without building the word list when the ids or the bytes give it)."""
        ids = self._word_ids
        if ids is not None:
            return len(ids[0])
        bounds = self._byte_bounds
        return len(bounds[2]) if bounds is not None else len(self.words)

    @cached_property
    def word_counts(self) -> Counter:
        return Counter(self.words)

    @cached_property
    def _vocab_counts(self) -> list[int]:
        """Occurrences of every vocabulary word (``_word_ids`` texts)."""
        ids, vocab = self._word_ids
        return np.bincount(ids, minlength=len(vocab)).tolist()

    @cached_property
    def _word_mass_max(self) -> tuple[int, int] | None:
        """(largest count(w)·len(w), largest count(w)) over the distinct words w, for ``_word_ids`` texts."""
        ids = self._word_ids
        if ids is None or not ids[1]:
            return None
        counts = self._vocab_counts
        return max(map(operator.mul, counts, map(len, ids[1]))), max(counts)

    @cached_property
    def word_set(self) -> frozenset[str]:
        """The distinct words (stop-word checks)."""
        ids = self._word_ids
        return frozenset(ids[1]) if ids is not None else frozenset(self.words)

    def words_present(self, candidates: Iterable[str]) -> set[str]:
        """The ``candidates`` that are words of the text (stop-word counts), from the word hashes when the words
        come from the bytes (``_byte_bounds``), so that the word list is not built for it: a candidate whose hash
        is absent is absent (equal words, equal hashes); one whose hash is found is checked against the bytes of
        a word with that hash."""
        cands = set(candidates)
        bounds = self._byte_bounds if self._word_ids is None else None
        # an empty candidate, or one with whitespace (U+3000 is a Chinese word), takes the word set
        if bounds is None or not cands or not all(c and not any(map(str.isspace, c)) for c in cands):
            return cands & self.word_set
        raw, _, starts, lengths = bounds
        unit = "ascii" if raw.dtype == np.uint8 else "utf-32-le"
        order = sorted(c for c in cands if unit != "ascii" or c.isascii())  # an ASCII text has no other word
        if not order:
            return set()
        # the candidates in the text's code units: the same bytes per character, the same hashes
        joined = np.frombuffer("".join(order).encode(unit, "surrogatepass"), dtype=raw.dtype)
        c_lengths = np.fromiter(map(len, order), dtype=np.int32, count=len(order))
        c_starts = np.zeros(len(order), dtype=np.int64)
        np.cumsum(c_lengths[:-1], out=c_starts[1:])
        wanted = _word_hashes(joined, c_starts, c_lengths)
        h = self._word_arrays[0]
        pos = np.flatnonzero(np.isin(h, wanted))
        _, first = np.unique(h[pos], return_index=True)
        at = pos[first]  # one word per candidate hash found
        seen = {
            raw[s : s + n].tobytes() for s, n in zip(starts[at].tolist(), lengths[at].tolist(), strict=True)
        }
        return {c for c in order if c.encode(unit, "surrogatepass") in seen}

    def count_words(self, candidates: frozenset[str]) -> int:
        """Occurrences of the words of ``candidates`` among the text's words (flagged-word counts), without the
        word list where the ids or the arrays give them: per distinct word from the ids, or from the word hashes
        (a hash found is checked against the bytes of one word with it, as in ``words_present``)."""
        ids = self._word_ids
        if ids is not None:
            counts = self._vocab_counts
            return sum(k for w, k in zip(ids[1], counts, strict=True) if w in candidates)
        bounds = self._byte_bounds
        if bounds is None or not candidates:
            return sum(map(candidates.__contains__, self.words))
        present = self.words_present(candidates)
        if not present:
            return 0
        raw = bounds[0]
        unit = "ascii" if raw.dtype == np.uint8 else "utf-32-le"
        order = sorted(present)
        joined = np.frombuffer("".join(order).encode(unit, "surrogatepass"), dtype=raw.dtype)
        lengths = np.fromiter(map(len, order), dtype=np.int32, count=len(order))
        starts = np.zeros(len(order), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        return int(np.count_nonzero(np.isin(self._word_arrays[0], _word_hashes(joined, starts, lengths))))

    @cached_property
    def word_features(self) -> dict[str, int]:
        """Counts over words: ``n_words``, ``n_non_symbol`` (words with a char outside PUNCTUATION),
        ``non_symbol_chars`` (their total length), ``n_alpha`` (words with an alphabetic char)."""
        ids = self._word_ids
        if ids is not None:
            # the features of each distinct word times its count
            n_non_symbol = non_symbol_chars = n_alpha = 0
            for w, k in zip(ids[1], self._vocab_counts, strict=True):
                if w.isalpha():
                    non_symbol, alpha = True, True  # PUNCTUATION holds no letter
                else:
                    non_symbol, alpha = not PUNCTUATION_SET.issuperset(w), any(ch.isalpha() for ch in w)
                if non_symbol:
                    n_non_symbol += k
                    non_symbol_chars += k * len(w)
                if alpha:
                    n_alpha += k
            return {
                "n_words": len(ids[0]),
                "n_non_symbol": n_non_symbol,
                "non_symbol_chars": non_symbol_chars,
                "n_alpha": n_alpha,
            }
        bounds = self._byte_bounds
        if bounds is not None:  # an ASCII text of many distinct chunks: from its bytes, not per distinct word
            return _class_word_features(*bounds[1:])
        words = self.words
        # letters-only words (the vast majority) are non-symbol and alphabetic: count them with C-level map/filter
        n_letters_only = sum(map(str.isalpha, words))
        n_non_symbol = n_alpha = n_letters_only
        non_symbol_chars = sum(map(len, filter(str.isalpha, words)))
        feats = _TOKEN_FEATURES
        for w, c in Counter(filterfalse(str.isalpha, words)).items():
            f = feats.get(w)
            if f is None:
                f = (not PUNCTUATION_SET.issuperset(w), any(ch.isalpha() for ch in w))
                if len(w) < 64:
                    if len(feats) >= _CHUNK_CACHE_MAX:
                        feats.clear()
                    feats[w] = f
            if f[0]:
                n_non_symbol += c
                non_symbol_chars += c * len(w)
            if f[1]:
                n_alpha += c
        return {
            "n_words": len(words),
            "n_non_symbol": n_non_symbol,
            "non_symbol_chars": non_symbol_chars,
            "n_alpha": n_alpha,
        }

    # lines and paragraphs ------------------------------------------------------------------------------------
    @cached_property
    def lines_nl(self) -> list[str]:
        """Lines split on runs of newlines (Gopher repetition's line unit): ``re.split(r"\\n+", text)``.

        Computed with ``str.split`` (several times faster than the regex on a 10 MB text): a run of k newlines
        leaves k - 1 empty pieces, which are dropped, except that the regex keeps one empty line before a
        leading and after a trailing run.
        """
        text = self.text
        if "\n" not in text:
            return [text]
        lines = text.split("\n")
        if "\n\n" not in text:
            return lines  # single newlines only: the same pieces
        lines = list(filter(None, lines))
        if text[0] == "\n":
            lines.insert(0, "")
        if text[-1] == "\n":
            lines.append("")
        return lines

    @cached_property
    def paragraphs(self) -> list[str]:
        """Paragraphs: split on two or more newlines after stripping the text (Gopher's paragraph unit), i.e.
        ``re.split(r"\\n{2,}", text.strip())``.

        Computed with ``str.split("\\n\\n")``: inside a run of k >= 3 newlines it cuts k // 2 times, leaving
        empty pieces and, for odd k, one newline at the start of the next paragraph; stripping leading newlines
        and dropping empty pieces gives the regex's result (a paragraph never starts with a newline, and the
        stripped text has no empty paragraph unless it is empty itself).
        """
        stripped = self.text.strip()
        if "\n\n" not in stripped:
            return [stripped]
        paras = stripped.split("\n\n")
        if "\n\n\n" not in stripped:
            return paras  # every run is exactly two newlines: the same pieces
        return list(filter(None, map(str.lstrip, paras, repeat("\n", len(paras)))))

    @cached_property
    def splitlines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def nonblank_lines(self) -> list[str]:
        """Lines split on ``\\n`` that are not blank (FineWeb's line unit)."""
        return [ln for ln in self.text.split("\n") if ln.strip()]

    # n-gram repetition ---------------------------------------------------------------------------------------
    @cached_property
    def _word_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(64-bit hash per word position, length per word position).

        Word hashes are Python's 64-bit string hash: equal words get equal hashes within the process, which is
        all the n-gram counting needs (the per-process hash seed only changes *which* words could collide, with
        probability about N²/2⁶⁴; decisions are otherwise identical across runs and workers).
        """
        ids = self._word_ids
        if ids is not None:
            # each distinct word hashed and measured once, then gathered by id
            vocab = ids[1]
            hashes = np.fromiter(map(hash, vocab), dtype=np.int64, count=len(vocab))
            lengths = np.fromiter(map(len, vocab), dtype=np.int32, count=len(vocab))
            return hashes[ids[0]].view(np.uint64), lengths[ids[0]]
        bounds = self._byte_bounds
        if bounds is not None:
            return _word_hashes(bounds[0], *bounds[2:]), bounds[3]
        words = self.words
        h = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
        lens = np.fromiter(map(len, words), dtype=np.int32, count=len(words))  # a word is < 2^31 characters
        return h, lens

    def ngram_hashes(self, n: int) -> np.ndarray:
        """64-bit polynomial hash of every word n-gram (position i covers words i..i+n-1).

        Collision probability is about N²/2⁶⁴ for N n-grams: negligible at any document size.

        Only the latest n is kept, in one buffer advanced in place (n-gram to (n+1)-gram is one multiply-add),
        because the filters ask for increasing n (top n-grams 2..4, then duplicate n-grams 5..10): on a 10 MB
        document every fresh 8-byte-per-word array costs ~10-30 ms of page faults, more than the arithmetic, and
        keeping every n would hold nine such arrays. A smaller n than the latest is recomputed from the words.
        The returned array is valid until the next call with a different n.
        """
        h1, _ = self._word_arrays
        if n <= 1:
            return h1
        cur = self.__dict__.get("_ngram_cur")
        if cur is None or cur[0] > n:
            bigrams = np.multiply(h1[:-1], _HASH_MULT)  # uint64 arithmetic wraps modulo 2^64
            bigrams += h1[1:]
            cur = (2, bigrams)
        m, buf = cur
        while m < n:
            buf = buf[:-1]  # the (m+1)-gram at i is the m-gram at i times the multiplier plus word i+m
            buf *= _HASH_MULT
            buf += h1[m:]
            m += 1
        self.__dict__["_ngram_cur"] = (m, buf)
        return buf

    @cached_property
    def _len_cumsum(self) -> np.ndarray:
        """Prefix sums of the word lengths (``c[i]`` = characters of words 0..i-1), shared by every n."""
        _, lens = self._word_arrays
        # 4-byte sums when they fit (they are at most the text's length): half the fresh memory to fault in
        dtype = np.int32 if len(self.text) < 2**31 else np.int64
        c = np.empty(len(lens) + 1, dtype=dtype)
        c[0] = 0
        np.cumsum(lens, dtype=dtype, out=c[1:])
        return c

    def ngram_char_lengths(self, n: int) -> np.ndarray:
        """Total characters of the words of every n-gram (separators not counted)."""
        c = self._len_cumsum
        if len(c) - 1 < n:
            return np.zeros(0, dtype=np.int64)
        return c[n:] - c[:-n]

    def top_ngram_chars(self, n: int) -> int:
        """Characters covered by the most frequent word n-gram: count x length (words joined by one space).

        Gopher App. A "fraction of characters in the most common n-gram"; ties go to the n-gram seen first.
        """
        n_words = self.n_words
        if n_words < n:
            return 0
        if n_words <= _SMALL:
            words = self.words
            # small documents: a Counter beats numpy's per-call overhead; most_common keeps first-seen on ties
            gram, count = Counter(zip(*(words[i:] for i in range(n)), strict=False)).most_common(1)[0]
            return count * (sum(map(len, gram)) + n - 1)
        codes = self._ngram_codes(n)
        if codes is not None:
            # exact n-gram numbers over a small vocabulary: counts by one bincount, no hashing and no sort
            counts = np.bincount(codes)
            top = int(counts.max())
            pos = int(np.argmax((counts == top)[codes]))  # the first position of a most frequent n-gram
            ids, vocab = self._word_ids
            # its words from the vocabulary (no per-position length array needed)
            return top * (sum(len(vocab[i]) for i in ids[pos : pos + n].tolist()) + n - 1)
        h = self.ngram_hashes(n)
        srt = np.sort(h)
        bounds = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1], [True])))
        counts = np.diff(bounds)
        top = int(counts.max())
        if top == 1:
            pos = 0
        else:
            vals = srt[bounds[:-1][counts == top]]
            pos = int(np.flatnonzero(np.isin(h, vals))[0])
        length = int(self.ngram_char_lengths(n)[pos]) + (n - 1)
        return top * length

    def _ngram_codes(self, n: int) -> np.ndarray | None:
        """For ``_word_ids`` texts whose vocabulary V has V^n <= ``_CODES_MAX``: the n-gram at every position as
        the number ``sum_k ids[i+k]·V^(n-1-k)`` (distinct n-grams, distinct numbers: no hash collision), else None.

        Why: a 10 MB log of ``a:b:c:d`` is 8.75 M words of 5 kinds; counting its n-grams by number (one
        ``bincount`` over at most ``_CODES_MAX`` slots) replaces hashing every word, the bucket bound and an
        8.75 M-element sort (~0.3 s).
        """
        ids = self._word_ids
        if ids is None or len(ids[0]) < n:
            return None
        v = len(ids[1])
        if v**n > _CODES_MAX:
            return None
        w = ids[0]
        m = len(w) - n + 1
        codes = w[:m].astype(np.int32 if _CODES_MAX < 2**31 else np.int64)
        for k in range(1, n):
            codes *= v
            codes += w[k : k + m]
        return codes

    def top_ngram_exceeds(self, n: int, limit: float) -> bool:
        """Whether ``top_ngram_chars(n) > limit``, answered from a cheap upper bound when possible.

        Bound: an n-gram's count x length is the sum of its occurrences' lengths, which is at most the summed
        length of all n-grams in its hash bucket (one weighted ``bincount`` over up to 2^16 buckets, linear time). If no
        bucket exceeds ``limit``, no n-gram does, and the exact count (a sort) is skipped.

        Before it, when the word counts are at hand (``_word_ids``), a bound from single words that needs no n-gram
        at all: an n-gram g = (w_1..w_n) occurs at most count(w_i) times for every i, so count(g)·len(g) =
        Σ_i count(g)·len(w_i) + count(g)·(n-1) <= Σ_i count(w_i)·len(w_i) + (n-1)·max count <= n·M + (n-1)·C,
        with M the largest character mass count(w)·len(w) of a word and C the largest count. On prose (M about
        3 % of the characters) and on punctuation it settles n = 2..4 without hashing an n-gram.
        """
        mass = self._word_mass_max
        if mass is not None and n * mass[0] + (n - 1) * mass[1] <= limit:
            return False
        ids = self._word_ids
        small_vocab = ids is not None and len(ids[1]) ** n <= _CODES_MAX
        # below _LARGE words an exact sort is cheaper than the bucket array; over a small vocabulary the exact count
        # needs no sort at all
        if self.n_words > _LARGE and not small_vocab:
            h = self.ngram_hashes(n)
            n_buckets = min(_BUCKETS, 1 << int(2 * len(h)).bit_length())
            # each n-gram's length with its n-1 separators, written straight as float64 (bincount's weight type;
            # exact, integers far below 2^53) into a work array shared by every n
            c = self._len_cumsum
            weights, idx = self._scratch(len(h))
            np.subtract(c[n:], c[:-n], out=weights)
            weights += n - 1
            np.bitwise_and(h.view(np.int64), n_buckets - 1, out=idx)  # low bits as the bucket index
            if float(np.bincount(idx, weights=weights, minlength=n_buckets).max()) <= limit:
                return False
        return self.top_ngram_chars(n) > limit

    def _scratch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Two work arrays (float64, int64) of ``size`` elements, shared by the n = 2, 3, 4 bound calls.

        Why: allocating fresh 8-byte-per-n-gram arrays for every n costs more in page faults (~10-30 ms per array
        on a 10 MB document) than the arithmetic done in them; the first, largest n allocates and the others reuse.
        """
        bufs = self.__dict__.get("_scratch_bufs")
        if bufs is None or len(bufs[0]) < size:
            bufs = self.__dict__["_scratch_bufs"] = (np.empty(size, np.float64), np.empty(size, np.int64))
        return bufs[0][:size], bufs[1][:size]

    def _repeat_candidates(self, n: int) -> np.ndarray:
        """Positions whose word n-gram may occur more than once: every repeated position plus a few that are not
        (about 1/16 of the others at most, far fewer when few n-grams repeat); empty only when no n-gram repeats.

        Why a superset is enough: the duplicate scan only counts an n-gram already seen, so visiting a position
        whose n-gram occurs once merely records it and changes no count (and a completed scan that counts nothing
        proves there is no repeat). Why not ``np.unique(return_inverse=True)``: its argsort costs about 2.5x a
        plain sort, and the n-gram's exact 64-bit hash is as good a scan key as the inverse index.

        Method: sort the top 32 bits of the hashes (half the cost of sorting 64-bit values; a 32-bit collision
        only adds a false candidate, ~N²/2³³ of them), take the values equal to their sorted neighbour (the
        repeated ones) and mark them in a table indexed by their top bits, with >= 16 slots per distinct repeated
        value (so <= 1/16 false candidates), at least 2^16 slots (few repeats among many n-grams: few false
        candidates) and at most 2^22 (4 MB, mostly cache-resident); a position is a candidate when its slot is
        marked. Repeated (n+1)-grams start at positions whose n-gram repeats, so when the candidates for n-1 are
        known only those positions are sorted (Gopher's n = 5..10 sweep shrinks at every step).
        """
        h = self.ngram_hashes(n)
        prev = self.__dict__.get("_repeat_cand")
        if prev is not None and prev[0] == n:
            return prev[1]  # already known (the repetition bound computed them before the sweep)
        if prev is not None and prev[0] == n - 1:
            pos: np.ndarray | None = prev[1][prev[1] < len(h)]  # the last n-1 position has no n-gram
            x = h[pos]
        else:
            pos, x = None, h
        # the top 32 bits: on little-endian machines the odd 32-bit halves, a view (no 8-byte temporary)
        top = x.view(np.uint32)[1::2] if _LITTLE_ENDIAN else (x >> np.uint64(32)).astype(np.uint32)
        srt = np.sort(top)
        dup_vals = srt[1:][srt[1:] == srt[:-1]]  # sorted, each repeated value at least once
        if len(dup_vals) == 0:
            cand = np.zeros(0, dtype=np.intp)
        else:
            n_distinct = 1 + int(np.count_nonzero(dup_vals[1:] != dup_vals[:-1]))
            bits = min(22, max(16, (16 * n_distinct).bit_length()))
            shift = np.uint32(32 - bits)
            table = np.zeros(1 << bits, dtype=bool)
            table[dup_vals >> shift] = True
            cand = np.flatnonzero(table[top >> shift])
            if pos is not None:
                cand = pos[cand]
        self.__dict__["_repeat_cand"] = (n, cand)  # only the latest n is kept (memory: 8 bytes per position)
        return cand

    def duplicate_ngram_bound(self, n: int) -> int:
        """An upper bound on ``duplicate_ngram_chars(k)`` for every ``k >= n``: the characters of the words
        covered by the n-word windows at positions whose n-gram repeats an earlier one (their union).

        Why: a document that passes Gopher's n = 5..10 checks (the realistic case) otherwise pays for the whole
        sweep, six left-to-right scans; one bound at the smallest n below the smallest limit settles all six.

        Proof. Suppose the scan for some ``k >= n`` counts the k-gram at position i, i.e. an earlier position
        j < i holds the same k words. For every s in 0..k-n the n-gram at i+s then equals the one at j+s, and
        j+s < i+s, so position i+s repeats an earlier n-gram; the n-word windows at i, i+1, ..., i+k-n cover the
        words i..i+k-1. So every word the scan counts lies in the union. The counted k-grams are disjoint (the
        scan jumps past each one), hence their characters (word characters, separators not counted, as in the
        scan) add up to at most the union's characters. Computing the union from a *superset* of the repeating
        positions only makes it larger, so it stays a bound. (Like the scan, n-gram identity is 64-bit hash
        equality; the argument needs equal k-gram hashes to mean equal words, which fails only on a hash
        collision, probability about N²/2⁶⁴.)

        Method: candidates from ``_repeat_candidates`` (every repeated position), then one sort of
        ``(top hash bits, candidate index)`` keys over the candidates only (``_later_positions``): within a group
        of equal top bits the first position is the first occurrence, every other one repeats an earlier n-gram.
        Truncating the hash to make room for the index can only merge groups, i.e. call a first occurrence a
        repeat: a larger union, still a bound. Cost on 10 MB of shuffled prose (2.3 M words, 0.3 M candidates):
        ~0.15 s, against ~0.5 s for the sweep it replaces.
        """
        memo = self.__dict__.setdefault("_no_repeats_from", None)
        if memo is not None and n >= memo:
            return 0
        n_words = self.n_words
        if n_words < n:
            return 0
        if n_words <= _SMALL:
            words = self.words
            seen: set[tuple[str, ...]] = set()
            later: list[int] = []
            for i, g in enumerate(zip(*(words[t:] for t in range(n)), strict=False)):
                if g in seen:
                    later.append(i)
                else:
                    seen.add(g)
            if not later:
                self.__dict__["_no_repeats_from"] = n
                return 0
            c = list(accumulate(map(len, words), initial=0))
            ends = [min(p + n, q) for p, q in zip(later, [*later[1:], n_words], strict=True)]
            return sum(c[e] - c[p] for p, e in zip(later, ends, strict=True))
        cand = self._repeat_candidates(n)
        if len(cand) == 0:
            self.__dict__["_no_repeats_from"] = n
            return 0
        later_pos = self._later_positions(n, cand)
        if len(later_pos) == 0:
            self.__dict__["_no_repeats_from"] = n
            return 0
        return self._window_union_chars(n, later_pos)

    def duplicate_ngrams_within(self, n: int, limit: float) -> bool:
        """True when ``duplicate_ngram_chars(k) <= limit`` is proven for every ``k >= n`` (then Gopher's whole
        duplicate n-gram sweep can be skipped); False means "not proven", not "exceeded".

        Cheapest test first: the union of the n-word windows at *all* candidate positions (no sort; a superset
        of ``duplicate_ngram_bound``'s positions, so also a bound), then ``duplicate_ngram_bound`` itself. The
        second step is skipped when more than half the positions are candidates: such a heavily repeated
        document almost never passes, and its scan stops early, so the extra sort would be pure cost. Above
        ``_LARGE`` words, a document whose n-grams are estimated to be mostly repeats (fewer distinct n-grams than
        half the positions) answers False before the candidate sort, so that the scan's optimistic prefix can
        decide it without any sort (a 10 MB page repeated 12 times: 0.06 s instead of 0.15 s; a 2-core EPYC).
        """
        memo = self.__dict__.setdefault("_no_repeats_from", None)
        if memo is not None and n >= memo:
            return limit >= 0
        n_words = self.n_words
        if n_words <= _SMALL:
            return self.duplicate_ngram_bound(n) <= limit
        prev = self.__dict__.get("_repeat_cand")
        known = prev is not None and prev[0] in (n - 1, n)  # candidates known or cheap to narrow
        if n_words > _LARGE and not known:
            h = self.ngram_hashes(n)
            if 2 * _distinct_estimate(h) < n_words:
                return False
        cand = self._repeat_candidates(n)
        if len(cand) == 0:
            self.__dict__["_no_repeats_from"] = n
            return limit >= 0
        if self._window_union_chars(n, cand) <= limit:
            return True
        if 2 * len(cand) > n_words:
            return False
        return self.duplicate_ngram_bound(n) <= limit

    def _later_positions(self, n: int, cand: np.ndarray) -> np.ndarray:
        """The positions among ``cand`` (increasing) whose n-gram hash has a smaller position in ``cand`` with
        nearly the same hash (equal top bits): a superset of the positions repeating an earlier n-gram, when
        ``cand`` holds every repeated position. Increasing.

        One sort of ``(top hash bits, index into cand)`` keys: ``cand`` is increasing, so within a group of equal
        top bits the smallest index is the earliest position; marking the others and selecting from ``cand``
        keeps them in order without a second sort.
        """
        h = self.ngram_hashes(n)
        ibits = max(1, (len(cand) - 1).bit_length())  # bits for an index; the hash keeps the other 64 - ibits
        shift = np.uint64(ibits)
        keys = h[cand] >> shift
        keys <<= shift
        keys |= np.arange(len(cand), dtype=np.uint64)
        keys.sort()
        grp = keys >> shift
        later = keys[1:][grp[1:] == grp[:-1]]  # every key but the first (smallest index) of its group
        later &= np.uint64((1 << ibits) - 1)
        mark = np.zeros(len(cand), dtype=bool)
        mark[later.astype(np.intp)] = True
        return cand[mark]

    def _window_union_chars(self, n: int, pos: np.ndarray) -> int:
        """Characters of the words covered by the n-word windows starting at the increasing positions ``pos``.

        Windows of one length sorted by start: window i adds the words from its start up to the next window's
        start or its own end, whichever is first (the pieces are disjoint and cover the union).
        """
        if len(pos) == 0:
            return 0
        c = self._len_cumsum
        ends = np.empty(len(pos), dtype=np.int64)
        ends[:-1] = pos[1:]
        ends[-1] = len(c) - 1
        np.minimum(ends, pos + n, out=ends)
        return int(c[ends].sum() - c[pos].sum())

    def duplicate_ngram_chars(self, n: int, stop_above: int | None = None) -> int:
        """Characters in word n-grams that repeat an earlier n-gram, counted without overlap (Gopher App. A,
        "fraction of characters in duplicate n-grams"): scanning left to right, a repeated n-gram adds its
        characters and the scan jumps past it.

        Only positions whose n-gram occurs more than once can repeat, so the scan visits just those
        (``_repeat_candidates``: linear-time numpy work after one sort, then a loop over candidate positions only).
        ``stop_above`` ends the scan as soon as the count exceeds it (the caller's decision is made).
        """
        memo = self.__dict__.setdefault("_no_repeats_from", None)
        if memo is not None and n >= memo:
            return 0  # no repeated m-gram for some m <= n implies no repeated n-gram
        n_words = self.n_words
        if n_words < n:
            return 0
        if n_words <= _SMALL:
            words = self.words
            grams = list(zip(*(words[i:] for i in range(n)), strict=False))
            if len(set(grams)) == len(grams):
                self.__dict__["_no_repeats_from"] = n
                return 0
            seen_g: set[tuple[str, ...]] = set()
            total = idx = 0
            while idx < len(grams):
                g = grams[idx]
                if g in seen_g:
                    total += sum(map(len, g))
                    idx += n
                    if stop_above is not None and total > stop_above:
                        return total
                else:
                    seen_g.add(g)
                    idx += 1
            return total
        seen: set[int] = set()
        total = idx = 0
        scanned = 0  # positions below this were already visited by the optimistic prefix scan
        prev = self.__dict__.get("_repeat_cand")
        if stop_above is not None and n_words > _LARGE and not (prev is not None and prev[0] in (n - 1, n)):
            # Optimistic prefix scan: a heavily repeated document (the same page many times over) reaches
            # ``stop_above`` early, and then the candidate sort below is pure cost. Scan every position of the
            # first third directly (the Python loop over it costs about what the sort does); if the decision is
            # not made there, continue from the same state over the candidates only, so a document that is not
            # repeated pays at most about twice the sort, once, at the first n of a sweep.
            scanned = n_words // 3
            total, idx, stopped = self._scan_run(n, 0, scanned, seen, 0, stop_above)
            if not stopped and 3 * total > stop_above:
                # the prefix counted at a rate that reaches the limit over the whole document: go on over every
                # position (visiting a position whose n-gram occurs once only records it) rather than sort
                total, idx, stopped = self._scan_run(n, idx, n_words, seen, total, stop_above)
                return total
            if stopped:
                return total
        cand = self._repeat_candidates(n)
        if len(cand) == 0:  # no n-gram repeats (then the prefix scan found nothing either)
            self.__dict__["_no_repeats_from"] = n
            return 0
        if scanned:
            cand = cand[cand >= scanned]
        total, idx, stopped = self._scan(n, cand, seen, total, idx, stop_above)
        if total == 0:  # a full scan that counted nothing: no n-gram repeats (see _repeat_candidates)
            self.__dict__["_no_repeats_from"] = n
        return total

    def _scan_run(
        self, n: int, start: int, end: int, seen: set[int], total: int, stop_above: int
    ) -> tuple[int, int, bool]:
        """``_scan`` over every position from ``start`` (the next position the scan may look at) below ``end``:
        the same visits, counts and state.

        Why a separate loop: over consecutive positions the scan jumps straight past a counted duplicate instead
        of stepping over the n - 1 positions inside it, so a heavily repeated document (where most visits count,
        the case it is used for) costs one Python iteration per duplicate, not n of them.
        """
        h = self.ngram_hashes(n)
        c = self._len_cumsum
        end = min(end, len(h))
        record = seen.add  # bound once: ~7 % of this loop's time on 10 MB of punctuation
        p = start
        for b in range(start, end, _SCAN_BLOCK):  # blocks: an early stop does not convert every position
            e = min(b + _SCAN_BLOCK, end)
            keys = h[b:e].tolist()
            lens = (c[b + n : e + n] - c[b:e]).tolist()
            i, m = p - b, e - b  # block-local positions: no offset arithmetic per visit
            while i < m:
                key = keys[i]
                if key in seen:
                    total += lens[i]
                    i += n
                    if total > stop_above:
                        return total, b + i, True
                else:
                    record(key)
                    i += 1
            p = b + i
        return total, p, False

    def _scan(
        self, n: int, pos: np.ndarray, seen: set[int], total: int, idx: int, stop_above: int | None
    ) -> tuple[int, int, bool]:
        """Advance the left-to-right duplicate n-gram scan over the increasing positions ``pos``.

        State: ``seen`` (hashes of the n-grams recorded so far), ``total`` (duplicate characters counted), ``idx``
        (the next position the scan may look at; a counted duplicate makes the scan jump past its n words).
        Positions left out of ``pos`` must be ones whose n-gram occurs only once (visiting them would only record
        them). Returns the new ``(total, idx, stopped)``; ``stopped`` when ``total`` exceeded ``stop_above``.
        """
        h = self.ngram_hashes(n)
        c = self._len_cumsum
        record = seen.add
        for b in range(0, len(pos), _SCAN_BLOCK):  # blocks: an early stop does not convert the whole array
            block = pos[b : b + _SCAN_BLOCK]
            lens = c[block + n] - c[block]  # characters of each n-gram, for these positions only
            # the key is the n-gram's 64-bit hash itself (equal n-grams, equal keys)
            for p, key, ln in zip(block.tolist(), h[block].tolist(), lens.tolist(), strict=True):
                if p < idx:
                    continue  # inside a duplicate n-gram already counted
                if key in seen:
                    total += ln
                    idx = p + n
                    if stop_above is not None and total > stop_above:
                        return total, idx, True
                else:
                    record(key)
                    idx = p + 1
        return total, idx, False


def text_stats(doc: Document, lang: str = "auto") -> TextStats:
    """The shared, cached statistics of ``doc`` (recomputed only if ``doc.text`` changed or the language differs).

    The cache entry ``doc.meta["_stats"]`` is transient (keys starting with ``_`` are never written).
    """
    resolved = doc_lang(doc, lang)
    cached: Any = doc.meta.get(STATS_KEY)
    if isinstance(cached, TextStats) and cached.text is doc.text and cached.lang == resolved:
        return cached
    stats = TextStats(doc.text, resolved)
    doc.meta[STATS_KEY] = stats
    return stats


def strip_transient(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` without its transient keys (those starting with ``_``), for writers."""
    return {k: v for k, v in meta.items() if not k.startswith("_")}
