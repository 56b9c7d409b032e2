"""Gopher / C4 / FineWeb filters on real keep/drop examples in English and Chinese."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from mixkit.curate import heuristics, textstats
from mixkit.curate.heuristics import C4, DEFAULTS, FineWeb, GopherQuality, GopherRepetition, count_sentences
from mixkit.curate.textstats import split_words, text_stats
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document

EN_GOOD = (
    "The history of the printing press is a story about how ideas travel. Before movable type, books were copied "
    "by hand, and a single volume could take months to finish.\n"
    "When Gutenberg combined a screw press with metal type and oil-based ink, the cost of making a book fell "
    "sharply. Printers soon appeared in cities across Europe, and they competed to publish the works that readers "
    "wanted most.\n"
    "Scholars could now compare the same text in different places, which made it easier to find and correct "
    "errors. Merchants used printed forms and price lists, and governments began to publish laws so that more "
    "people could read them.\n"
    "The change was not immediate, and many people still could not read. Over the following centuries, however, "
    "cheaper books and pamphlets helped to spread literacy, and with it new arguments about religion, science and "
    "politics."
)


def chain_verdict(text: str, lang: str = "auto", meta: dict | None = None) -> str:
    steps = [
        GopherRepetition({"lang": lang}),
        GopherQuality({"lang": lang}),
        C4({"lang": lang}),
        FineWeb({"lang": lang}),
    ]
    doc = Document(id="d", text=text, meta=dict(meta or {}))
    ctx = ShardContext()
    for s in steps:
        r = s.keep(doc, ctx)
        if r is not True:
            return f"{s.name}:{r}"
    return "keep"


def test_english_prose_kept():
    assert chain_verdict(EN_GOOD) == "keep"


MENU = "\n".join(["Home", "About us", "Products", "Contact", "Careers", "Press", "Blog", "Login"])


@pytest.mark.parametrize(
    ("step", "text", "expected"),
    [
        (GopherRepetition, "Buy cheap watches online today.\n" * 30, "dup_line_frac"),
        (GopherRepetition, "Buy cheap watches online today.\n\n" * 30, "dup_para_frac"),
        (GopherRepetition, EN_GOOD + " the best deal " * 80, "top_2_gram"),
        (GopherQuality, "Short note about nothing in particular.", "gopher_short_doc"),
        (GopherQuality, "#tag " * 60 + "\n" + EN_GOOD, "gopher_too_many_hashes"),
        (
            GopherQuality,
            "\n".join(f"- item {i} of the list that goes on and on here" for i in range(40)),
            "gopher_too_many_bullets",
        ),
        (
            GopherQuality,
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
            "sigma tau " * 4,
            "gopher_enough_stop_words",
        ),
        (
            GopherQuality,
            " ".join(["12,345 67.8 -- 99 %% ++"] * 30) + " the and of to",
            "gopher_below_alpha_threshold",
        ),
        (C4, "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 3 + "\n" + EN_GOOD, "lorem_ipsum"),
        (C4, "function f(x) { return x + 1; }.\n" + EN_GOOD, "curly_bracket"),
        (C4, MENU + "\nWelcome to our shop.", "too_few_sentences"),
        (FineWeb, MENU + "\n" + "\n".join(EN_GOOD.split("\n")[:2]), "short_line_ratio"),
    ],
)
def test_english_drops(step, text, expected):
    assert step().keep(Document(id="e", text=text), ShardContext()) == expected


def test_chinese_prose_kept(zh_paragraphs):
    for p in zh_paragraphs:
        assert chain_verdict(p) == "keep", p[:30]
        assert chain_verdict(p.replace("。", "。\n").strip()) == "keep"


def test_chinese_needs_chinese_rules(zh_paragraphs):
    # with English rules (whitespace words) a Chinese paragraph has almost no "words" and is dropped
    assert chain_verdict(zh_paragraphs[0], lang="en") != "keep"
    # the language step's tag selects the Chinese rules too
    assert chain_verdict(zh_paragraphs[0], meta={"lang": "zh"}) == "keep"


@pytest.mark.parametrize(
    ("step", "text", "expected"),
    [
        (GopherRepetition, "点击这里领取优惠券！\n" * 20, "dup_line_frac"),
        (GopherRepetition, "今天天气很好，我们去公园散步。" + "限时抢购，" * 40, "top_2_gram"),
        (
            GopherQuality,
            "苹果香蕉橘子葡萄西瓜草莓菠萝芒果樱桃柠檬桃子梨子荔枝龙眼榴莲椰子甘蔗柚子石榴山楂。" * 2,
            "gopher_enough_stop_words",
        ),
        (GopherQuality, "今天下雨了。", "gopher_short_doc"),
        (
            C4,
            "首页\n新闻\n体育\n财经\n娱乐\n科技\n联系我们\n今天早上下了一场小雨，空气变得特别清新。",
            "too_few_sentences",
        ),
        (
            FineWeb,
            "首页\n新闻\n体育\n财经\n娱乐\n科技\n联系我们\n今天早上下了一场小雨，空气变得特别清新。",
            "short_line_ratio",
        ),
    ],
)
def test_chinese_drops(step, text, expected):
    assert step().keep(Document(id="z", text=text), ShardContext()) == expected


def test_chinese_words_are_characters(zh_paragraphs):
    st = text_stats(Document(id="z", text="我们在学习。Python 3 很好！"))
    assert st.lang == "zh"
    assert st.words == ["我", "们", "在", "学", "习", "。", "Python", "3", "很", "好", "！"]


def test_c4_removes_lines_and_counts_sentences():
    doc = Document(id="c", text="Menu\n" + EN_GOOD + "\nSee our privacy policy for details.\nShare this")
    assert C4().keep(doc, ShardContext()) is True
    assert doc.text == EN_GOOD  # menu, policy line and unterminated line removed
    assert count_sentences(split_words("It works. Does it? Yes! e.g. this is one.")) == 4


@settings(max_examples=300, deadline=None)
@given(
    st_.lists(
        st_.sampled_from(
            ["It", "works", ".", "Yes!", "e.g.", "no", "?", "!", "...", "。", "好", "吗？", "(a)", '"', " "]
        ),
        max_size=40,
    ),
    st_.integers(1, 6),
    st_.integers(0, 20),
    st_.booleans(),
)
def test_c4_counts_sentences_on_a_prefix_only_when_it_decides(pieces, need, prefix, zh):
    """``_line_sentences`` may stop at a prefix, but only with at least ``need`` sentences, and never above the
    whole line's count: C4's decision is the same."""
    line = " ".join(pieces)
    full = heuristics.count_sentences_zh(line) if zh else count_sentences(split_words(line))
    old = heuristics._SENTENCE_PREFIX
    heuristics._SENTENCE_PREFIX = prefix
    try:
        got = heuristics._line_sentences(line, zh, need)
    finally:
        heuristics._SENTENCE_PREFIX = old
    assert got == full or need <= got <= full


def test_c4_decide_only_keeps_text():
    doc = Document(id="c", text="Menu\n" + EN_GOOD)
    assert C4({"remove_lines": False}).keep(doc, ShardContext()) is True
    assert doc.text.startswith("Menu\n")


def test_fineweb_rules():
    lines = "\n".join(f"Line {i} without end" for i in range(20))
    assert FineWeb().keep(Document(id="f", text=lines), ShardContext()) == "line_punct_ratio"
    short = "\n".join(["Too short.", "Also short.", "Very short.", EN_GOOD.split("\n")[0]])
    assert FineWeb().keep(Document(id="f", text=short), ShardContext()) == "short_line_ratio"
    dup = EN_GOOD + "\n" + EN_GOOD.split("\n")[0]
    assert FineWeb().keep(Document(id="f", text=dup), ShardContext()) == "char_dup_ratio"
    assert FineWeb().keep(Document(id="f", text=EN_GOOD), ShardContext()) is True


def test_overrides_and_disable():
    doc = Document(id="o", text="Short note about nothing in particular.")
    assert GopherQuality({"min_doc_words": None, "min_stop_words": None}).keep(doc, ShardContext()) is True
    assert GopherQuality({"min_doc_words": 5, "min_stop_words": 0}).keep(doc, ShardContext()) is True
    assert GopherQuality().thresholds("zh")["min_avg_word_length"] is None
    assert DEFAULTS["gopher_repetition"]["en"]["dup_n_grams"][5] == 0.15  # Rae et al. 2021, Table A1


def test_stats_computed_once_and_invalidated():
    doc = Document(id="s", text=EN_GOOD)
    st = text_stats(doc)
    _ = st.words
    assert text_stats(doc) is st  # shared by the next filter
    GopherRepetition().keep(doc, ShardContext())
    GopherQuality().keep(doc, ShardContext())
    assert doc.meta["_stats"] is st
    doc.text = doc.text + "\nA new line."
    assert text_stats(doc) is not st


def _pathological_documents(mb: float) -> dict[str, str]:
    """The documents of benchmarks/curate_pathological.py at ``mb`` megabytes (the benchmark times them)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "curate_pathological.py"
    spec = importlib.util.spec_from_file_location("curate_pathological", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.documents(mb)


def test_pathological_documents_get_the_decisions_of_the_plain_paths(monkeypatch):
    # Every pathological document of the benchmark (0.2 MB versions: long enough for the whole-text split, the
    # byte-level chunk numbering and c4's sentence count from arrays) gets the same verdicts as with those fast
    # paths switched off.
    docs = _pathological_documents(0.2)

    def verdicts() -> dict[tuple[str, str], bool | str]:
        return {
            (name, step.name): step.keep(Document(id=name, text=text), ShardContext())
            for name, text in docs.items()
            for step in (GopherRepetition(), GopherQuality(), C4(), FineWeb())
        }

    fast = verdicts()
    with monkeypatch.context() as m:
        m.setattr(textstats, "_use_bulk", lambda head, share=4: False)
        m.setattr(textstats, "_short_chunk_ids", lambda text: None)
        m.setattr(heuristics, "_SENTENCE_PREFIX", 1 << 40)  # c4 counts every line's sentences from its words
        m.setattr(heuristics, "_SENTENCE_BULK", 1 << 40)
        m.setattr(heuristics, "_FAST_LINES", 1 << 62)  # c4 and fineweb loop over the lines
        m.setattr(textstats, "_CHUNK_CACHE", {})
        plain = verdicts()
    assert fast == plain
    # random values: nothing repeats, but the words fail Gopher's quality rules; JSON keys repeat in every line
    assert fast["pii_random_ipv6_0.2MB", "gopher_repetition"] is True
    assert fast["pii_random_ipv6_0.2MB", "gopher_quality"] == "gopher_below_alpha_threshold"
    assert fast["pii_random_email_0.2MB", "gopher_quality"] == "gopher_above_avg_threshold"
    assert fast["json_random_0.2MB", "gopher_repetition"] == "duplicated_5_n_grams"


def test_c4_without_sentence_rule_drops_when_no_line_survives():
    doc = Document(id="n", text="Menu\nHome\nContact us")
    assert C4({"min_num_sentences": None}).keep(doc, ShardContext()) == "no_line_kept"


def test_dropped_documents_release_cached_stats():
    doc = Document(id="d", text="Buy cheap watches online today.\n" * 30)
    assert GopherRepetition().keep(doc, ShardContext()) == "dup_line_frac"
    assert "_stats" not in doc.meta


def test_gopher_repetition_bound_keeps_decisions(monkeypatch):
    # The bound that skips the duplicate n-gram sweep must never change a verdict: compare with the plain sweep
    # (bound disabled) on one-line documents whose duplicated share straddles the 10-15 % limits.
    import random

    from mixkit.curate.textstats import TextStats

    rng = random.Random(5)
    vocab = [f"{rng.choice('bcdfg')}{rng.choice('aeiou')}{rng.choice('lmnrst')}{i}" for i in range(5000)]
    texts = []
    for _ in range(60):
        words = [rng.choice(vocab) for _ in range(rng.choice([300, 3000]))]
        target = rng.uniform(0.0, 0.3) * len(words)
        copied = 0
        while copied < target:  # paste copies of earlier runs until about ``target`` words repeat
            a, run = rng.randrange(len(words)), rng.randint(5, 30)
            words[rng.randrange(len(words)) : 0] = words[a : a + run]
            copied += run
        texts.append(" ".join(words))
    fast = [GopherRepetition().check(Document(id="f", text=t), ShardContext()) for t in texts]
    monkeypatch.setattr(TextStats, "duplicate_ngrams_within", lambda self, n, limit: False)
    slow = [GopherRepetition().check(Document(id="s", text=t), ShardContext()) for t in texts]
    assert fast == slow
    assert True in fast and any(str(v).startswith("duplicated_") for v in fast)


# Pieces of lines for the fast-vs-plain comparisons: terminal punctuation or not, ellipses, citations, braces, the
# page and line phrases (in any case), long words, Chinese, characters that lower-case to two (İ) or to ASCII (K,
# the Kelvin sign), spaces of every kind, and the line breaks of ``str.splitlines``.
_LINE_PIECES = [
    "It works.",
    "Does it?",
    "Yes!",
    "no end",
    "Wait...",
    "so…",
    '"quoted."',
    "fine.'",
    "See [1].",
    "[12]",
    "cited [edit]",
    "x [citation needed].",
    "[",
    "a { b }.",
    "{",
    "Lorem Ipsum dolor.",
    "lorem [1]ipsum.",
    "Use JavaScript.",
    "java[2]script",
    "Read our Privacy Policy.",
    "This site uses cookies.",
    "COOKIE POLICY",
    "terms of use",
    "aaaaaaaaaaaa",
    "bbbbbbb.",
    "今天天气很好。",
    "我们去公园散步！",
    "好吗？”",
    "Python3很好。",
    "a_b好。",
    "\U00020000\U00020001好。",
    "\U0001f600好！",
    "３个。",
    "é好。",
    "ab好。",
    "abc。",
    "Use javascrİpt.",
    "İstanbul.",
    "\u212aelvin.",
    "ΣΑΣ.",
    "e.g. this one.",
    "a b c.",
    "\ud800.",
]
_SPACES = ["", " ", "  ", "\t", "\xa0", "\u3000", "\x1f"]
_BREAKS_ = [
    "\n",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
]

_lines_text = st_.lists(
    st_.tuples(
        st_.sampled_from(_SPACES),
        st_.lists(st_.sampled_from(_LINE_PIECES), max_size=4),
        st_.sampled_from(_SPACES),
        st_.sampled_from(_BREAKS_),
    ),
    max_size=30,
).map(lambda lines: "".join(lead + " ".join(words) + trail + brk for lead, words, trail, brk in lines))


@settings(max_examples=600, deadline=None)
@given(
    _lines_text,
    st_.booleans(),
    st_.sampled_from(["auto", "en", "zh"]),
    st_.sampled_from([None, 0, 5, 1000]),
    st_.sampled_from([None, 0, 1, 3]),
    st_.sampled_from([None, 1, 2, 5]),
    st_.lists(st_.booleans(), min_size=7, max_size=7),
    st_.sampled_from([1, 5, 40, 1 << 16]),
)
def test_c4_fast_path_matches_plain(text, strip_end, lang, max_wl, min_wpl, min_sent, flags, first_block):
    """The whole-text path gives the plain per-line loop's verdict and rewritten text, for any mix of lines and
    blocks of any size (``first_block`` characters, then 4 times more each)."""
    if strip_end:
        text = text.rstrip("\n")
    names = ("remove_citations", "filter_no_terminal_punct", "filter_lorem_ipsum", "filter_javascript")
    names += ("filter_curly_bracket", "filter_policy", "remove_lines")
    params = {"lang": lang, **dict(zip(names, flags, strict=True))}
    params.update(max_word_length=max_wl, min_words_per_line=min_wpl, min_num_sentences=min_sent)
    fast, plain = Document(id="f", text=text), Document(id="p", text=text)
    old = heuristics._FIRST_BLOCK
    heuristics._FIRST_BLOCK = first_block
    try:
        assert C4(params)._check_fast(fast) == C4(params)._check_plain(plain)
    finally:
        heuristics._FIRST_BLOCK = old
    assert fast.text == plain.text


@pytest.mark.parametrize(
    "text",
    [
        # the first line reaching a page rule decides between them
        "One two three.\nf(x) { return 1; }.\nLorem ipsum dolor sit.\nFour five six.",
        "One two three.\nLorem ipsum dolor sit.\nf(x) { return 1; }.\nFour five six.",
        "Enable the javascript { now }.\nLorem ipsum dolor sit.",
        # İ lower-cases to two characters: the phrases' positions would shift to the next lines
        "İ" * 40 + "\nx javascript y.\nThe next line here.\nAnd one more here.\nA fourth one here.",
        "İ" * 40 + "\nx lorem ipsum.\nThe next line here.",
        "Use javascrİpt here.\nLorem İpsum dolor sit.\nOne two three.",
        # Chinese units: a Han character each, a run of other word characters one
        "ab好。\nabc。\n今天天气很好。\nPython3很好。\na_b好。\n\U00020000好。\na\U00020000b好。\n\U00020000\U00020001好好。",
        # a citation inside a phrase, and one between the text and the final punctuation
        "Please enable java[1]script here.\nOne two three.\n",
        "One two three [1].\nOne two three. [2]\nOne two three.[edit]\n",
        # \r\n is one break, a lone \r and the other splitlines breaks are one each
        "One two three.\r\n\r\nFour five six.\rSeven eight nine.\x85Ten and more.\u2028Last line here.",
    ],
)
@pytest.mark.parametrize("remove_lines", [True, False])
@pytest.mark.parametrize("first_block", [1, 30, 1 << 16])
def test_c4_fast_path_matches_plain_on_edge_cases(text, remove_lines, first_block, monkeypatch):
    monkeypatch.setattr(heuristics, "_FIRST_BLOCK", first_block)
    params = {"min_num_sentences": 1, "remove_lines": remove_lines}
    fast, plain = Document(id="f", text=text), Document(id="p", text=text)
    assert C4(params)._check_fast(fast) == C4(params)._check_plain(plain)
    assert fast.text == plain.text


@settings(max_examples=400, deadline=None)
@given(
    _lines_text,
    st_.sampled_from(["auto", "en", "zh"]),
    st_.sampled_from([None, "", ".", ".!?。", "!\u212a"]),
    st_.sampled_from([0, 3, 10, 30]),
    st_.sampled_from([0.0, 0.12, 0.5]),
    st_.sampled_from([0.0, 0.67, 1.0]),
    st_.booleans(),
)
def test_fineweb_fast_path_matches_plain(
    text, lang, stop_chars, short_len, punct_thr, short_thr, exclude_zero
):
    params = {"lang": lang, "stop_chars": stop_chars, "short_line_length": short_len}
    params.update(line_punct_thr=punct_thr, short_line_thr=short_thr, line_punct_exclude_zero=exclude_zero)
    fast, plain = Document(id="f", text=text), Document(id="p", text=text)
    assert FineWeb(params)._check_fast(fast) == FineWeb(params)._check_plain(plain)


@pytest.mark.parametrize(
    "text",
    [
        "a\n" * 3000,
        "Ok.\n" * 3000,
        "a b c.\n\n" * 3000,
        "It is one.\r\n" * 3000 + "Read the privacy policy now.\n" * 10,
        "Line one [1].\n" * 3000 + "Lorem ipsum dolor sit.\n",
        "A javascript.\n" * 3000 + "f(x) { return 1; }.\n",
    ],
)
def test_c4_and_fineweb_take_the_fast_path_on_many_lines(text, monkeypatch):
    expected = {}
    for step in (C4(), FineWeb()):
        doc = Document(id="p", text=text)
        expected[step.name] = (step._check_plain(doc), doc.text)
    calls = []
    for cls_ in (C4, FineWeb):
        fast = cls_._check_fast
        monkeypatch.setattr(
            cls_, "_check_fast", lambda self, doc, fast=fast: calls.append(1) or fast(self, doc)
        )
    for step in (C4(), FineWeb()):
        doc = Document(id="f", text=text)
        assert (step.keep(doc, ShardContext()), doc.text) == expected[step.name]
    assert len(calls) == 2


def test_c4_takes_the_fast_path_on_many_rare_line_breaks(monkeypatch):
    text = "It is one. Yes.\u2028" * 1200
    plain = Document(id="p", text=text)
    expected = C4()._check_plain(plain)
    fast = C4._check_fast
    calls = []
    monkeypatch.setattr(C4, "_check_fast", lambda self, doc: calls.append(1) or fast(self, doc))
    doc = Document(id="f", text=text)
    assert C4().keep(doc, ShardContext()) == expected is True
    assert doc.text == plain.text and len(calls) == 1
    # long lines take the line loop
    assert C4().keep(Document(id="l", text=text.replace("\u2028", " " * 30 + "\u2028")), ShardContext())
    assert len(calls) == 1
