"""The shared text statistics: word splitting and the fast n-gram repetition measures vs naive definitions."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixkit.curate import textstats
from mixkit.curate.textstats import TextStats, split_words, strip_transient


def naive_top(words: list[str], n: int) -> int:
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0
    gram, count = Counter(grams).most_common(1)[0]
    return count * len(" ".join(gram))


def naive_dup(words: list[str], n: int) -> int:
    seen: set[tuple[str, ...]] = set()
    total, i = 0, 0
    while i < len(words) - n + 1:
        g = tuple(words[i : i + n])
        if g in seen:
            total += sum(map(len, g))
            i += n
        else:
            seen.add(g)
            i += 1
    return total


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "bb", "the", "cat", "sat", "on", "mat", "x"]), min_size=0, max_size=900),
    st.integers(2, 10),
)
def test_ngram_measures_match_definition(words, n):
    # sizes straddle the pure-Python / numpy switch (_SMALL words)
    stats = TextStats(" ".join(words))
    assert stats.words == words
    assert stats.top_ngram_chars(n) == naive_top(words, n)
    assert stats.duplicate_ngram_chars(n) == naive_dup(words, n)


def test_numpy_path_on_large_input():
    words = (["alpha", "beta", "gamma", "delta"] * 300) + [f"w{i}" for i in range(500)]
    stats = TextStats(" ".join(words))
    assert len(words) > textstats._SMALL
    for n in (2, 3, 5, 10):
        assert stats.top_ngram_chars(n) == naive_top(words, n)
        assert stats.duplicate_ngram_chars(n) == naive_dup(words, n)


def test_split_words_english_rules():
    # expectations checked against spaCy 3 blank("en"), the tokenizer datatrove uses
    assert split_words("Don't stop, it's the U.S. e.g. (maybe).") == [
        "Do",
        "n't",
        "stop",
        ",",
        "it",
        "'s",
        "the",
        "U.S.",
        "e.g.",
        "(",
        "maybe",
        ")",
        ".",
    ]
    assert split_words("well-known COVID-19 3-4 a/b see https://example.com/a-b.") == [
        "well",
        "-",
        "known",
        "COVID-19",
        "3",
        "-",
        "4",
        "a",
        "/",
        "b",
        "see",
        "https://example.com/a-b",
        ".",
    ]
    assert split_words("Wait... 10km $5") == ["Wait", "...", "10", "km", "$", "5"]
    assert split_words("") == []


def test_split_words_linear_on_punctuation_runs():
    text = "!?.,;:" * 40_000  # one 240,000-character chunk
    words = split_words(text)
    assert "".join(words) == text


def test_strip_transient():
    assert strip_transient({"_stats": 1, "lang": "en"}) == {"lang": "en"}


def test_top_ngram_bound_agrees_with_exact():
    import random

    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(3000)]
    for repeat in (1, 50, 400):
        words = [rng.choice(vocab) for _ in range(textstats._LARGE + 1000)] + ["spam", "eggs"] * repeat * 10
        stats = TextStats(" ".join(words))
        for n in (2, 3, 4):
            exact = stats.top_ngram_chars(n)
            for limit in (exact - 1, exact, exact * 2, 10):
                assert stats.top_ngram_exceeds(n, limit) == (exact > limit)


@pytest.mark.parametrize("large", [10**9, 1000])
@pytest.mark.parametrize("block", [1 << 16, 7])
def test_duplicate_ngrams_sweep_and_early_stop_match_definition(monkeypatch, large, block):
    # Gopher sweeps n = 5..10 in order: each n reuses the previous n's candidate positions. Mixed input: unique
    # words, a repeated paragraph and a long repeated run, so candidates shrink but never vanish. ``large``
    # switches the optimistic prefix scan (documents above _LARGE words, with a stop_above) on; a tiny ``block``
    # makes the scan cross many block boundaries and the prefix/candidate hand-over land mid-duplicate.
    import random

    monkeypatch.setattr(textstats, "_LARGE", large)
    monkeypatch.setattr(textstats, "_SCAN_BLOCK", block)

    rng = random.Random(7)
    para = [f"p{i % 37}" for i in range(300)]
    words = [f"u{i}" for i in range(2000)] + para + [rng.choice(["a", "b", "c"]) for _ in range(3000)] + para
    rng.shuffle(para)
    words += para + ["x", "y"] * 500
    for order in (range(2, 11), range(10, 1, -1)):
        stats = TextStats(" ".join(words))
        for n in order:
            exact = naive_dup(words, n)
            assert stats.duplicate_ngram_chars(n) == exact
            for stop in (0, exact // 3, exact - 1, exact):
                got = stats.duplicate_ngram_chars(n, stop_above=stop)
                assert got == exact if exact <= stop else exact >= got > stop
    unique = TextStats(" ".join(f"w{i}" for i in range(5000)))
    assert [unique.duplicate_ngram_chars(n) for n in (5, 6, 10)] == [0, 0, 0]


def test_ngram_hashes_any_order_equal_fresh():
    # n-gram hashes live in one buffer advanced in place; asking for a smaller n recomputes it
    words = " ".join(f"w{i % 97}" for i in range(3000))
    stats = TextStats(words)
    for n in (2, 5, 3, 9, 1, 4, 4):
        assert (stats.ngram_hashes(n) == TextStats(words).ngram_hashes(n)).all()
        assert len(stats.ngram_hashes(n)) == 3000 - n + 1
    assert len(TextStats("a b").ngram_hashes(5)) == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n\t\r", max_size=40))
def test_lines_and_paragraphs_match_regex_definition(text):
    # computed with str.split for speed; the definitions are Gopher's regex splits
    stats = TextStats(text)
    assert stats.lines_nl == (re.split(r"\n+", text) if "\n" in text else [text])
    stripped = text.strip()
    assert stats.paragraphs == (re.split(r"\n{2,}", stripped) if "\n\n" in stripped else [stripped])


@pytest.mark.parametrize("large", [10**9, 1000])
def test_duplicate_ngram_bound_covers_every_longer_scan(monkeypatch, large):
    # The bound that lets Gopher skip its n = 5..10 sweep must be >= the exact scan for every n from its own up, on
    # the pure-Python (<= _SMALL words) and the numpy path; ``large`` switches the distinct-count gate on. A sweep
    # after the bound (sharing its candidates and memo) must still be exact.
    monkeypatch.setattr(textstats, "_LARGE", large)
    rng = random.Random(11)
    proven = 0
    for _ in range(40):
        size = rng.choice([50, 399, 401, 1500, 4000])
        vocab = rng.choice([3, 30, 3000])
        words = [f"w{rng.randrange(vocab)}" * rng.randint(1, 3) for _ in range(size)]
        for _ in range(rng.randint(0, 4)):  # copy a few runs elsewhere: repeats of many lengths
            a, b, run = rng.randrange(size), rng.randrange(size), rng.randint(1, 40)
            words[b:b] = words[a : a + run]
        text = " ".join(words)
        exact = {k: naive_dup(words, k) for k in range(2, 11)}
        for m in range(2, 11):
            worst = max(exact[k] for k in range(m, 11))
            bound = TextStats(text).duplicate_ngram_bound(m)
            assert bound >= worst
            for limit in (0, bound - 1, bound, worst, 10**9):
                stats = TextStats(text)
                if stats.duplicate_ngrams_within(m, limit):
                    proven += 1
                    assert worst <= limit
                assert [stats.duplicate_ngram_chars(k) for k in range(m, 11)] == [
                    exact[k] for k in range(m, 11)
                ]
    assert proven > 100  # not vacuous


# --- the Chinese code-point path against the plain word list --------------------------------------------------
_ZH_ALPHABET = "的了是在和有我不这也就人都一他们个上中为㐀䶿丁龥豈﫿，。！？、：；「」《》\u3000 \n\t"


def _plain_stats(text: str, lang: str = "zh") -> TextStats:
    """TextStats with the word-id paths switched off (the reference: one Python string per word)."""
    stats = TextStats(text, lang)
    stats.__dict__["_word_ids"] = None
    return stats


def _assert_same_stats(fast: TextStats, plain: TextStats) -> None:
    assert fast.words == plain.words
    assert fast.n_words == len(plain.words)
    assert fast.word_set == plain.word_set
    assert fast.word_features == plain.word_features
    for got, want in zip(fast._word_arrays, plain._word_arrays, strict=True):
        assert (got == want).all()
    for n in (2, 5):
        assert fast.top_ngram_chars(n) == plain.top_ngram_chars(n)
        assert fast.duplicate_ngram_chars(n) == plain.duplicate_ngram_chars(n)
        assert fast.duplicate_ngram_bound(n) == plain.duplicate_ngram_bound(n)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ZH_ALPHABET + "ab1.!-", max_size=1500))
def test_cjk_code_path_matches_plain_words(text):
    fast, plain = TextStats(text, "zh"), _plain_stats(text)
    codes = textstats.cjk_char_codes(text)
    if codes is not None:
        assert fast._word_ids is not None
        assert split_words(text, cjk_chars=True) == [chr(c) for c in codes.tolist()]
    else:  # only Han, CJK marks and whitespace, with a Han character, takes the code-point path
        assert not textstats.CJK_RE.search(text) or re.search(r"[ab1.!\-]", text)
    _assert_same_stats(fast, plain)
    assert textstats.count_han(text) == len(textstats.CJK_RE.findall(text))


def test_cjk_char_classes_agree_with_the_split_regex():
    # every BMP character alone and between spaces: the class table and _CJK_TOKEN_RE give the same words
    bmp = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    cls = textstats._char_classes()
    for ch in bmp:
        tokens = textstats._CJK_TOKEN_RE.findall(f"一{ch}一")
        kind = int(cls[ord(ch)])
        if kind == textstats._CLS_SPACE:
            assert tokens == ["一", "一"]
        elif kind in (textstats._CLS_HAN, textstats._CLS_CJK_MARK):
            assert tokens == ["一", ch, "一"]
    # lone surrogates and astral characters are handled
    assert textstats.count_han("a\ud800一\U00020000丁") == 2
    assert textstats.cjk_char_codes("一\U00020000") is None and textstats.cjk_char_codes("abc") is None


@pytest.mark.parametrize("seed", range(6))
def test_word_id_paths_filters_decide_as_plain_path(monkeypatch, seed):
    # large random Chinese documents (numpy paths, above _LARGE characters), from unique to heavily repeated
    from mixkit.curate.heuristics import FineWeb, GopherQuality, GopherRepetition
    from mixkit.pipeline.step import ShardContext
    from mixkit.records import Document

    monkeypatch.setattr(textstats, "_LARGE", 2000)
    monkeypatch.setattr(textstats, "_IDS_MIN_CHUNKS", 1000)
    rng = random.Random(seed)
    if seed % 2:  # English-like: words, punctuation runs, spaces
        alphabet = ["the", "cat", "sat", "Mr.", "don't", "!!", "...", "#", "-", "(a)", "x1", "é"][: 3 + seed]
        alphabet += [" ", " ", " ", "\n"]
    else:  # Chinese: Han characters, CJK marks, whitespace
        alphabet = [chr(0x4E00 + i) for i in range(rng.choice([5, 50, 3000]))] + list("，。 \n")
    page = "".join(rng.choices(alphabet, k=rng.randint(3000, 12000)))
    text = page * rng.choice([1, 1, 3])
    steps = [GopherRepetition(), GopherQuality(), FineWeb()]
    fast = [s.keep(Document(id="d", text=text), ShardContext()) for s in steps]
    monkeypatch.setattr(TextStats, "_word_ids", property(lambda self: None))
    plain = [s.keep(Document(id="d", text=text), ShardContext()) for s in steps]
    assert fast == plain


def test_heavily_repeated_scan_matches_definition(monkeypatch):
    # punctuation tokens: the optimistic prefix scan counts fast and continues over every position
    monkeypatch.setattr(textstats, "_LARGE", 1000)
    rng = random.Random(3)
    words = [rng.choice("!?.,;:") * rng.randint(1, 2) for _ in range(6000)]
    words = split_words(" ".join(words))
    for n in (5, 7):
        exact = naive_dup(words, n)
        for stop in (0, exact // 4, exact // 2, exact - 1, exact, 2 * exact):
            got = TextStats(" ".join(words)).duplicate_ngram_chars(n, stop_above=stop)
            assert got == exact if exact <= stop else exact >= got > stop


_EN_PIECES = ["the", "cat", "Mr.", "U.S.", "don't", "it's", "e.g.", "10km", "$5", "a-b", "!!", "?", "...", "…", "#",
              "--", "(x)", "'q'", "1", "x1", "é", "www.a.b", "一", "，", " ", " ", "\n", "\t"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_EN_PIECES), max_size=600), st.sampled_from(["en", "zh"]))
def test_chunk_id_path_matches_plain_words(pieces, lang):
    text = "".join(pieces)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "_IDS_MIN_CHUNKS", 0)
        mp.setattr(textstats, "_IDS_SAMPLE", 0)  # always take the id path
        fast = TextStats(text, lang)
        if text.split():
            assert fast._word_ids is not None
        _assert_same_stats(fast, _plain_stats(text, lang))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_EN_PIECES[:-4] + [" "] * 6), max_size=800),
    st.integers(2, 4),
    st.floats(0.0, 0.5),
)
def test_word_mass_bound_never_hides_a_top_ngram(pieces, n, frac):
    # the single-word bound (id path) answers "not exceeded" only when the exact top n-gram is within the limit
    text = "".join(pieces)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "_IDS_MIN_CHUNKS", 0)
        mp.setattr(textstats, "_IDS_SAMPLE", 0)
        fast = TextStats(text)
        exact = _plain_stats(text, "en").top_ngram_chars(n)
        for limit in (frac * len(text), exact - 1, exact):
            assert fast.top_ngram_exceeds(n, limit) == (exact > limit)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", ":", "b", "c:d", "!!", "...", "the", " ", " ", "\n"]), max_size=900),
    st.integers(2, 4),
    st.sampled_from([1 << 20, 8]),
)
def test_small_vocabulary_ngram_numbers_give_the_exact_top_ngram(pieces, n, codes_max):
    # the n-gram numbers (id path, V^n <= _CODES_MAX) against the plain word list, on both sides of _SMALL
    text = "".join(pieces)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "_IDS_MIN_CHUNKS", 0)
        mp.setattr(textstats, "_IDS_SAMPLE", 0)
        mp.setattr(textstats, "_SMALL", 0)
        mp.setattr(textstats, "_CODES_MAX", codes_max)
        fast = TextStats(text)
        words = split_words(text)
        if codes_max > 8 and len(words) >= n:
            assert fast._ngram_codes(n) is not None
        exact = naive_top(words, n)
        assert fast.top_ngram_chars(n) == exact
        for limit in (exact - 1, exact, len(text) * 0.2):
            assert TextStats(text).top_ngram_exceeds(n, limit) == (exact > limit)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab:!一，\u3000 \n\t\x0b\x1c\x85\xa0\u2028", max_size=300),
    st.integers(1, 40),
    st.sampled_from([0, 5, 10_000]),
)
def test_sliced_split_gives_the_chunks_of_the_whole_text(text, slice_chars, min_chunks):
    # split slice by slice (cut after a whitespace character) == split of the whole text, for both splitters
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "_SPLIT_SLICE", slice_chars)
        mp.setattr(textstats, "_IDS_MIN_CHUNKS", min_chunks)
        mp.setattr(textstats, "_IDS_SAMPLE", min_chunks)
        assert "".join(textstats._text_slices(text)) == text
        for split in (str.split, textstats._CJK_TOKEN_RE.findall):
            assert [c for p in textstats._text_slices(text) for c in split(p)] == split(text)
            got = textstats._chunk_word_ids(text, split)
            if isinstance(got, list):
                assert got == split(text)
            else:
                ids, vocab = got
                assert [vocab[i] for i in ids.tolist()] == textstats._expand_chunks(split(text))


# --- the whole-text word split (``_bulk_split_words``) against the per-chunk split ------------------------------
# Pieces chosen to hit every rule of ``_split_chunk`` and ``_INFIX_RE``: affixes, units, abbreviations,
# contractions, URLs, dot and dash runs, infixes between every class of neighbour, non-ASCII letters, dashes and
# whitespace (U+00A0, U+3000, U+2028, U+0085), and a lone surrogate.
_BULK_PIECES = [
    *"abzAZ09éß一",
    *"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "’",
    "…",
    "—",
    "–",
    "²",
    "€",
    "\ud800",
    " ",
    " ",
    "\n",
    "\t",
    "\x0b",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u3000",
    "km",
    "mbar",
    "hPa",
    "MB",
    "10",
    "Mr.",
    "e.g.",
    "U.S.",
    "don't",
    "can’t",
    "'s",
    "http://",
    "https://x.y/a-b",
    "www.",
    "...",
    "--",
    "---",
    "a-b",
    "3-4",
    "1e+5",
    "a.B",
    "a,b",
    "x:y",
    "a/b",
    "a=b",
    "a~b",
    "1^2",
    "2*3",
    "ab@cd.com",
    "1a2b:3c4d",
    "5e6f",
    "fe80::1",
    "ж",
    "жизнь",
    "Ω",
    "ǅ",
    "ー",
    "〇",
    "Ⅻ",
    "١",
    "µ",
    "ÿ",
    "Ā",
    "中文",
    "x86.",
    "ab1.",
    "жизнь.",
    "abcde.",
    "abcd.",
    "Ab.",
    "ok.)",
    "((ok.)",
    "ok).",
    "ÿ.",
    "ABC.",
    "AB.",
    "aBC.",
    "ÉTÉ.",
    "été,",
    "(été.)",
    "é.É",
    "ЖЖ.",
    "ǅǅ.",
    "中中.",
    "ÿ.À",
    "×",
    "ª",
    # apostrophes (contractions, "'s", affixes), dash runs, inert non-ASCII characters, planes 1 and 2
    "'S",
    "n't",
    "N'T",
    "'ll",
    "'LL",
    "'re",
    "'Ve",
    "'d",
    "'M",
    "'t",
    "n",
    "s",
    "S",
    "it's",
    "don't.",
    "(we'll)",
    "rock'n'roll",
    "x" * 29 + "'ll",
    "----",
    "1--2",
    "a---b",
    "a----b",
    "b—'s",
    "+1",
    "+",
    "٣",
    "３",
    "²",
    "①",
    "5²km",
    "§",
    "§3.",
    "다.",
    "x@.",
    "aB.",
    "B.",
    "Ph.D.'s",
    "U.S.'s",
    "(+49)",
    "a.",
    "i.",
    "Ph.D.",
    "Sept.",
    "sept.",
    "Dec.",
    "x.Dec.",
    "—",
    "——",
    "😀",
    "©",
    "→",
    "™",
    "°",
    "\u00ad",
    "\U0001d400",
    "\U00020000",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_BULK_PIECES), max_size=120))
def test_bulk_split_is_the_per_chunk_split(pieces):
    text = "".join(pieces)
    words = textstats._expand_chunks(text.split())
    assert textstats._bulk_split_words(text) == words
    _, _, word, cut = textstats._bulk_cuts(text)
    starts, lengths = textstats._cut_word_bounds(word, cut)  # the words' places in the text itself
    assert [text[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)] == words


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_bulk_split_is_the_per_chunk_split_on_any_text(text):
    assert textstats._bulk_split_words(text) == textstats._expand_chunks(text.split())


def test_classified_characters_split_as_their_class_says():
    # Every class of ``_letter_classes`` stands for characters that the rules treat alike: put a sample of each
    # (every 23rd, all of Latin-1, every cased character that is not a letter: Ⓐ, ʰ ...) in the contexts of the
    # final-"." rule, the infix rules, the contractions and the affixes, and compare with the per-chunk split.
    table = textstats._letter_classes()
    classed = [cp for cp in np.flatnonzero(table != textstats._NON_ASCII).tolist() if cp >= 0x80]
    cased = [cp for cp in classed if (chr(cp).isupper() or chr(cp).islower()) and not chr(cp).isalpha()]
    # the characters given an ASCII character's class or one of few members: ’ « € — ² § ٣ ...
    rare = [cp for cp in classed if table[cp] < 128 or table[cp] >= textstats._NON_ASCII_CURRENCY]
    digits = [cp for cp in classed if chr(cp).isdigit()]
    sample = sorted({*classed[::23], *range(0x80, 0x100), *cased, *rare, *digits[::7]})
    text = "".join(
        f"a{ch}. {ch}{ch}. b-{ch}-{ch},b ({ch}'ll) {ch}n't a.{ch}:{ch} 1{ch}. {ch}--b {ch}a{ch}s a{ch}ll {ch}1{ch}"
        f" a{ch}{ch}b 1{ch}{ch}b a{ch}{ch}{ch}b 1{ch}2 {ch}a{ch}{ch} {ch}km +{ch} {ch}$ x{ch}. {ch}'s a{ch}{ch}.\n"
        for ch in map(chr, sample)
    )
    assert textstats._bulk_split_words(text) == textstats._expand_chunks(text.split())
    inert = table == textstats._NON_ASCII_INERT
    assert inert[0x1F600] and inert[0xA9] and inert[0x2192]  # emoji, ©, →
    assert not inert[0x2014] and not inert[0x2019] and not inert[0x24B6]  # —, ’ (named by rules), Ⓐ (cased)
    assert table[ord("’")] == ord("'") and table[ord("«")] == ord("(") and table[ord("€")] != ord("$")
    assert table[ord("²")] == textstats._NON_ASCII_SUPER and table[ord("٣")] == textstats._NON_ASCII_DIGIT


@pytest.mark.parametrize(
    "text",
    [
        "can’t we’ll it’s ’s (don’t) x’",
        "can't we'll it's 's (don't) x'",
        "a--b 1--2 c---d",
        "b—'s a—b a——b a———b 1—2 1——b x…y –a– Ω–'S",
    ],
)
def test_bulk_split_reads_apostrophes_and_dash_runs(text):
    # each kind alone in its text (a pass that runs only when the text holds its character)
    assert textstats._bulk_split_words(text) == textstats._expand_chunks(text.split())
    assert textstats._bulk_split_words(text) != text.split()


def test_non_ascii_whitespace_table_is_str_isspace():
    # the bulk split cuts on exactly the characters str.split cuts on
    assert set(textstats._NON_ASCII_SPACES) == {c for c in range(128, 0x110000) if chr(c).isspace()}
    assert all(a.endswith(".") for a in textstats._ABBREVIATIONS)  # the plain-chunk rule relies on it


def _random_log(n_tokens: int, seed: int) -> str:
    """A log-like text of random tokens (the bulk split's case): IPv6-like groups, e-mails, hashes with affixes."""
    rng = random.Random(seed)
    hexd = "0123456789abcdef"
    out = []
    for _ in range(n_tokens):
        kind = rng.randrange(5)
        if kind == 0:
            tok = ":".join("".join(rng.choices(hexd, k=4)) for _ in range(rng.randint(2, 8)))
        elif kind == 1:
            tok = "".join(rng.choices("abcxyz", k=6)) + "@" + rng.choice(["a.com", "B.org", "c.Io"])
        elif kind == 2:
            tok = (
                rng.choice(["(", "[", '"', "", "", ""])
                + "".join(rng.choices(hexd, k=8))
                + rng.choice([",", ".", ")", "km", "", "", "'s"])
            )
        elif kind == 3:
            tok = rng.choice(["the", "end.", "Mr.", "don't", "x--y", "a.B", "a,b", "10kg"])
        else:
            tok = "".join(rng.choices("ab.-:/,=~^*+1", k=rng.randint(1, 7)))
        out.append(tok + rng.choice([" ", " ", "\n", "\t"]))
    return "".join(out)


def test_split_words_takes_the_bulk_path_on_random_tokens_with_the_same_words(monkeypatch):
    monkeypatch.setattr(textstats, "_CHUNK_CACHE", {})
    text = _random_log(20_000, 0)
    assert len(text) >= textstats._BULK_MIN
    assert textstats._use_bulk(text[: textstats._BULK_HEAD].split())
    assert not textstats._use_bulk(("the end. " * 20_000).split())  # prose-like repeats stay per chunk
    assert split_words(text) == textstats._expand_chunks(text.split())


# ASCII, plain non-ASCII letters, inert characters and ’ (stats from the arrays), and characters of their own
# class (µ: stats from the word list)
@pytest.mark.parametrize(
    ("extra", "arrays"),
    [
        ("", True),
        (" жизнь, слово. Ωmega x", True),
        (" x😀y ©z 😀 it's we'll (don't) a--b c---d 1--2 ™.", True),
        (" café ’ — … § µ", False),
    ],
)
def test_text_stats_on_the_bulk_path_match_the_word_list(extra, arrays, monkeypatch):
    monkeypatch.setattr(
        textstats, "_CHUNK_CACHE", {}
    )  # chunks cached by an earlier test would be no longer fresh
    text = _random_log(20_000, 1) + extra
    fast = TextStats(text)
    assert fast._word_ids is None and "_bulk_split" in fast.__dict__
    words = textstats._expand_chunks(text.split())
    assert fast.words == words
    slow = TextStats(text)
    slow.__dict__["_word_ids"] = None  # the plain word-list path
    slow.__dict__["words"] = list(words)
    assert fast.word_features == slow.word_features
    assert fast._word_arrays[1].tolist() == slow._word_arrays[1].tolist()
    assert (fast._byte_bounds is not None) == arrays
    for cands in (["the", "of", "x", "zzz"], ["the", "жизнь", "слово", "Ωmega", "слова"]):
        assert fast.words_present(cands) == set(cands) & set(words)
    for n in (5, 8):
        assert fast.duplicate_ngram_chars(n) == naive_dup(words, n)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab.:!\x01~", min_size=1, max_size=9), min_size=1, max_size=30),
    st.lists(st.integers(0, 29), min_size=1, max_size=400),
    st.sampled_from([" ", "\n", "\t\x1c"]),
)
def test_short_chunk_ids_number_the_chunks_of_str_split(vocab, picks, sep):
    # numbering by the chunk's bytes (one uint64 each) == the chunks of str.split; None when a chunk is too long
    text = sep.join(vocab[i % len(vocab)] for i in picks)
    got = textstats._short_chunk_ids(text)
    chunks = text.split()
    if max(map(len, chunks)) > textstats._KEY_BYTES:
        assert got is None
    else:
        ids, names = got
        assert [names[i] for i in ids.tolist()] == chunks


