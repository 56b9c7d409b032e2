import numpy as np
import pytest
from dedup_helpers import chinese_passages, english_paragraphs

import mixkit.dedup.shingles as S
from mixkit.dedup.shingles import ShingleSpec, iter_ngrams, iter_tokens, jaccard, shingle_set, shingles


def _tokens(text: str, spec: ShingleSpec) -> list[str]:
    _, chunks = iter_tokens([text], spec)
    out = []
    for ch in chunks:
        out += [text[s:e] for s, e in zip(ch.starts, ch.ends, strict=True)]
    return out


def test_token_spans_words_and_cjk():
    spec = ShingleSpec()
    assert _tokens("Hello, World! it's 42.", spec) == ["Hello", "World", "it", "s", "42"]
    # words mode: CJK characters are single tokens, latin words stay words
    words = ShingleSpec(shingle="words")
    assert _tokens("我们用Python写代码", words) == ["我", "们", "用", "Python", "写", "代", "码"]
    # auto mode sees a Chinese document: every letter is a token
    assert _tokens("我们用Py写", spec) == ["我", "们", "用", "P", "y", "写"]


def test_lowercase_keeps_positions():
    spec = ShingleSpec()
    text = "İstanbul ÉCOLE naïve"
    toks = _tokens(text, spec)
    assert toks == ["İstanbul", "ÉCOLE", "naïve"]
    assert np.array_equal(shingle_set("école NAÏVE", spec), shingle_set("ÉCOLE naïve", spec))


def test_auto_mode_switches_chinese_to_chars():
    mode, chunks = iter_tokens(
        ["plain english words here", "中文文本没有空格 with a few words"], ShingleSpec()
    )
    list(chunks)  # the mode of a document is decided when its first piece is tokenized
    assert mode.tolist() == [False, True]
    mode, chunks = iter_tokens(["中文"], ShingleSpec(shingle="words"))
    list(chunks)
    assert mode.tolist() == [False]


def test_short_documents_get_one_shingle():
    _, off = shingles(["two words", "", "one two three four five six"], ShingleSpec())
    assert np.diff(off).tolist() == [1, 0, 2]


@pytest.mark.parametrize("chars", [False, True])
def test_chunking_does_not_change_shingles(monkeypatch, chars):
    text = "".join(chinese_passages(40, chars=200)) if chars else " ".join(english_paragraphs(60))
    docs = [text, "short doc here", text[:777]]
    spec = ShingleSpec()
    ref = [shingle_set(d, spec) for d in docs]
    ref_batch = shingles(docs, spec)
    monkeypatch.setattr(S, "_PIECE", 997)
    monkeypatch.setattr(S, "_BATCH", 3001)
    assert all(np.array_equal(r, shingle_set(d, spec)) for r, d in zip(ref, docs, strict=True))
    got = shingles(docs, spec)
    assert np.array_equal(np.diff(got[1]), np.diff(ref_batch[1]))
    for i in range(3):
        a = np.sort(ref_batch[0][ref_batch[1][i] : ref_batch[1][i + 1]])
        b = np.sort(got[0][got[1][i] : got[1][i + 1]])
        assert np.array_equal(a, b)


def test_ngram_spans_cover_their_words():
    text = "the quick brown fox jumps over the lazy dog"
    ch = next(iter_ngrams([text], ShingleSpec(), n_words=3))
    assert [text[s:e] for s, e in zip(ch.starts, ch.ends, strict=True)][:2] == [
        "the quick brown",
        "quick brown fox",
    ]


def test_jaccard_matches_python_sets():
    a, b = english_paragraphs(2, words=60)
    words_a, words_b = a.lower().split(), (a + " " + b).lower().split()
    # only alnum words in these passages? fall back to the module's tokens for the reference sets
    sa = {tuple(x) for x in zip(*[_tokens(a.lower(), ShingleSpec())[i:] for i in range(5)], strict=False)}
    sb = {
        tuple(x)
        for x in zip(*[_tokens((a + " " + b).lower(), ShingleSpec())[i:] for i in range(5)], strict=False)
    }
    ref = len(sa & sb) / len(sa | sb)
    assert words_a and words_b
    got = jaccard(shingle_set(a, ShingleSpec()), shingle_set(a + " " + b, ShingleSpec()))
    assert got == pytest.approx(ref, abs=1e-9)


def test_extra_window_sizes_match_direct_windows(monkeypatch):
    docs = [" ".join(english_paragraphs(30, seed=9)), "a b c", "".join(chinese_passages(3))]
    monkeypatch.setattr(S, "_PIECE", 1500)  # long documents span several chunks
    monkeypatch.setattr(S, "_BATCH", 4000)
    spec = ShingleSpec(shingle="words")
    for n in (9, 12):
        direct = sorted(
            (int(d), int(s), int(h))
            for ch in iter_ngrams(docs, spec, n_words=n, n_chars=n, short_docs=False)
            for h, d, s in zip(ch.hashes, ch.doc, ch.starts, strict=True)
        )
        via = sorted(
            (int(d), int(s), int(h))
            for ch in iter_ngrams(docs, spec, n_words=13, n_chars=13, short_docs=False, extra_n=(n,))
            for h, d, s in zip(*[ch.extra[n][i] for i in (0, 1, 2)], strict=True)
        )
        assert via == direct and len(direct) > 100
