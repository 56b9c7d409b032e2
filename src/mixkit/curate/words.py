"""Word-list and URL filters: ``flagged_words`` and ``url_filter``.

``flagged_words``: drop a document when flagged words (obscene, adult, spam vocabulary) make up more than
``max_ratio`` of its words, or when any word matches with ``max_ratio: 0`` — the C4 "bad words" rule (Raffel et
al. 2020, Sec. 2.2) is the ``max_ratio: 0`` case; a ratio threshold is the softer variant used by RedPajama-V2
and BLOOM/ROOTS (Laurençon et al. 2022, Sec. 3.1: flagged-word ratio). English words match as whole words
(case-insensitive); Chinese words match as substrings, since Chinese has no spaces (as in C4's multilingual
list handling). Each language has a small built-in list (deliberately short and non-exhaustive: users bring
their own with ``words`` or ``words_file``, one word per line).

``url_filter``: drop documents whose ``meta.url`` (field configurable) has a blocked domain (the domain or any
parent domain: blocking ``example.com`` blocks ``a.example.com``), or matches a blocked regex; a blocklist file
uses the UT1 / FineWeb format of one domain per line (FineWeb, Penedo et al. 2024, Sec. 3.2 URL filtering).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field

from mixkit.curate.textstats import CJK_RE, TextStats, count_han, doc_lang
from mixkit.errors import MixkitError
from mixkit.pipeline.step import Filter, ShardContext, StepParams
from mixkit.records import Document

# Small default lists (explicit sexual/obscene vocabulary and common spam phrases). Unit: words.
DEFAULT_FLAGGED: dict[str, list[str]] = {
    "en": [
        "porn",
        "porno",
        "xxx",
        "fuck",
        "fucking",
        "pussy",
        "cock",
        "dick",
        "blowjob",
        "cumshot",
        "hentai",
        "milf",
        "nsfw",
        "camgirl",
        "escort",
        "viagra",
        "cialis",
        "slut",
        "whore",
        "bitch",
    ],
    "zh": [
        "色情",
        "成人电影",
        "黄色网站",
        "裸聊",
        "约炮",
        "一夜情",
        "援交",
        "赌博",
        "博彩",
        "六合彩",
        "代孕",
        "办证",
        "毒品",
        "迷药",
        "发票代开",
        "私服",
        "av女优",
        "三级片",
    ],
}


def _read_list(path: str) -> list[str]:
    p = Path(path)
    if not p.exists():
        raise MixkitError(f"word/domain list {path} does not exist; give a text file with one entry per line")
    return [
        ln.strip()
        for ln in p.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]


# Up to this many listed words are looked for as substrings before splitting (each test is one C-speed scan of
# the text, ~1-5 ms per word on 10 MB); a longer list goes straight to the split.
_SUBSTRING_PRECHECK_MAX = 64


def _may_contain(low: str, vocab: frozenset[str]) -> bool:
    """False only when no word of ``vocab`` can be a word of ``split_words(low)``.

    Why it is exact: the split only cuts the text (its words are substrings of it), so a listed word that is not a
    substring of the text is not one of its words either.
    """
    if len(vocab) > _SUBSTRING_PRECHECK_MAX:
        return True
    return any(w in low for w in vocab)


class FlaggedWords(Filter):
    """Drop documents whose share of flagged words exceeds ``max_ratio`` (unit: flagged words / words; for
    Chinese, flagged characters / characters). Writes ``meta.flagged_ratio`` with ``tag_meta``."""

    name = "flagged_words"

    class Params(StepParams):
        lang: str = Field("auto", description="auto (meta.lang or script), or a language code of the lists")
        words: dict[str, list[str]] = Field(default_factory=dict, description="extra words per language")
        words_file: str | None = Field(None, description="extra words for every language, one per line")
        use_defaults: bool = True
        max_ratio: float = Field(0.0, ge=0.0, le=1.0, description="0: any flagged word drops the document")
        tag_meta: bool = False

    def setup(self) -> None:
        p = self.params
        extra = _read_list(p.words_file) if p.words_file else []
        langs = set(DEFAULT_FLAGGED) | set(p.words)
        self._sets: dict[str, frozenset[str]] = {}
        self._zh_re: re.Pattern | None = None
        for lang in langs:
            words = (DEFAULT_FLAGGED.get(lang, []) if p.use_defaults else []) + p.words.get(lang, []) + extra
            self._sets[lang] = frozenset(w.lower() for w in words)
        zh = sorted(
            self._sets.get("zh", frozenset()) | {w for w in extra if CJK_RE.search(w)}, key=len, reverse=True
        )
        if zh:
            self._zh_re = re.compile("|".join(re.escape(w) for w in zh))
        self._all = frozenset().union(*self._sets.values()) if self._sets else frozenset()

    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        lang = doc_lang(doc, self.params.lang)
        low = doc.text.lower()
        if lang == "zh":
            n_units = max(count_han(doc.text), 1)
            flagged = sum(len(m.group()) for m in self._zh_re.finditer(low)) if self._zh_re else 0
            # English words inside Chinese documents count too
            flagged_words = self._sets.get("en", frozenset())
            if _may_contain(low, flagged_words):
                flagged += TextStats(low).count_words(flagged_words)
        else:
            vocab = self._sets.get(lang, self._all)
            if _may_contain(low, vocab):
                # counted from the word ids or the word hashes of the lower-cased text (its own statistics: the
                # document's are of the original text), without a Python string per word where those paths apply
                low_stats = TextStats(low)
                n_units = max(low_stats.n_words, 1)
                flagged = low_stats.count_words(vocab)
            else:
                # no flagged word occurs even as a substring: the ratio is 0 whatever the word count, so the
                # split (~0.8 s on 10 MB of punctuation) is skipped
                n_units, flagged = 1, 0
        ratio = flagged / n_units
        if self.params.tag_meta:
            doc.meta["flagged_ratio"] = round(ratio, 6)
        if flagged and ratio > self.params.max_ratio:
            return "flagged_words"
        return True


class URLFilter(Filter):
    """Drop documents whose URL is on a domain blocklist or matches a blocked pattern.

    Documents without a URL are kept (``missing: keep``) or dropped (``missing: drop``).
    """

    name = "url_filter"

    class Params(StepParams):
        field: str = Field("url", description="meta field holding the document URL")
        domains: list[str] = Field(default_factory=list, description="blocked domains (subdomains included)")
        domains_file: str | None = Field(None, description="blocked domains, one per line (UT1 format)")
        patterns: list[str] = Field(default_factory=list, description="regexes searched in the full URL")
        missing: str = Field("keep", pattern="^(keep|drop)$")

    def setup(self) -> None:
        p = self.params
        domains = [d.lower().strip(".") for d in p.domains]
        if p.domains_file:
            domains += [d.lower().strip(".") for d in _read_list(p.domains_file)]
        self._domains = frozenset(domains)
        try:
            self._patterns = [re.compile(x) for x in p.patterns]
        except re.error as exc:
            raise MixkitError(
                f"url_filter: bad pattern in 'patterns': {exc}; patterns are Python regexes"
            ) from exc

    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        url = doc.meta.get(self.params.field)
        if not isinstance(url, str) or not url:
            return True if self.params.missing == "keep" else "missing_url"
        host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower().strip(".")
        parts = host.split(".")
        for i in range(len(parts)):
            if ".".join(parts[i:]) in self._domains:
                return "blocked_domain"
        for pat in self._patterns:
            if pat.search(url):
                return "blocked_pattern"
        return True