def test_key_index_falls_back_to_a_binary_search_for_many_keys():
    rng = np.random.default_rng(0)
    distinct = np.unique(rng.integers(0, 2**63, size=5_000, dtype=np.uint64))  # 2·d² slots: too many
    keys = distinct[rng.integers(0, len(distinct), size=20_000)]
    assert (distinct[textstats._key_index(distinct, keys)] == keys).all()
    few = distinct[:50]
    assert (few[textstats._key_index(few, keys[np.isin(keys, few)])] == keys[np.isin(keys, few)]).all()


def test_word_hashes_equal_for_equal_words_and_distinct_otherwise():
    rng = random.Random(3)
    alphabet = "ab\x00:.-"  # NUL inside words: lengths must still tell "a" from "a\0"
    vocab = sorted(
        {"".join(rng.choices(alphabet, k=rng.randint(1, 80))) for _ in range(20_000)} | {"a", "a\x00"}
    )
    words = [rng.choice(vocab) for _ in range(60_000)] + vocab
    spaced = np.frombuffer(" ".join(words).encode("ascii"), dtype=np.uint8)
    starts, lengths = textstats._cut_word_bounds(
        ~textstats._B_SPACE[spaced], np.zeros(len(spaced), dtype=bool)
    )
    assert lengths.tolist() == [len(w) for w in words]
    h = textstats._word_hashes(spaced, starts, lengths).tolist()
    by_word: dict[str, int] = {}
    for w, x in zip(words, h, strict=True):
        assert by_word.setdefault(w, x) == x  # equal words, equal hashes (long ones by Python's hash too)
    assert len(set(by_word.values())) == len(by_word)  # no collision among 20k distinct words


