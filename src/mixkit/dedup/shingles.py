"""Vectorised tokenisation and n-gram hashing of many documents at once (English and Chinese alike).

Why not Python loops: per-token Python hashing runs at ~16 MB/s (issue 4); here the text of a whole batch of
documents becomes one array of Unicode code points and every operation is a numpy pass over it.

Tokens (unit: Unicode code points, so positions equal ``str`` indices):

- a *word* is a maximal run of letters/digits (``str.isalnum``, lowercased code point by code point so positions
  never shift);
- every CJK ideograph / kana is a token of its own (Chinese and Japanese have no spaces);
- in *chars* mode (chosen per document when ``shingle="auto"`` and at least ``cjk_ratio`` of its letters are
  CJK, or forced with ``shingle="chars"``) every letter/digit is a token of its own.

Shingles are n-grams of consecutive tokens within one document: word 5-grams as in FineWeb / datatrove
(Penedo et al. 2024, "The FineWeb Datasets", sec. 3.4), character 5-grams for CJK text. A document with fewer
than ``n`` tokens gets one shingle of all its tokens, so short documents still compare.

Hashes: a token hash is a polynomial hash of its code points mod 2^64 followed by the splitmix64 finaliser
(Steele et al. 2014, "Fast splittable pseudorandom number generators"); an n-gram hash is splitmix64 of a linear
combination of its token hashes with odd multipliers. All arithmetic is uint64 with wrap-around.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

U64 = np.uint64
_B = U64(0x100000001B3)  # FNV-64 prime: odd, so it is invertible mod 2^64
_PIECE = 1 << 18  # code points per piece: a 10 MB document is processed in ~40 pieces (bounded memory)
_BATCH = 1 << 18  # code points per batch (amortises numpy calls; bounds transient memory to ~40 MB)
# Odd multipliers combining the token hashes of an n-gram (digits of pi, forced odd).
_NGRAM_MULT = np.array(
    [
        0x243F6A8885A308D3,
        0x13198A2E03707345,
        0xA4093822299F31D1,
        0x082EFA98EC4E6C89,
        0x452821E638D01377,
        0xBE5466CF34E90C6D,
        0xC0AC29B7C97C50DD,
        0x3F84D5B5B5470917,
        0x9216D5D98979FB1B,
        0xD1310BA698DFB5AD,
        0x2FFD72DBD01ADFB7,
        0xB8E1AFED6A267E97,
        0x24A19947B3916CF7,
        0x0801F2E2858EFC17,
        0x636920D871574E69,
        0xA458FEA3F4933D7F,
    ],
    dtype=np.uint64,
)
MAX_N = len(_NGRAM_MULT)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, vectorised: a bijection on uint64 that spreads every input bit."""
    with np.errstate(over="ignore"):
        z = x + U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        return z ^ (z >> U64(31))


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-code-point tables for the Basic Multilingual Plane: lowercase mapping, is-word, is-CJK, powers."""
    cps = np.arange(0x10000, dtype=np.uint32)
    lower = cps.copy()
    word = np.zeros(0x10000, dtype=bool)
    for i in range(0x10000):
        c = chr(i)
        if c.isalnum():
            word[i] = True
            lc = c.lower()
            if len(lc) == 1:
                lower[i] = ord(lc)
    cjk = np.zeros(0x10000, dtype=bool)
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        cjk[lo : hi + 1] = True
    cjk &= word
    inv = 1
    for _ in range(7):  # Newton iteration for the inverse of _B mod 2^64
        inv = (inv * (2 - int(_B) * inv)) % (1 << 64)
    with np.errstate(over="ignore"):
        pw = np.full(_BATCH + 1, _B, dtype=np.uint64)
        pw[0] = 1
        pw = np.cumprod(pw, dtype=np.uint64)
        ipw = np.full(_BATCH + 1, U64(inv), dtype=np.uint64)
        ipw[0] = 1
        ipw = np.cumprod(ipw, dtype=np.uint64)
    return lower, word, cjk, pw, ipw


@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """uint8 per BMP code point: 0 other, 1 word, 2 CJK word."""
    _, word, cjk, _, _ = _tables()
    return word.astype(np.uint8) + cjk.astype(np.uint8)


def _classify(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowercased code points, is-word and is-CJK flags. Astral code points: CJK extensions are CJK words."""
    lower, word, cjk, _, _ = _tables()
    if len(cp) == 0 or cp.max() < 0x10000:
        cls = _class_table()[cp]  # one gather for both flags
        return lower[cp], cls > 0, cls > 1
    bmp = cp < 0x10000
    idx = np.where(bmp, cp, 0)
    low = np.where(bmp, lower[idx], cp)
    astral_cjk = (cp >= 0x20000) & (cp < 0x40000)
    return low, np.where(bmp, word[idx], astral_cjk), np.where(bmp, cjk[idx], astral_cjk)