@pytest.mark.parametrize("seed", [2, 5])
def test_words_present_from_the_bytes_is_the_word_set(seed, monkeypatch):
    monkeypatch.setattr(textstats, "_CHUNK_CACHE", {})
    text = _random_log(20_000, seed) + " the of and:the x--y " + "q" * 70
    fast = TextStats(text)
    assert fast._byte_bounds is not None
    cands = ["the", "of", "and", "a", "Mr.", "x--y", "q" * 70, "zzz", "a b", "end", "km", "(", "", " "]
    assert fast.words_present(cands) == set(cands) & set(textstats._expand_chunks(text.split()))


_SENTENCE_PIECES = [
    *"ab.!?,()'\"$+ \n",
    "。",
    "！",
    "…",
    "...",
    "e.g.",
    "Mr.",
    "‰",
    "†",
    "😀",
    "x.y",
    "A.",
    "end.",
    "。」",
    "¿",
    "—",
    "1.",
    "'s",
    "жизнь.",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=80))
def test_count_sentences_in_is_count_sentences_of_the_words(pieces):
    from mixkit.curate.heuristics import count_sentences

    text = "".join(pieces)
    assert textstats.count_sentences_in(text) == count_sentences(split_words(text))


def test_no_punctuation_above_the_classed_planes():
    # ``count_sentences_in`` reads category P from a table of planes 0 and 1
    import unicodedata

    assert not any(unicodedata.category(chr(c)).startswith("P") for c in range(textstats._CLASSED, 0x110000))


def _chinese_with_latin(n_tokens: int, seed: int) -> str:
    """Chinese clauses with a random Latin token after each (a Chinese page whose chunks are mostly new)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_tokens):
        out.append("".join(chr(rng.randint(0x4E00, 0x4E00 + 300)) for _ in range(rng.randint(3, 8))))
        out.append("".join(rng.choices("abcXYZ019-_.'", k=rng.randint(2, 8))))
        out.append(rng.choice(["，", "。", " ", "", "\u3000", "「"]))
    return "".join(out)


def test_chinese_text_with_new_chunks_takes_the_whole_text_split(monkeypatch):
    monkeypatch.setattr(textstats, "_CHUNK_CACHE", {})
    text = _chinese_with_latin(12_000, 2)
    assert len(text) >= textstats._BULK_MIN
    fast = TextStats(text, "zh")
    assert fast._word_ids is None and fast.__dict__["_bulk_cjk"]
    words = split_words(text, cjk_chars=True)
    assert fast.words == words and "\u3000" in words
    assert fast._byte_bounds is not None  # Han characters and CJK marks: stats from the arrays
    slow = TextStats(text, "zh")
    slow.__dict__["_word_ids"] = None
    slow.__dict__["words"] = list(words)
    assert fast.word_features == slow.word_features
    assert fast._word_arrays[1].tolist() == slow._word_arrays[1].tolist()
    cands = ["的", "一", "丁", "七", "abc", "\u3000", "「", "zz"]
    assert fast.words_present(cands) == set(cands) & set(words)
    assert fast.words_present(cands[:5]) == set(cands[:5]) & set(words)  # from the hashes (no whitespace)
    for n in (5, 8):
        assert fast.duplicate_ngram_chars(n) == naive_dup(words, n)
    prose = TextStats("".join(chr(0x4E00 + i % 300) for i in range(80_000)) + "，abc", "zh")
    assert prose._word_ids is not None  # Chinese without new chunks keeps the ids


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "中",
                "文",
                "，",
                "。",
                "\u3000",
                "「",
                "a",
                "b-c",
                "x's",
                "ab.",
                "1",
                " ",
                "\n",
                "…",
                "€5",
                "ｘ",
                "々",
                "😀",
                "don't",
            ]
        ),
        max_size=60,
    )
)
def test_whole_text_split_with_cjk_characters_is_the_chinese_split(pieces):
    text = "".join(pieces)
    _, _, word, cut = textstats._bulk_cuts(text, cjk=True)
    starts, lengths = textstats._cut_word_bounds(word, cut)
    got = [text[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    assert got == textstats._expand_chunks(textstats._CJK_TOKEN_RE.findall(text))


@pytest.mark.parametrize("kind", ["ids", "arrays", "list", "chinese"])
def test_count_words_is_the_count_over_the_word_list(kind, monkeypatch):
    monkeypatch.setattr(textstats, "_CHUNK_CACHE", {})
    text = {
        "ids": "the cat sat, on the mat. " * 4000 + "damn it",
        "arrays": _random_log(20_000, 3) + " damn the end",
        "list": "the cat sat on the mat, damn",
        "chinese": _chinese_with_latin(12_000, 4),
    }[kind]
    st_ = TextStats(text, "zh" if kind == "chinese" else "en")
    words = st_.words
    path = "ids" if st_._word_ids is not None else "arrays" if st_._byte_bounds is not None else "list"
    assert path == ("arrays" if kind == "chinese" else kind)
    pool = sorted(set(words))
    rng = random.Random(0)
    for cands in (
        frozenset(rng.sample(pool, min(5, len(pool)))) | {"absent", "zz"},
        frozenset({"damn", "the", "一", "\u3000", "。"}),
        frozenset(),
    ):
        fresh = TextStats(text, st_.lang)  # the count path on its own, without the word list built
        assert fresh.count_words(cands) == sum(map(cands.__contains__, words))