@dataclass(frozen=True)
class ShingleSpec:
    """How documents become shingles. ``shingle``: auto | words | chars; n-gram sizes in tokens."""

    shingle: str = "auto"
    ngram_words: int = 5
    ngram_chars: int = 5
    cjk_ratio: float = 0.3  # fraction of a document's letters that are CJK to switch it to chars mode

    def __post_init__(self) -> None:
        if self.shingle not in ("auto", "words", "chars"):
            raise ValueError(f"shingle must be auto, words or chars, got {self.shingle!r}")
        for n in (self.ngram_words, self.ngram_chars):
            if not 1 <= n <= MAX_N:
                raise ValueError(f"n-gram sizes must be between 1 and {MAX_N} tokens, got {n}")


def _pieces(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Split long texts into pieces of at most _PIECE code points, cutting at a non-word character when one is
    near, so that no token straddles two pieces. Returns (pieces, doc index of each piece)."""
    pieces: list[str] = []
    owner: list[int] = []
    for d, t in enumerate(texts):
        if len(t) <= _PIECE:
            pieces.append(t)
            owner.append(d)
            continue
        start = 0
        while start < len(t):
            end = min(start + _PIECE, len(t))
            if end < len(t):
                # back off to a whitespace so a word is not cut (CJK text: any cut is a token boundary)
                cut = t.rfind(" ", end - 512, end)
                if cut <= start:
                    cut = t.rfind("\n", end - 512, end)
                end = cut if cut > start else end
            pieces.append(t[start:end])
            owner.append(d)
            start = end
    return pieces, owner


@dataclass
class TokenChunk:
    """Token hashes of part of a batch of documents, in document order.

    ``doc`` is the index (in the input sequence) of the document of each token; ``starts``/``ends`` are code point
    positions of each token in its document text. ``open_doc`` is the index of a document whose tokens continue
    in the next chunk (-1 when none).
    """

    hashes: np.ndarray  # uint64
    doc: np.ndarray  # int64
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    open_doc: int


def iter_tokens(texts: Sequence[str], spec: ShingleSpec) -> tuple[np.ndarray, Iterator[TokenChunk]]:
    """Hash every token of every text, in chunks of ~1M code points (see the module docstring).

    Returns (chars_mode per document, iterator of TokenChunk). The chars/words decision of ``shingle="auto"``
    looks at the first 256K code points of a document; ``chars_mode[d]`` is set when document d is reached.
    """
    pieces, owner_list = _pieces(texts)
    owner = np.asarray(owner_list, dtype=np.int64)
    n_docs = len(texts)
    lens_all = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    piece_pos = np.zeros(len(pieces), dtype=np.int64)  # code point offset of each piece inside its document
    if len(pieces):
        cont = np.zeros(len(pieces), dtype=bool)
        cont[1:] = owner[1:] == owner[:-1]
        prev_end = np.concatenate(([0], np.cumsum(lens_all)[:-1]))
        # offset = sum of lengths of earlier pieces of the same document
        doc_first_piece = np.flatnonzero(~cont)
        first_of_piece = doc_first_piece[np.cumsum(~cont) - 1]
        piece_pos = prev_end - prev_end[first_of_piece]
    batches: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j, size = i, 0
        while j < len(pieces) and (j == i or size + lens_all[j] <= _BATCH):
            size += int(lens_all[j])
            j += 1
        batches.append((i, j))
        i = j
    chars_mode = np.full(n_docs, spec.shingle == "chars")
    first_piece_seen = np.zeros(n_docs, dtype=bool)
    _, _, _, pw, ipw = _tables()

    def gen() -> Iterator[TokenChunk]:
        for i, j in batches:
            lens = lens_all[i:j]
            cp = np.frombuffer("".join(pieces[i:j]).encode("utf-32-le"), dtype=np.uint32)
            n = len(cp)
            open_doc = int(owner[j - 1]) if j < len(pieces) and owner[j] == owner[j - 1] else -1
            if n == 0:
                yield TokenChunk(np.zeros(0, np.uint64), *(np.zeros(0, np.int64) for _ in range(3)), open_doc)
                continue
            low, word, cjk = _classify(cp)
            piece_base = np.concatenate(([0], np.cumsum(lens)[:-1]))
            if spec.shingle == "auto":
                nonempty = lens > 0
                n_cjk = np.zeros(j - i, dtype=np.int64)
                n_word = np.zeros(j - i, dtype=np.int64)
                if cjk.any():  # without CJK every new document is in words mode: skip the counts
                    n_cjk[nonempty] = np.add.reduceat(
                        cjk.view(np.uint8), piece_base[nonempty], dtype=np.int64
                    )
                    n_word[nonempty] = np.add.reduceat(
                        word.view(np.uint8), piece_base[nonempty], dtype=np.int64
                    )
                for k in np.flatnonzero(~first_piece_seen[owner[i:j]]):
                    d = owner[i + k]
                    if not first_piece_seen[d]:
                        first_piece_seen[d] = True
                        chars_mode[d] = n_word[k] > 0 and n_cjk[k] >= spec.cjk_ratio * n_word[k]
            batch_chars = chars_mode[owner[i:j]]
            single = cjk | (word & np.repeat(batch_chars, lens)) if batch_chars.any() else cjk
            # a token continues at i when i and i-1 are word chars of one piece and neither is a single
            cont = np.zeros(n, dtype=bool)
            np.logical_and(word[1:], word[:-1], out=cont[1:])
            cont[1:] &= ~(single[1:] | single[:-1])
            cont[piece_base] = False
            tok_start = np.flatnonzero(word & ~cont)
            if len(tok_start) == 0:
                yield TokenChunk(np.zeros(0, np.uint64), *(np.zeros(0, np.int64) for _ in range(3)), open_doc)
                continue
            ends_flag = word.copy()
            ends_flag[:-1] &= ~cont[1:]
            tok_end = np.flatnonzero(ends_flag) + 1
            # polynomial hash of each token via prefix sums: sum_p x[p] B^p over the token, times B^-start
            with np.errstate(over="ignore"):
                x = low.astype(np.uint64)
                x += U64(0x9E37)
                x *= word  # non-word code points contribute nothing
                x *= pw[:n]
                pref = np.empty(n + 1, dtype=np.uint64)
                pref[0] = 0
                np.cumsum(x, out=pref[1:])
                del x
                h = (pref[tok_end] - pref[tok_start]) * ipw[tok_start]
                tok_len = tok_end - tok_start
                h ^= tok_len.astype(np.uint64) * U64(0xD6E8FEB86659FD93)
            del pref, low, word, cjk, single, cont, ends_flag
            p_rel = np.searchsorted(piece_base, tok_start, side="right") - 1
            starts = tok_start - piece_base[p_rel] + piece_pos[i + p_rel]
            yield TokenChunk(splitmix64(h), owner[i + p_rel], starts, starts + tok_len, open_doc)

    return chars_mode, gen()


@dataclass
class NgramChunk:
    """N-gram hashes of part of a batch: ``doc`` index of each, and its code point span [start, end)."""

    hashes: np.ndarray
    doc: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    extra: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None  # n -> same four


def iter_ngrams(
    texts: Sequence[str],
    spec: ShingleSpec,
    *,
    n_words: int | None = None,
    n_chars: int | None = None,
    short_docs: bool = True,
    drop_tokens: np.ndarray | None = None,
    extra_n: Sequence[int] = (),
) -> Iterator[NgramChunk]:
    """All n-grams of all texts, in chunks: windows of n consecutive tokens of one document, where n is
    ``n_chars`` for documents in chars mode and ``n_words`` otherwise (defaults: the spec's sizes).

    With ``short_docs`` a document with 1..n-1 tokens yields one n-gram of all its tokens. Token tails are
    carried between chunks, so the result does not depend on the chunking. Tokens whose hash is in
    ``drop_tokens`` are skipped (decontamination drops single-letter option labels this way). ``extra_n``: also
    all full windows of these sizes, in ``NgramChunk.extra`` (one tokenisation for several n-gram sizes).
    """
    nw = n_words or spec.ngram_words
    nc = n_chars or spec.ngram_chars
    if not (1 <= nw <= MAX_N and 1 <= nc <= MAX_N):
        raise ValueError(f"n-gram sizes must be between 1 and {MAX_N} tokens, got {nw} and {nc}")
    chars_mode, chunks = iter_tokens(texts, spec)
    n_max = max(nw, nc, *extra_n)
    carry: TokenChunk | None = None
    carry_has_first = False
    for ch in chunks:
        if drop_tokens is not None and len(drop_tokens) and len(ch.hashes):
            m = ~np.isin(ch.hashes, drop_tokens)
            ch = TokenChunk(ch.hashes[m], ch.doc[m], ch.starts[m], ch.ends[m], ch.open_doc)
        if carry is not None and len(carry.hashes):
            h = np.concatenate((carry.hashes, ch.hashes))
            doc = np.concatenate((carry.doc, ch.doc))
            st = np.concatenate((carry.starts, ch.starts))
            en = np.concatenate((carry.ends, ch.ends))
        else:
            h, doc, st, en = ch.hashes, ch.doc, ch.starts, ch.ends
        total = len(h)
        if total:
            n_tok = np.where(chars_mode[doc], nc, nw) if nw != nc else np.int64(nw)
            new_doc = np.ones(total, dtype=bool)
            new_doc[1:] = doc[1:] != doc[:-1]
            seg_start = np.flatnonzero(new_doc)
            seg_len = np.diff(np.append(seg_start, total))
            seg_end = np.repeat(seg_start + seg_len, seg_len)
            idx = np.arange(total)
            carry_len = len(carry.hashes) if carry is not None else 0
            # a window ending inside the carried tail was already emitted with the previous chunk
            valid = (idx + n_tok <= seg_end) & (idx + n_tok > carry_len)
            if short_docs:
                # one n-gram of all tokens for a complete document shorter than n
                is_first = new_doc.copy()
                if carry is not None and len(carry.hashes) and not carry_has_first:
                    is_first[0] = False
                short = is_first & (seg_end - idx < n_tok) & (doc != ch.open_doc)
                valid |= short
            acc = np.zeros(total, dtype=np.uint64)
            last = np.minimum(idx + n_tok, seg_end) - 1
            with np.errstate(over="ignore"):
                # full windows: shifted slices, no masks (windows crossing a document end are not kept)
                n_values = (nw,) if nw == nc else tuple(int(v) for v in np.unique(n_tok))
                for nv in n_values:
                    m = total - nv + 1
                    if m <= 0:
                        continue
                    tmp = h[:m] * _NGRAM_MULT[0]
                    for k in range(1, nv):
                        tmp += h[k : k + m] * _NGRAM_MULT[k]
                    if len(n_values) == 1:
                        acc[:m] = tmp
                    else:
                        sel = n_tok[:m] == nv
                        acc[:m][sel] = tmp[sel]
                # short documents: one window of all their tokens
                short_idx = np.flatnonzero(valid & (idx + n_tok > seg_end))
                if len(short_idx):
                    s_acc = np.zeros(len(short_idx), dtype=np.uint64)
                    s_end = seg_end[short_idx]
                    for k in range(n_max):
                        jj = short_idx + k
                        inside = jj < s_end
                        s_acc += np.where(inside, h[np.minimum(jj, total - 1)] * _NGRAM_MULT[k], U64(0))
                    acc[short_idx] = s_acc
            keep = np.flatnonzero(valid)
            extra = {}
            for nv in extra_n:
                m = total - nv + 1
                if m <= 0:
                    z = np.zeros(0, np.int64)
                    extra[nv] = (np.zeros(0, np.uint64), z, z, z)
                    continue
                with np.errstate(over="ignore"):
                    tmp = h[:m] * _NGRAM_MULT[0]
                    for k in range(1, nv):
                        tmp += h[k : k + m] * _NGRAM_MULT[k]
                ok = np.flatnonzero((idx[:m] + nv <= seg_end[:m]) & (idx[:m] + nv > carry_len))
                extra[nv] = (splitmix64(tmp[ok]), doc[ok], st[ok], en[ok + nv - 1])
            yield NgramChunk(splitmix64(acc[keep]), doc[keep], st[keep], en[last[keep]], extra or None)
        # carry the last n_max-1 tokens of a document that continues in the next chunk
        if ch.open_doc >= 0 and total:
            in_open = np.flatnonzero(doc == ch.open_doc)
            tail = in_open[-(n_max - 1) :] if n_max > 1 else in_open[:0]
            carry_has_first = len(tail) == len(in_open) and (
                carry_has_first or carry is None or not len(carry.hashes) or carry.doc[0] != ch.open_doc
            )
            carry = TokenChunk(h[tail], doc[tail], st[tail], en[tail], -1)
        else:
            carry, carry_has_first = None, False


def shingles(texts: Sequence[str], spec: ShingleSpec) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a batch of texts: (uint64 hashes, int64 offsets per document). Holds them all in
    memory: for big inputs iterate ``iter_ngrams`` instead."""
    hs, ds = [], []
    for ch in iter_ngrams(texts, spec):
        hs.append(ch.hashes)
        ds.append(ch.doc)
    h = np.concatenate(hs) if hs else np.zeros(0, np.uint64)
    d = np.concatenate(ds) if ds else np.zeros(0, np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(d, minlength=len(texts)), out=offsets[1:])
    return h, offsets


def shingle_set(text: str, spec: ShingleSpec) -> np.ndarray:
    """The sorted unique shingle hashes of one text (for exact Jaccard)."""
    h, _ = shingles([text], spec)
    return np.unique(h)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays; 1.0 when both are empty."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
