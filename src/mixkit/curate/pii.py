"""PII redaction: emails, IP addresses, phone numbers, Chinese resident IDs, bank cards, API keys and secrets.

Each match is replaced by a stable placeholder (``<EMAIL>``, ``<IP_ADDRESS>``, ``<PHONE>``, ``<ID_NUMBER>``,
``<BANK_CARD>``, ``<SECRET>``) and counted per type in the ledger stats (``ctx.count("pii", "EMAIL")``).

Precision matters as much as recall — code, version strings, dates, timestamps, hashes and UUIDs must survive — so
every detector is a candidate regex *plus* a validator:

- EMAIL: RFC 5322 "dot-atom" local part @ a domain with a letter TLD of 2+ characters.
- IP_ADDRESS: IPv4 octets 0-255 not embedded in a longer dotted number and not preceded by a version cue
  (``version``, ``v``, ``release``, ``python`` …); IPv6 validated by ``ipaddress`` (RFC 4291 text forms), which
  rejects times (12:30:45), MAC addresses and C++ scopes (``std::``). Loopback, private (RFC 1918), link-local and
  unspecified addresses are not personal and are kept unless ``redact_private_ips`` (as in the BigCode/StarCoder
  PII pipeline, Li et al. 2023, Sec. 4.2).
- PHONE: international numbers starting with ``+`` and 8-15 digits (ITU-T E.164), North-American
  ``(555) 123-4567`` / ``555-123-4567``, Chinese mobiles ``1[3-9]x xxxx xxxx`` (MIIT numbering plan) with an
  optional ``+86``, Chinese landlines ``0xx(x)-xxxxxxx(x)``.
- ID_NUMBER: Chinese resident identity numbers (GB 11643-1999): 6-digit region, a valid birth date, 3-digit
  sequence, and the ISO 7064 MOD 11-2 check character.
- BANK_CARD: 13-19 digits (optionally in groups of 4) with a card-network prefix (ISO/IEC 7812 IIN: Visa 4,
  Mastercard 51-55/2221-2720, Amex 34/37, UnionPay 62, Discover 6011/65, JCB 35) and a valid Luhn check digit.
- SECRET: vendor token formats with fixed prefixes (AWS ``AKIA``/``ASIA`` access key ids, GitHub ``ghp_`` …,
  OpenAI ``sk-``, Slack ``xox?-``, Google ``AIza``, Stripe ``sk_live_``), PEM private-key blocks, and a generic
  ``key = "value"`` rule: an assignment to a name containing key/secret/token/password whose value has 16+
  characters of at least 3.0 bits/char Shannon entropy with letters and digits (placeholder values and words fail).
"""

from __future__ import annotations

import ipaddress
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
from pydantic import Field

from mixkit.pipeline.step import Annotator, ShardContext, StepParams
from mixkit.records import Document

PLACEHOLDERS = {
    "EMAIL": "<EMAIL>",
    "IP_ADDRESS": "<IP_ADDRESS>",
    "PHONE": "<PHONE>",
    "ID_NUMBER": "<ID_NUMBER>",
    "BANK_CARD": "<BANK_CARD>",
    "SECRET": "<SECRET>",
}
TYPES = tuple(PLACEHOLDERS)

# --- validators -------------------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812-1 Annex B) check-digit test over a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_ok(value: str) -> bool:
    """GB 11643-1999 check: ISO 7064 MOD 11-2 over the first 17 digits gives the 18th character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    s = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[s % 11] == value[17].upper()


def shannon_entropy(s: str) -> float:
    """Shannon entropy of the characters of ``s``, in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|62|6011|65|35)")

# --- detectors ---------------------------------------------------------------------------------------------------
# What each detector matches is defined by reference patterns that start with a look-behind
# (``(?<![A-Za-z0-9_])\d{6}...``); they live in ``tests/curate/test_pii.py`` (``_R_*``), with the previous
# window-by-window implementation. CPython's regex engine can only skip ahead to a literal or a character class at
# the start of a pattern; a leading look-behind defeats that, so scanning 10 MB with ~17 such patterns took
# seconds. ``find_pii`` therefore runs *fast twins* (``_F_*``) of the reference patterns: the
# look-behind moved behind the first consumed character(s), one character wider, so the pattern starts with a
# literal or a class (``(?<!L)\d`` == ``\d(?<!L\d)``). A twin accepts exactly the same matches in the same order;
# ``tests/curate/test_pii.py`` checks every twin against its reference pattern and the whole of
# ``find_pii`` against the previous window-by-window implementation.

_VERSION_CUE = re.compile(
    r"(?:version|release|ver|python|build|firmware|kernel|v|rev|tag|chrome|firefox|version:)[\s:=]*$",
    re.IGNORECASE,
)
# PEM private-key blocks (rare: matched inside windows around their anchor, no twin needed)
_PEM_RE = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )*PRIVATE KEY-----")
_SECRET_NAME_RE = re.compile(
    r"(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|auth[_-]?key|private[_-]?key)[a-z0-9_.\-]{0,40}"
    r"[\"']?[ \t]{0,4}$"
)

# fast twins (see above); an octet's leading digit is consumed first and the octet's alternatives are chosen by
# look-behind on that digit, in the reference order (25x, 2[0-4]x, 1xx, [1-9]x, x)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_F_IPV4 = re.compile(
    r"\d(?<![A-Za-z0-9_.]\d)(?:(?<=2)5[0-5]|(?<=2)[0-4]\d|(?<=1)\d\d|(?<=[1-9])\d|)\."
    rf"(?:{_OCTET}\.){{2}}{_OCTET}(?![A-Za-z0-9_]|\.\d)"
)
_F_IPV6 = re.compile(
    r"[0-9A-Fa-f:](?<![A-Za-z0-9_:.][0-9A-Fa-f:])(?:(?<=:)|(?<=[0-9A-Fa-f])[0-9A-Fa-f]{0,3}:)"
    r"(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![A-Za-z0-9_:])"
)
_F_PHONE_INTL = re.compile(r"\+(?<![A-Za-z0-9_+]\+)\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}(?![A-Za-z0-9_])")
_F_PHONE_NA = re.compile(
    r"[(\d](?<![A-Za-z0-9_-][(\d])(?:(?<=\()\d{3}\)\s?|(?<=\d)\d{2}[-.])\d{3}[-.]\d{4}(?![A-Za-z0-9_-])"
)
_MOBILE_TAIL = r"[3-9]\d(?:[ -]?\d{4}){2}(?![A-Za-z0-9_])"
_F_PHONE_CN_MOBILE = re.compile(
    rf"\+(?<![A-Za-z0-9_+]\+)86[ -]?1{_MOBILE_TAIL}|8(?<![A-Za-z0-9_+]8)6[ -]?1{_MOBILE_TAIL}"
    rf"|1(?<![A-Za-z0-9_+]1){_MOBILE_TAIL}"
)
_F_PHONE_CN_LAND = re.compile(r"0(?<![A-Za-z0-9_-]0)\d{2,3}-\d{7,8}(?![A-Za-z0-9_-])")
_F_ID = re.compile(
    r"\d(?<![A-Za-z0-9_]\d)\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![A-Za-z0-9_])"
)
_F_CARD = re.compile(
    r"\d(?<![A-Za-z0-9_-]\d)(?:\d{3}[ -](?:\d{4}[ -]){2}\d{1,7}(?![A-Za-z0-9_-])|\d{12,18}(?![A-Za-z0-9_-]))"
)
_F_SECRETS = [
    re.compile(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    re.compile(r"gh(?<![A-Za-z0-9_]gh)[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])"),
    re.compile(r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{60,255}"),
    re.compile(r"sk-(?<![A-Za-z0-9_-]sk-)(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_-])"),
    re.compile(r"xox(?<![A-Za-z0-9]xox)[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"AIza(?<![A-Za-z0-9_-]AIza)[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_-])"),
    # matched from the "k" so that the pattern starts with a literal; one is added back to the start
    re.compile(r"k_live_(?<![A-Za-z0-9_][srp]k_live_)(?<=[srp]k_live_)[0-9A-Za-z]{16,}"),
]
# how far before each twin's match its reference match starts
_F_SECRET_SHIFTS = [0, 0, 0, 0, 0, 0, 1]
_ASSIGN_VALUE = r"[ \t]{0,4}[\"']?([A-Za-z0-9/+_\-.~]{16,}={0,2})"
# one twin per operator character, each with a literal first character and one group (the value); "=>" needs
# no alternative of its own: after "=" a ">" can start neither the value nor its optional spaces or quote
_F_ASSIGN_COLON = re.compile(rf":(?={_ASSIGN_VALUE})")
_F_ASSIGN_EQUALS = re.compile(rf"=(?=>?{_ASSIGN_VALUE})")
# an e-mail split at its "@": the local part (searched for leftmost, ending at the "@") and the domain
_EMAIL_LOCAL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-](?<![A-Za-z0-9_.+%-][A-Za-z0-9!#$%&'*+/=?^_`{|}~-])"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]*(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
)
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.")
_EMAIL_DOMAIN = re.compile(
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_-])"
)


def _ipv4_not_personal(a: int, b: int, c: int) -> bool:
    """Loopback, private (RFC 1918), link-local, "this network", CGNAT (RFC 6598), documentation (RFC 5737),
    benchmarking (RFC 2544), multicast and reserved (>= 224) IPv4 ranges."""
    return (
        a in (0, 10, 127)
        or a >= 224
        or (a == 169 and b == 254)
        or (a == 172 and 16 <= b <= 31)
        or (a == 192 and b == 168)
        or (a == 100 and 64 <= b <= 127)
        or (a == 198 and b in (18, 19))
        or (a == 192 and b == 0 and c in (0, 2))
        or (a == 198 and b == 51 and c == 100)
        or (a == 203 and b == 0 and c == 113)
    )


# first octets for which _ipv4_not_personal can be true below 224: any other first octet is personal outright
_SPECIAL_FIRST_OCTETS = frozenset((0, 10, 127, 169, 172, 192, 100, 198, 203))
_SPECIAL_FIRST_OCTET = np.array([o in _SPECIAL_FIRST_OCTETS or o >= 224 for o in range(256)])


def _version_cue(text: str, start: int) -> bool:
    """Whether a version cue (``v``, ``version:`` ...) ends right before ``start``."""
    # The cue ends right before the address, so the character before it is a cue letter (any letter may match one
    # case-insensitively) or one of [\s:=]; any other character rules the cue out without a search.
    if not start:
        return False
    prev = text[start - 1]
    return bool(
        (prev.isalpha() or prev.isspace() or prev in ":=")
        and _VERSION_CUE.search(text, max(0, start - 12), start)
    )


def _ipv4_value_ok(value: str, private: bool) -> bool:
    """The address part of the IPv4 test (the version cue is tested on the text separately)."""
    if private:
        return True
    a = int(value[: value.index(".")])
    if a < 224 and a not in _SPECIAL_FIRST_OCTETS:
        return True
    a, b, c, _ = (int(x) for x in value.split("."))
    return not _ipv4_not_personal(a, b, c)


# first hextets of every loopback, unspecified, link-local, private (IANA special-purpose, as ``ipaddress`` lists
# them, with the ranges newer Pythons add) and multicast address: any other address is personal outright
_IPV6_SPECIAL_FIRST = frozenset((0, 0x64, 0x100, 0x2001, 0x2002, 0x3FFF, *range(0xFC00, 0x10000)))


def _ipv6_first_hextet(value: str) -> int | None:
    """The first 16 bits of the IPv6 address ``value`` (hex digits and colons only), or None where
    ``ipaddress.IPv6Address`` rejects it: the rules of its parser, without building the address (~10 µs)."""
    parts = value.split(":")
    n = len(parts)
    if not 3 <= n <= 9 or any(len(p) > 4 for p in parts):
        return None
    empty = [i for i in range(1, n - 1) if not parts[i]]
    if len(empty) > 1:
        return None
    if empty:
        hi, lo = empty[0], n - empty[0] - 1
        if not parts[0]:
            hi -= 1
            if hi:
                return None
        if not parts[-1]:
            lo -= 1
            if lo:
                return None
        if hi + lo > 7:
            return None
    elif n != 8 or not parts[0] or not parts[-1]:
        return None
    return int(parts[0], 16) if parts[0] else 0


def _ipv6_ok(value: str, private: bool) -> bool:
    value = value.split("%")[0]
    groups = [g for g in value.split(":") if g]
    if len(groups) < 3 or not any(any(c.isdigit() for c in g) for g in groups):
        return False
    if "::" not in value and len(groups) != 8:
        return False
    first = _ipv6_first_hextet(value)
    if first is None:
        return False
    if private or first not in _IPV6_SPECIAL_FIRST:
        return True
    try:
        ip = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return _ipv6_personal(ip)


def _ipv6_personal(ip: ipaddress.IPv6Address) -> bool:
    """``_ipv6_ok``'s range test: not loopback, unspecified, link-local, private or multicast."""
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_private or ip.is_multicast)


# the separators a phone or card match can hold besides its digits (\d)
_NOT_DIGIT = str.maketrans("", "", "+ .-()")


def _phone_intl_ok(value: str, private: bool) -> bool:
    return 8 <= len(value.translate(_NOT_DIGIT)) <= 15


def _card_ok(value: str, private: bool) -> bool:
    d = value.translate(_NOT_DIGIT)
    if not 13 <= len(d) <= 19 or not _CARD_PREFIX.match(d):
        return False
    if d.startswith(("34", "37")) and len(d) != 15:
        return False
    if d.startswith("4") and len(d) not in (13, 16, 19):
        return False
    if d.startswith(("5", "2")) and len(d) != 16:
        return False
    return luhn_ok(d)


def _id_ok(value: str, private: bool) -> bool:
    return cn_id_ok(value)


# Anchors: cheap patterns every match of a detector family contains. The vendor-token, e-mail and IPv6 detectors
# only look at windows (left, right margins in characters) around their anchors; text outside the merged windows
# is masked with NUL, which no detector matches and every look-around treats like the end of the text, so the
# masked text gives the same matches as running each detector window by window.
_PEM_ANCHOR = re.compile(r"PRIVATE KEY-----")
_VENDOR_ANCHOR = re.compile(r"AKIA|ASIA|gh[pousr]_|github_pat_|sk-|xox[abprs]-|AIza|_live_")
_IPV6_ANCHOR = re.compile(r":[0-9A-Fa-f]*:")
# The digit detectors run on the whole text: every match of theirs lies in a run of 7+ of [\d \-.()] (plus at
# most a "+" or "(" before and an "X" after), which is what their windows used to cover. The one exception is a
# North-American "(555)<tab or newline>123-4567", which spans two runs: the windows (3 characters left of the
# anchor, 2 right) used to cut its "(555)" off and miss it; on the whole text it is found (a recall fix), and a
# text may hold any number of them at no extra cost.
_DIGIT_ANCHOR = re.compile(r"\d[\d \-.()]{6,}")
_PRIORITY = {t: i for i, t in enumerate(("SECRET", "EMAIL", "ID_NUMBER", "BANK_CARD", "PHONE", "IP_ADDRESS"))}
_span = re.Match.span


def _windows(text: str, anchor: re.Pattern, left: int, right: int) -> list[tuple[int, int]]:
    """Merged [start, end) windows around every anchor match."""
    out: list[tuple[int, int]] = []
    n = len(text)
    for s, e in map(_span, anchor.finditer(text)):
        s, e = max(0, s - left), min(n, e + right)
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _masked(text: str, windows: list[tuple[int, int]]) -> str:
    """``text`` with every character outside ``windows`` replaced by NUL (same length, same positions)."""
    if len(windows) == 1 and windows[0] == (0, len(text)):
        return text
    parts: list[str] = []
    pos = 0
    for s, e in windows:
        parts.append("\0" * (s - pos))
        parts.append(text[s:e])
        pos = e
    parts.append("\0" * (len(text) - pos))
    return "".join(parts)


def _emails(masked: str, ats: list[int]) -> list[tuple[int, int]]:
    """E-mail spans in windowed text, as the reference e-mail pattern (``tests/curate/test_pii.py``) would find them, found from each "@" in ``ats``.

    A match holds exactly one "@", so for each "@" in turn the domain is matched after it and the local part is
    the leftmost one ending at it that starts after the previous match."""
    out: list[tuple[int, int]] = []
    prev_end = 0
    for a in ats:
        d = _EMAIL_DOMAIN.match(masked, a)
        if d is None:
            continue
        # the local part lies in the run of atom characters and dots that ends at the "@"
        i = a
        while i > prev_end and masked[i - 1] in _LOCAL_CHARS:
            i -= 1
        m = _EMAIL_LOCAL.search(masked, i, a + 1)
        if m is not None:
            prev_end = d.end()
            out.append((m.start(), prev_end))
    return out


def _byte_table(chars: str) -> np.ndarray:
    """256-entry boolean lookup table: True for the given (Latin-1) characters."""
    table = np.zeros(256, dtype=bool)
    table[list(chars.encode("latin-1"))] = True
    return table


def _lookup(table: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``table[b]`` for a 256-entry table (booleans or bytes) and a long byte array, read-only: ``bytes.translate``
    runs ~3x faster than numpy's indexing, which widens every byte to an index first."""
    return np.frombuffer(b.tobytes().translate(table.view(np.uint8).tobytes()), dtype=table.dtype)


_WORD = string.ascii_letters + string.digits + "_"
# the look-behind classes of the digit detectors, as byte tables
_LB_ID = _byte_table(_WORD)
_LB_DASH = _byte_table(_WORD + "-")
_LB_PLUS = _byte_table(_WORD + "+")
_LB_DOT = _byte_table(_WORD + ".")
_ALPHA = _byte_table(string.ascii_letters)
_ALNUM = _byte_table(string.ascii_letters + string.digits)
_ATOM = _byte_table(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-")


# a decimal digit other than 0-9 (Arabic-Indic, full-width ...), which ``\d`` matches too
_NON_ASCII_DIGIT = re.compile(r"[^\D0-9]")


def _digit_starts(
    text: str, b: np.ndarray
) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, ...]] | tuple[None, None]:
    r"""Candidate start positions, in order, for each digit detector but IPv4 (None if ``text`` has digits beyond
    0-9).

    Scanning 10 MB of digit-dense text with each digit detector stops at every digit (~50 ns each, 7 detectors);
    instead one vectorised pass over the bytes finds the runs of 0-9
    and keeps, per detector, the starts that pass its look-behind and the necessary run shape (ID: 17+ digits;
    card: 4 digits then a separator, or 13-19 digits; ...). Every match of a detector starts at one of its
    candidates, so matching its pattern at each candidate finds the same matches. IPv4 addresses are matched here
    outright (second value: starts, ends and first three octets of the ``_F_IPV4`` matches)."""
    if not text.isascii() and _NON_ASCII_DIGIT.search(text) is not None:
        return None, None
    # (shifted views such as b[1:][x] for b[x + 1] spare a temporary index array per access)
    dig = (b - 48) < 10
    edges = np.diff(dig.view(np.int8), prepend=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # the padding ends every run
    length = ends - starts
    b_prev = np.concatenate((b[-1:], b[:-1]))  # b_prev[x] is b[x - 1] (b[-1], a NUL, for x = 0)
    before = b_prev[starts]
    first = b[starts]
    after = b[ends]
    no_dash = ~_lookup(_LB_DASH, before)
    # the longest run rules detectors out wholesale (a dump of one-digit octets has no card, ID or phone)
    longest = int(length.max()) if len(length) else 0
    out: dict[str, np.ndarray] = {}
    out["ID_NUMBER"] = starts[~_lookup(_LB_ID, before) & (length >= 17)] if longest >= 17 else _NO_SPANS
    # "dddd-dddd-dddd-d": three groups of 4 digits, each followed by a space or "-", then a digit
    grouped = starts[no_dash & (length == 4) & ((after == 32) | (after == 45))] if longest >= 4 else _NO_SPANS
    for k in (5, 10):
        grouped = grouped[
            dig[grouped + k] & dig[grouped + k + 1] & dig[grouped + k + 2] & dig[grouped + k + 3]
        ]
        grouped = grouped[(b[grouped + k + 4] == 32) | (b[grouped + k + 4] == 45)]
    grouped = grouped[dig[grouped + 15]]
    # 13-19 digits: the whole run, followed by a character outside the look-ahead class
    long_run = (
        starts[no_dash & (length >= 13) & (length <= 19) & ~_lookup(_LB_DASH, after)]
        if longest >= 13
        else _NO_SPANS
    )
    out["BANK_CARD"] = np.sort(np.concatenate((grouped, long_run)))
    # whole IPv4 matches: four runs, each a whole octet (a shorter octet would leave a digit next to a "." or to
    # the look-ahead), joined by single dots
    i = np.flatnonzero(~_lookup(_LB_DOT, before[:-3]) & (after[:-3] == 46) & (length[:-3] <= 3))
    for k in (1, 2, 3):
        i = i[starts[k:][i] == ends[k - 1 :][i] + 1]
        if k < 3:
            i = i[after[k:][i] == 46]
    last = after[3:][i]
    i = i[~_lookup(_LB_ID, last) & ~((last == 46) & dig[1:][ends[3:][i]])]
    # the octets (1-3 digits, no leading 0, at most 255) from small per-run arrays: the run's length (capped) and
    # its first three bytes, in int16
    ipv4: tuple[np.ndarray, ...] = (_NO_SPANS,) * 5
    if len(i):
        short = np.minimum(length, 4).astype(np.int16)
        digits = [b[k:][starts].astype(np.int16) - 48 for k in range(3)]
        ok = np.ones(len(i), dtype=bool)
        octets = []
        for k in range(4):  # the k-th run of the address at i is run i + k
            lk = short[k:][i]
            d0, d1, d2 = (d[k:][i] for d in digits)
            value = np.where(lk == 1, d0, np.where(lk == 2, d0 * 10 + d1, d0 * 100 + d1 * 10 + d2))
            ok &= (lk == 1) | ((lk <= 3) & (d0 != 0) & (value <= 255))
            octets.append(value)
        i = i[ok]
        ipv4 = (starts[i], ends[3:][i], *(o[ok].astype(np.int64) for o in octets[:3]))
    if longest >= 3:
        out["LAND"] = starts[no_dash & (first == 48) & ((length == 3) | (length == 4)) & (after == 45)]
        # "ddd-ddd-dddd" (or with dots): 3 digits, a separator, 3 digits, a separator, 4 digits
        na = starts[no_dash & (length == 3) & ((after == 45) | (after == 46))]
    else:
        out["LAND"] = na = _NO_SPANS
    na = na[dig[na + 4] & dig[na + 5] & dig[na + 6] & ((b[na + 7] == 45) | (b[na + 7] == 46))]
    na = na[dig[na + 8] & dig[na + 9] & dig[na + 10] & dig[na + 11]]
    par = np.flatnonzero(b == 40)
    par = par[~_LB_DASH[b_prev[par]] & dig[par + 1] & dig[par + 2] & dig[par + 3] & (b[par + 4] == 41)]
    out["NA"] = np.sort(np.concatenate((na, par)))
    mobile = _NO_SPANS
    if longest >= 2:
        second = b[1:][starts]
        mobile = starts[
            ~_lookup(_LB_PLUS, before)
            & (((first == 49) & (second >= 51) & (second <= 57)) | ((first == 56) & (second == 54)))
        ]
    plus = np.flatnonzero(b == 43)
    plus = plus[~_LB_PLUS[b[plus - 1]] & dig[plus + 1]]
    out["INTL"] = plus
    plus86 = plus[(b[plus + 1] == 56) & (b[plus + 2] == 54)]
    out["MOBILE"] = np.sort(np.concatenate((mobile, plus86)))
    out["RUN_ENDS"] = ends  # for the phone matchers (_phone_spans)
    return out, ipv4


_ANCHOR_RUN = _byte_table(string.digits + " -.()")


def _has_run(flags: np.ndarray, length: int) -> bool:
    """Whether ``flags`` (booleans) holds ``length`` or more True in a row: each pass ANDs the flags with a shifted
    copy, so that flag i comes to stand for the span from i on, which doubles (log2 passes, no index arrays)."""
    run, span = flags, 1
    while span < length and len(run):
        step = min(span, length - span)
        run = run[:-step] & run[step:]
        span += step
    return bool(run.any())


def _has_digit_anchor(text: str, b: np.ndarray) -> bool:
    r"""Whether ``_DIGIT_ANCHOR`` (a digit and 6+ more of [\d \-.()]) matches in ``text`` (bytes ``b``).

    The regex stops at every digit (~0.4 s on 10 MB of "2001:db8::1 "): long texts are searched by regex only
    in their first 64 KB (where prose and code have one), then in numpy over the runs of [0-9 \-.()]: one
    whose first digit has 6+ run characters after it."""
    n = len(text)
    if n < _VECTOR_MIN_CHARS:
        return _DIGIT_ANCHOR.search(text) is not None
    if _DIGIT_ANCHOR.search(text, 0, 1 << 16) is not None:  # a match in a prefix is one in the text
        return True
    if not text.isascii() and _NON_ASCII_DIGIT.search(text) is not None:
        return _DIGIT_ANCHOR.search(text) is not None
    in_run = _lookup(_ANCHOR_RUN, b[:n])
    if not _has_run(in_run, 7):  # (texts of many digits in short runs, as IPv6 dumps, stop here)
        return False
    edges = np.diff(in_run.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    r_starts, r_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = r_ends - r_starts >= 7
    r_starts, r_ends = r_starts[long], r_ends[long]
    digits = np.flatnonzero((b[:n] - 48) < 10)
    if not len(digits):
        return False
    first = digits[np.minimum(np.searchsorted(digits, r_starts), len(digits) - 1)]
    return bool(((first >= r_starts) & (r_ends - first >= 7)).any())


# characters after a digit detector's candidate that decide its match there: the longest match (an international
# phone, 44) and the look-ahead's character fit; the look-behinds read the one character before
_WINDOW = 64


def _matches_at(
    text: str,
    pattern: re.Pattern,
    cands: np.ndarray,
    ok: Callable[[str, bool], bool] | None,
    private: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Starts and ends of ``pattern.match`` at the candidates, and for repetitive texts the validator's verdicts.

    The match at a candidate c depends on ``text[c - 1 : c + _WINDOW]`` alone, so where the candidates' windows
    repeat (a log or config line over and over), each distinct window is matched and its value validated once,
    on the window itself (a candidate at 0 gets a NUL before it, which no look-behind class holds, as the start
    of the text). Otherwise each candidate is matched in the text and the verdicts are None."""
    if len(cands) >= 512:
        sample = [text[max(c - 1, 0) : c + _WINDOW] for c in cands[:256].tolist()]
        if 4 * len(set(sample)) <= len(sample):
            c_arr = cands
            windows = list(
                map(text.__getitem__, map(slice, (c_arr - 1).tolist(), (c_arr + _WINDOW).tolist()))
            )
            if cands[0] == 0:
                windows[0] = "\0" + text[:_WINDOW]
            index = dict.fromkeys(windows)
            rel = []
            for w in index:
                m = pattern.match(w, 1)
                if m is None:
                    rel.append((-1, -1, 0))
                else:
                    rel.append((m.start() - 1, m.end() - 1, ok is None or ok(m.group(), private)))
            index = dict(zip(index, range(len(index)), strict=True))
            r = np.array(rel, dtype=np.int64)[
                np.fromiter(map(index.__getitem__, windows), dtype=np.int64, count=len(windows))
            ]
            has = r[:, 0] >= 0
            c_arr, r = c_arr[has], r[has]
            return c_arr + r[:, 0], c_arr + r[:, 1], r[:, 2].astype(bool)
    starts, ends = _spans(filter(None, map(pattern.match, repeat(text), cands.tolist())))
    return starts, ends, None


_SEP = _byte_table(" .-")
# ASCII whitespace (``\s``): a non-ASCII byte may stand for another character ("?" for any beyond Latin-1), so
# candidates with one (or a "?") where ``\s`` may stand are matched by the regex
_ASCII_SPACE = np.array([i < 128 and chr(i).isspace() for i in range(256)])


def _run_end(run_ends: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """End of the run of digits 0-9 that holds each position in ``pos`` (``run_ends``: ends of all runs)."""
    return run_ends[np.searchsorted(run_ends, pos, side="right")]


def _intl_greedy(b: np.ndarray, run_ends: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, ...]:
    r"""The greedy path of ``_F_PHONE_INTL`` (``\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}(?![A-Za-z0-9_])``) at each
    candidate "+" (its look-behind passed), in numpy: ends, digit counts, and whether the path is the match.

    Each quantifier takes as much as it can: 1-3 digits, then up to five repetitions, each an optional separator,
    an optional "(", 1-5 digits and an optional ")"; a repetition without a digit after its separator and "("
    fails as a whole (without them the digit test fails on the same character), which ends the repetitions.
    Where at least one repetition was taken and the look-ahead passes after the last, no backtracking happens
    and the path is the regex's match; elsewhere (decided False) the regex is asked."""
    p = plus + 1
    d = np.minimum(_run_end(run_ends, p) - p, 3)
    p = p + d
    digits = d
    alive = np.ones(len(plus), dtype=bool)
    first = alive
    for r in range(5):
        q = p + _SEP[b[p]]
        q += b[q] == 40
        alive = alive & ((b[q] - 48) < 10)
        if r == 0:
            first = alive
        if not alive.any():
            break
        q = q[alive]
        d = np.minimum(_run_end(run_ends, q) - q, 5)
        q += d
        q += b[q] == 41
        p[alive] = q
        digits[alive] += d
    decided = first & ~_LB_ID[b[p]]
    return p, digits, decided


def _na_at(b: np.ndarray, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``_F_PHONE_NA`` at its candidates (each a "(ddd)" or the start of "ddd[-.]ddd[-.]dddd" whose look-behind
    passed, see ``_digit_starts``), in numpy: ends (-1: no match) and whether that is decided. The pattern has
    no choice but the optional ``\s`` after ")", taken where it is there (without it, the digit after ")"
    would be missing); decided unless that character is not ASCII or a "?" (the regex is asked)."""
    par = b[cands] == 40
    q = cands + 5  # after "(ddd)"
    decided = ~par | ((b[q] < 128) & (b[q] != 63))  # (a "?" may stand for a character beyond Latin-1)
    q += par & _ASCII_SPACE[b[q]]
    q = np.where(par, q, cands + 4)  # the rest after "ddd-" (digits and separator checked by the candidates)
    ok = (
        ((b[q] - 48) < 10)
        & ((b[1:][q] - 48) < 10)
        & ((b[2:][q] - 48) < 10)
        & _byte_table(".-")[b[3:][q]]
        & ((b[4:][q] - 48) < 10)
        & ((b[5:][q] - 48) < 10)
        & ((b[6:][q] - 48) < 10)
        & ((b[7:][q] - 48) < 10)
        & ~_LB_DASH[b[8:][q]]
    )
    return np.where(ok, q + 8, -1), decided, ok


def _phone_spans(
    text: str,
    b: np.ndarray,
    key: str,
    cands: dict[str, np.ndarray],
    pattern: re.Pattern,
    ok: Callable[[str, bool], bool] | None,
    private: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matches of the international or North-American phone pattern at its candidates (``_matches_at``'s
    result, with verdicts), found in numpy (``_intl_greedy``, ``_na_at``) where that is decided and by the
    regex elsewhere. A match starts at its candidate."""
    c = cands[key]
    if key == "INTL":
        ends, digits, decided = _intl_greedy(b, cands["RUN_ENDS"], c)
        has = decided
        valid = (digits >= 8) & (digits <= 15)
    else:
        ends, decided, has = _na_at(b, c)
        valid = np.ones(len(c), dtype=bool)
    keep = decided & has
    starts, ends, valid = c[keep], ends[keep], valid[keep]
    rest = c[~decided]
    if len(rest):
        r_starts, r_ends, r_valid = _matches_at(text, pattern, rest, ok, private)
        if r_valid is None:
            values = map(text.__getitem__, map(slice, r_starts.tolist(), r_ends.tolist()))
            r_valid = np.fromiter(
                (ok is None or ok(v, private) for v in values), dtype=bool, count=len(r_starts)
            )
        starts = np.concatenate((starts, r_starts))
        order = np.argsort(starts, kind="stable")
        starts = starts[order]
        ends = np.concatenate((ends, r_ends))[order]
        valid = np.concatenate((valid, r_valid))[order]
    return starts, ends, valid


# the phone detectors matched in numpy (``_phone_spans``), from this many candidates on
_PHONE_MATCHERS = ("INTL", "NA")
_PHONE_VECTOR_MIN = 64


# Fixed-shape digit detectors matched and validated in numpy at their candidates (see ``_digit_starts``): on 10 MB
# of random card- or ID-like numbers (every window distinct) the regex match and the per-value check cost seconds.
# Each function takes the padded bytes ``b``, the candidates (whose look-behind and run shape passed) and the ends
# of all runs of 0-9 (``RUN_ENDS``), and returns each candidate's match end (-1: no match) and the validator's
# verdict there. The patterns leave no choice where a candidate fits the shape: every quantifier meets a digit
# run or a fixed character it must take whole (a shorter take leaves a digit where a separator, a fixed character
# or the look-ahead needs another), so the match, where there is one, is the shape found here.

_DIGIT_BYTE = np.zeros(256, dtype=np.int16) - 1
_DIGIT_BYTE[48:58] = np.arange(10)
_SPACE_DASH = _byte_table(" -")


def _is_digit(b: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (b[pos] - 48) < 10


def _card_at(b: np.ndarray, cands: np.ndarray, run_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_F_CARD`` and ``_card_ok`` at the candidates: "dddd[ -]dddd[ -]dddd[ -]" then a run of 1-7 digits (a
    candidate's run of 4), or a whole run of 13-19 digits; then the ISO/IEC 7812 prefix and length rules and the
    Luhn check over the 13-19 digits, one digit position at a time over all candidates."""
    grouped = ~_is_digit(b, cands + 4)
    tail = np.where(grouped, cands + 15, cands)
    tail_end = _run_end(run_ends, tail)
    tail_len = tail_end - tail
    has = np.where(
        grouped,
        (tail_len >= 1) & (tail_len <= 7) & ~_LB_DASH[b[tail_end]],
        (tail_len >= 13) & (tail_len <= 19) & ~_LB_DASH[b[tail_end]],
    )
    ends = np.where(has, tail_end, -1)
    nd = np.where(grouped, 12 + tail_len, tail_len)
    # digit k of a grouped number lies k + k // 4 after its start (one separator after each group of four)
    luhn = np.zeros(len(cands), dtype=np.int64)
    head = []
    for k in range(19):
        pos = cands + np.where(grouped, k + min(k // 4, 3), k)
        d = np.where(k < nd, _DIGIT_BYTE[b[pos]], 0).astype(np.int64)
        if k < 4:
            head.append(d)
        # Luhn doubles every second digit from the right (the check digit, rightmost, is not doubled)
        doubled = ((nd - 1 - k) & 1) == 1
        d2 = 2 * d
        luhn += np.where(doubled, d2 - 9 * (d2 > 9), d)
    p1, p2 = head[0], head[0] * 10 + head[1]
    p3 = p2 * 10 + head[2]
    p4 = p3 * 10 + head[3]
    prefix = (
        (p1 == 4)
        | ((p2 >= 51) & (p2 <= 55))
        | ((p3 >= 222) & (p3 <= 271))
        | (p4 == 2720)
        | (p2 == 34)
        | (p2 == 37)
        | (p2 == 62)
        | (p4 == 6011)
        | (p2 == 65)
        | (p2 == 35)
    )
    length = np.where(
        (p2 == 34) | (p2 == 37),
        nd == 15,
        np.where(
            p1 == 4, (nd == 13) | (nd == 16) | (nd == 19), np.where((p1 == 5) | (p1 == 2), nd == 16, True)
        ),
    )
    return ends, has & prefix & length & (luhn % 10 == 0)


# the check character of each remainder mod 11, as a byte
_ID_CHECK_BYTES = np.frombuffer(_ID_CHECK.encode("ascii"), dtype=np.uint8)


def _id_at(b: np.ndarray, cands: np.ndarray, run_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_F_ID`` and ``cn_id_ok`` at the candidates (runs of 17+ digits): the birth-date digits, then a digit,
    "X" or "x" and the look-ahead; the GB 11643-1999 MOD 11-2 check over the first 17 digits."""
    d = [_DIGIT_BYTE[b[cands + k]].astype(np.int64) for k in range(17)]
    century = d[6] * 10 + d[7]
    month = d[10] * 10 + d[11]
    day = d[12] * 10 + d[13]
    last = b[cands + 17]
    has = (
        (century >= 18)
        & (century <= 20)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= 31)
        & (((last - 48) < 10) | (last == 88) | (last == 120))
        & ~_LB_ID[b[cands + 18]]
    )
    s = sum(dk * w for dk, w in zip(d, _ID_WEIGHTS, strict=True))
    upper = np.where(last == 120, np.uint8(88), last)
    return np.where(has, cands + 18, -1), has & (_ID_CHECK_BYTES[s % 11] == upper)


def _mobile_at(b: np.ndarray, cands: np.ndarray, run_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_F_PHONE_CN_MOBILE`` at the candidates ("+86", "86" or "1[3-9]" after its look-behind): an optional
    "+86" or "86" and its optional separator, then "1[3-9]d", twice an optional separator and 4 digits, then the
    look-ahead. (No validator: every match is valid.)"""
    q = cands + (b[cands] == 43)
    eight = b[q] == 56
    ok = ~eight | (b[q + 1] == 54)
    q = q + 2 * eight
    q += eight & _SPACE_DASH[b[q]]
    ok &= (b[q] == 49) & (b[q + 1] >= 51) & (b[q + 1] <= 57) & _is_digit(b, q + 2)
    q += 3
    for _ in range(2):
        q += _SPACE_DASH[b[q]]
        ok &= _is_digit(b, q) & _is_digit(b, q + 1) & _is_digit(b, q + 2) & _is_digit(b, q + 3)
        q += 4
    ok &= ~_LB_ID[b[q]]
    return np.where(ok, q, -1), ok


def _land_at(b: np.ndarray, cands: np.ndarray, run_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_F_PHONE_CN_LAND`` at the candidates ("0" and 2-3 digits, a whole run, then "-"): a whole run of 7-8
    digits after the "-", then the look-ahead. (No validator.)"""
    p = _run_end(run_ends, cands) + 1
    # (the run that holds p where p is a digit; any run, the last, where it is not)
    e = run_ends[np.minimum(np.searchsorted(run_ends, p, side="right"), len(run_ends) - 1)]
    ok = _is_digit(b, p) & (e - p >= 7) & (e - p <= 8) & ~_LB_DASH[b[e]]
    return np.where(ok, e, -1), ok


# candidate key -> numpy matcher (match ends and verdicts) of the fixed-shape digit detectors
_DIGIT_MATCHERS = {"ID_NUMBER": _id_at, "BANK_CARD": _card_at, "MOBILE": _mobile_at, "LAND": _land_at}


_NO_SPANS = np.zeros(0, dtype=np.int64)
_NO_SPANS.flags.writeable = False
# starts, ends or priorities of spans: a list of a few, an array of many
_Ints = list[int] | np.ndarray


def _spans(matches: Iterable[re.Match]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end arrays of ``matches`` (no Python code runs per match)."""
    flat = list(chain.from_iterable(map(_span, matches)))
    if not flat:  # the usual case on short texts: skip numpy's per-call overhead
        return _NO_SPANS, _NO_SPANS
    arr = np.array(flat, dtype=np.int64)
    return arr[0::2], arr[1::2]


def _first_of_chains(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mask of the spans (sorted by start) that a left-to-right scan keeps when each must start at or after the
    end of the previous kept one (what ``finditer`` does)."""
    keep = np.ones(len(starts), dtype=bool)
    if len(starts) > 1 and (starts[1:] < ends[:-1]).any():
        last = 0
        for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            if s >= last:
                last = e
            else:
                keep[i] = False
    return keep


def _at(b: np.ndarray, pos: np.ndarray, offset: int, chars: str) -> np.ndarray:
    """Mask of the positions ``pos`` where the bytes ``b`` from ``pos + offset`` on spell ``chars`` (a character
    class where it is given as "[...]"). Offsets may reach 24 bytes past either end of the text: ``b`` is padded
    with NUL, which a negative index reads from the end."""
    ok = np.ones(len(pos), dtype=bool)
    for k, cls in enumerate(re.findall(r"\[[^\]]+\]|.", chars)):
        ok &= _byte_table(cls.strip("[]"))[b[pos + offset + k]]
    return ok


def _vendor_anchors(b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of ``_VENDOR_ANCHOR.finditer`` on a text of ``n`` characters (bytes ``b``, padded), in numpy:
    the anchors found at their "A", "_" or "-" (one alternative at most fits a position), then those that start
    inside an earlier one dropped (finditer's scan)."""
    big_a = np.flatnonzero(b[:n] == 65)
    under = np.flatnonzero(b[:n] == 95)
    dash = np.flatnonzero(b[:n] == 45)
    found = [
        (big_a[_at(b, big_a, 1, "KIA") | _at(b, big_a, 1, "SIA") | _at(b, big_a, 1, "Iza")], 0, 4),
        (under[_at(b, under, -3, "gh[pousr]")], -3, 1),
        (under[_at(b, under, -6, "github") & _at(b, under, 1, "pat_")], -6, 5),
        (under[_at(b, under, 1, "live_")], 0, 6),
        (dash[_at(b, dash, -2, "sk")], -2, 1),
        (dash[_at(b, dash, -4, "xox[abprs]")], -4, 1),
    ]
    starts = np.concatenate([pos + lo for pos, lo, _ in found])
    ends = np.concatenate([pos + hi for pos, _, hi in found])
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    keep = _first_of_chains(starts, ends)
    return starts[keep], ends[keep]


def _merged(starts: np.ndarray, ends: np.ndarray, n: int, left: int, right: int) -> list[tuple[int, int]]:
    """Merged [start, end) windows, ``left``/``right`` characters around anchor spans sorted by start (what
    ``_windows`` returns, vectorised)."""
    if not len(starts):
        return []
    s = np.maximum(starts - left, 0)
    e = np.maximum.accumulate(np.minimum(ends + right, n))
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > e[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(s) - 1)
    return list(zip(s[first].tolist(), e[last].tolist(), strict=True))


# Dense dumps (10 MB of "a@b.co " or "2001:db8::1 ") hold ~1 M e-mail or IPv6 candidates, a few µs of Python each.
# A match of either lies in a run of the characters its pattern and look-arounds can touch (the token), and the
# look-arounds treat any other character like the end of the text, so each distinct token is matched once, on its
# own, and its spans are reused wherever it occurs.
# e-mail tokens: atom characters, "." and "@" (every non-ASCII character, including those encoded "?", is inside
# a token only where it sits next to other token characters, and the token is matched on its real text)
_EMAIL_TOKEN = _byte_table(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.@")
# IPv6 tokens: the look-around classes [A-Za-z0-9_:.], "%" and every non-ASCII byte (a scope id's \w may be one)
_IPV6_TOKEN = _byte_table(_WORD + ":.%?" + "".join(map(chr, range(128, 256))))


_HEX = _byte_table(string.hexdigits)


def _ipv6_anchors(b: np.ndarray, n: int, colons: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of ``_IPV6_ANCHOR.finditer`` (":" hex digits ":"), from the colons (``colons``: their
    positions, where known): consecutive colons with only hex digits between them form a link, and in each chain
    of links a left-to-right scan takes the 1st, 3rd, 5th ... (a match consumes its closing colon)."""
    if colons is None:
        colons = np.flatnonzero(b[:n] == 58)
    if len(colons) < 2:
        return _NO_SPANS, _NO_SPANS
    # two colons are linked where the first non-hex character after the first is the second
    not_hex = np.flatnonzero(~_lookup(_HEX, b[:n]))
    is_colon = np.append(b[not_hex] == 58, False)
    link = is_colon[np.flatnonzero(is_colon) + 1][:-1]
    # (int32 and "& 1": a third faster than int64 and "% 2" on millions of colons)
    i = np.arange(len(link), dtype=np.int32)
    chain_start = np.maximum.accumulate(np.where(link & ~np.concatenate(([False], link[:-1])), i, 0))
    taken = np.flatnonzero(link & (((i - chain_start) & 1) == 0))
    return colons[taken], colons[taken + 1] + 1


def _token_spans(
    masked: str,
    table: np.ndarray,
    marks: np.ndarray,
    spans_of: Callable[[str], tuple[int, ...]],
    need: int = 1,
    shapes: _Shapes | None = None,
    mb: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Spans of a detector in ``masked``, from the distinct tokens (maximal runs of ``table`` bytes) that hold at
    least ``need`` of the sorted positions ``marks``; ``spans_of(token)`` gives a token's spans as flat relative
    (start, end, start, end ...) tuples. A token equal to the one before it shares its spans; ``shapes(bytes,
    starts, ends)`` may settle many tokens of a plain shape without Python code per token (masks: the token is
    one whole span; the token holds none), where ``spans_of`` is known to agree. None where most tokens left are
    distinct and none was of a plain shape (no gain: match the text instead). ``mb``: the bytes of ``masked``
    (Latin-1, "?" beyond) where known."""
    if mb is None:
        mb = np.frombuffer(masked.encode("latin-1", "replace"), dtype=np.uint8)
    edges = np.diff(_lookup(table, mb).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    t_starts, t_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(t_starts) or not len(marks):
        return _NO_SPANS, _NO_SPANS
    # the tokens with enough marks in them (a match of the detector holds that many)
    is_mark = np.zeros(len(mb) + 1, dtype=np.uint8)
    is_mark[marks] = 1
    count = np.add.reduceat(is_mark, np.stack((t_starts, t_ends), axis=1).ravel(), dtype=np.int32)[0::2]
    enough = count >= need
    t_starts, t_ends = t_starts[enough], t_ends[enough]
    if not len(t_starts):
        return _NO_SPANS, _NO_SPANS
    # a token equal to the one before it (compared on the bytes, which stand for the text where it is ASCII)
    # shares its spans: only the first of each run of equal tokens (its head) is looked at
    run = None
    h_starts, h_ends = t_starts, t_ends
    if len(t_starts) > 1 and masked.isascii():
        same = _same_as_previous(mb, t_starts, t_ends)
        if same.any():
            run = np.cumsum(~same) - 1
            h_starts, h_ends = t_starts[~same], t_ends[~same]
    whole = none = np.zeros(len(h_starts), dtype=bool)
    if shapes is not None and len(h_starts) >= _SHAPES_MIN_TOKENS:
        whole, none = _shapes_of(shapes, mb, h_starts, h_ends)
    rest = np.flatnonzero(~(whole | none))
    count = whole.astype(np.int64)  # spans per head
    found: list[tuple[int, ...]] = []
    idx = _NO_SPANS
    if len(rest):
        tokens = list(map(masked.__getitem__, map(slice, h_starts[rest].tolist(), h_ends[rest].tolist())))
        distinct = dict.fromkeys(tokens)
        if len(rest) == len(h_starts) and 2 * len(distinct) > len(tokens) and len(distinct) > 1000:
            return None
        index = dict(zip(distinct, range(len(distinct)), strict=True))
        found = list(map(spans_of, index))
        per_distinct = np.fromiter(map(len, found), dtype=np.int64, count=len(found)) // 2
        idx = np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        count[rest] = per_distinct[idx]
    heads = np.arange(len(t_starts)) if run is None else run  # each token's head
    if (count <= 1).all():  # the usual case: one span per token at most
        rel = np.zeros((len(h_starts), 2), dtype=np.int64)
        rel[whole, 1] = (h_ends - h_starts)[whole]
        if len(rest):
            rel[rest] = np.array([f or (0, 0) for f in found], dtype=np.int64).reshape(-1, 2)[idx]
        has = count[heads] == 1
        base, rel = t_starts[has], rel[heads[has]]
        return base + rel[:, 0], base + rel[:, 1]
    head_flat: list[tuple[int, ...]] = [()] * len(h_starts)
    for h, length in zip(np.flatnonzero(whole).tolist(), (h_ends - h_starts)[whole].tolist(), strict=True):
        head_flat[h] = (0, length)
    for h, i in zip(rest.tolist(), idx.tolist(), strict=True):
        head_flat[h] = found[i]
    flat = np.fromiter(chain.from_iterable(map(head_flat.__getitem__, heads.tolist())), dtype=np.int64)
    base = np.repeat(t_starts, count[heads])
    return base + flat[0::2], base + flat[1::2]


def _shapes_of(
    shapes: _Shapes, mb: np.ndarray, t_starts: np.ndarray, t_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``shapes`` on the tokens; where they cover less than half of the text, on a copy of their bytes alone
    (each followed by the byte after it, outside the token), as its passes over the bytes cost per byte."""
    lengths = t_ends - t_starts
    total = int(lengths.sum())
    if 2 * total >= len(mb):
        return shapes(mb, t_starts, t_ends)
    c_starts = np.cumsum(lengths + 1) - (lengths + 1)
    index = np.repeat(t_starts - c_starts, lengths + 1) + np.arange(total + len(lengths))
    return shapes(np.append(mb, np.uint8(0))[index], c_starts, c_starts + lengths)


# ``shapes`` makes passes over the heads' bytes: worth it from this many heads on (fewer cost a few ms one by one)
_SHAPES_MIN_TOKENS = 4096
# settles tokens of a plain shape: (bytes of the text, token starts, token ends) -> (one whole span, no span)
_Shapes = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _same_as_previous(mb: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mask of the ranges [``starts``, ``ends``) of ``mb`` (sorted by start; they may overlap) whose bytes equal
    those of the range before them."""
    same = np.zeros(len(starts), dtype=bool)
    if len(starts) < 2:
        return same
    lengths = ends - starts
    cand = np.flatnonzero(lengths[1:] == lengths[:-1]) + 1
    same[cand[lengths[cand] == 0]] = True
    cand = cand[lengths[cand] > 0]
    if len(cand) > 1024:
        # many (a dump of values of one length): those at the median distance d from their neighbour are compared
        # in one pass over the text, on mb[x] != mb[x + d] over the neighbour's bytes
        gap = starts[cand] - starts[cand - 1]
        d = max(int(np.partition(gap, len(gap) // 2)[len(gap) // 2]), 1)
        at_d = cand[gap == d]
        unequal = np.zeros(len(mb) - d + 1, dtype=bool)
        np.not_equal(mb[d:], mb[:-d], out=unequal[:-1])
        # (each even slot of reduceat reduces over its own range, whatever the ranges between)
        bounds = np.stack((starts[at_d - 1], ends[at_d - 1]), axis=1).ravel()
        same[at_d[~np.logical_or.reduceat(unequal, bounds)[0::2]]] = True
        cand = cand[gap != d]
    cand = cand[mb[starts[cand]] == mb[starts[cand - 1]]]
    if len(cand):
        lc = lengths[cand]
        offsets = np.cumsum(lc) - lc
        within = np.arange(int(lc.sum())) - np.repeat(offsets, lc)
        differs = mb[np.repeat(starts[cand], lc) + within] != mb[np.repeat(starts[cand - 1], lc) + within]
        same[cand[~np.logical_or.reduceat(differs, offsets)]] = True
    return same


def _read_runs(
    text: str, b: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """The strings ``text[start:end]``, each run of equal neighbours read once (compared on the bytes ``b``
    where ``text`` is ASCII): the strings, and for each range the index of its string."""
    if not text.isascii():
        return list(map(text.__getitem__, map(slice, starts.tolist(), ends.tolist()))), np.arange(len(starts))
    head = ~_same_as_previous(b, starts, ends)
    strings = list(map(text.__getitem__, map(slice, starts[head].tolist(), ends[head].tolist())))
    return strings, np.cumsum(head) - 1


def _or_over(feat: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Bitwise OR of ``feat`` over consecutive ranges: ``bounds`` (rows of increasing positions, each row above
    the last) gives row by row the OR over [b0, b1), [b1, b2) ... (one column fewer than ``bounds``)."""
    padded = np.append(feat, np.uint8(0))  # a bound may be the end of the text
    return np.bitwise_or.reduceat(padded, bounds.ravel()).reshape(bounds.shape)[:, :-1]


# per-byte features of e-mail tokens: an "@", a character no domain holds (outside [A-Za-z0-9.-]), a non-letter,
# two dots in a row, a hyphen next to a dot, a "?" (which may stand for a character beyond Latin-1)
_EM_AT, _EM_NOT_DOMAIN, _EM_NOT_LETTER, _EM_DOTS, _EM_HYPHEN_DOT, _EM_QUERY = 1, 2, 4, 8, 16, 32
_EM_FEAT = (
    _byte_table("@") * _EM_AT
    + ~_byte_table(string.ascii_letters + string.digits + ".-") * _EM_NOT_DOMAIN
    + ~_ALPHA * _EM_NOT_LETTER
    + _byte_table("?") * _EM_QUERY
).astype(np.uint8)


def _email_shapes(mb: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E-mail tokens of the plain shape ``local@label.label...tld``, each one whole e-mail (``_Shapes``).

    The shape: one "@"; a local part of atom characters and single dots, neither first nor last; a domain of
    labels of letters, digits and inner hyphens (the domain 64 characters at most, so every label fits 63) joined
    by single dots, the last a TLD of 2-24 letters. On such a token the domain pattern matches the whole domain
    (greedy labels, then the TLD, then the token's end) and the local pattern, searched from the token's start,
    the whole local part: ``_token_emails`` gives the whole token."""
    n = len(mb)
    dots = mb == 46
    hyphens = mb == 45
    feat = _lookup(_EM_FEAT, mb).copy()
    feat[:-1] |= (dots[:-1] & dots[1:]).view(np.uint8) * np.uint8(_EM_DOTS)
    feat[:-1] |= ((hyphens[:-1] & dots[1:]) | (dots[:-1] & hyphens[1:])).view(np.uint8) * np.uint8(
        _EM_HYPHEN_DOT
    )
    whole = np.zeros(len(starts), dtype=bool)
    ats = np.flatnonzero(mb == 64)  # every token of the detector holds one
    dot_at = np.flatnonzero(dots)
    if not len(ats):
        return whole, whole.copy()
    if not len(dot_at):  # a domain holds a dot: no e-mail at all
        return whole, ~whole
    i = np.searchsorted(ats, starts)
    one = np.searchsorted(ats, ends) - i == 1
    a = ats[np.minimum(i, len(ats) - 1)]
    j = np.searchsorted(dot_at, ends) - 1
    last_dot = dot_at[np.maximum(j, 0)]
    tld = ends - last_dot - 1
    cand = np.flatnonzero(
        one & (j >= 0) & (a > starts) & (last_dot > a + 1) & (tld >= 2) & (tld <= 24) & (ends - a - 1 <= 64)
    )
    s, a, d, e = starts[cand], a[cand], last_dot[cand], ends[cand]
    ors = _or_over(feat, np.stack((s, a, a + 1, d + 1, e), axis=1))
    local, domain, tld_or = ors[:, 0], ors[:, 2], ors[:, 3]
    ok = (
        (local & (_EM_QUERY | _EM_DOTS) == 0)
        & (mb[s] != 46)
        & (mb[a - 1] != 46)
        & _ALNUM[mb[np.minimum(a + 1, n - 1)]]
        & (domain & (_EM_NOT_DOMAIN | _EM_DOTS | _EM_HYPHEN_DOT) == 0)
        & (tld_or & _EM_NOT_LETTER == 0)
    )
    whole[cand[ok]] = True
    return whole, np.zeros(len(starts), dtype=bool)


# per-byte features of IPv6 tokens: a character other than a hex digit or ":", a decimal digit, the first of five
# hex digits in a row, a token character after which the pattern may start (outside its look-behind's class:
# "%", and "?" and every byte beyond ASCII, which may stand for any character beyond it)
_V6_IMPURE, _V6_DIGIT, _V6_FIVE_HEX, _V6_STARTS_AFTER = 1, 2, 4, 8
_V6_FEAT = (
    ~_byte_table(string.hexdigits + ":") * _V6_IMPURE
    + _byte_table(string.digits) * _V6_DIGIT
    + _byte_table("%?" + "".join(map(chr, range(128, 256)))) * _V6_STARTS_AFTER
).astype(np.uint8)
_IPV6_SPECIAL_BELOW_FC00 = np.array(sorted(h for h in _IPV6_SPECIAL_FIRST if h < 0xFC00), dtype=np.int64)


_LOW = (1 << 64) - 1
# ::ffff:0:0/96, the IPv4-mapped addresses (RFC 4291 2.5.5.2): ``ipaddress`` may take their range tests from IPv4
_V4_MAPPED = 0xFFFF << 32


def _constant_ranges(cls: type) -> Iterable[tuple[int, int]]:
    """The first and last address (as integers) of every network and address among ``cls._constants``, the
    ranges that ``ipaddress`` tests ``cls``'s addresses against (private, link-local, multicast, loopback ...)."""
    for value in vars(getattr(cls, "_constants", object)).values():
        for item in value if isinstance(value, list | tuple | set | frozenset) else [value]:
            if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
                yield int(item.network_address), int(item.broadcast_address)
            elif isinstance(item, ipaddress.IPv4Address | ipaddress.IPv6Address):
                yield int(item), int(item)


def _ipv6_exact_ranges() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For the top 64 bits of every IPv6 network or address that ``ipaddress`` tests addresses against with a
    prefix longer than 64 bits (and for 0: loopback, unspecified and IPv4-mapped addresses, whose IPv4 ranges
    count): the sorted low 64 bits at which one of those ranges starts or ends (0 first), and ``_ipv6_personal``
    of each stretch between them.

    ``ipaddress`` decides each test by equality with, or membership in, these constants (``::`` and ``::1``, and
    for an IPv4-mapped address the IPv4 constants); no range starts or ends inside a stretch, so every address
    of a stretch has the verdict of its first one, which ``ipaddress`` itself gives."""
    cuts: dict[int, set[int]] = {0: {0, 1, 2, _V4_MAPPED, _V4_MAPPED + (1 << 32)}}
    for first, last in _constant_ranges(ipaddress.IPv6Address):
        if last - first < _LOW:  # a prefix longer than 64 bits: both ends share their top 64 bits
            cuts.setdefault(first >> 64, {0}).update((first & _LOW, (last & _LOW) + 1))
    for first, last in _constant_ranges(ipaddress.IPv4Address):
        cuts[0].update((_V4_MAPPED + first, _V4_MAPPED + last + 1))
    ranges = {}
    for hi, points in cuts.items():
        starts = sorted(p for p in points if p <= _LOW)
        personal = [_ipv6_personal(ipaddress.IPv6Address(hi << 64 | lo)) for lo in starts]
        ranges[hi] = (np.array(starts, dtype=np.uint64), np.array(personal, dtype=bool))
    return ranges


_IPV6_EXACT_RANGES = _ipv6_exact_ranges()
_IPV6_EXACT_HI = frozenset(_IPV6_EXACT_RANGES)


def _ipv6_hi_personal(hi: int) -> bool:
    """``_ipv6_personal`` of every address whose top 64 bits are ``hi`` (not in ``_IPV6_EXACT_HI``): ``ipaddress``
    decides it by networks of prefixes up to 64 bits alone, so the address ``hi::`` stands for them all."""
    return _ipv6_personal(ipaddress.IPv6Address(hi << 64))


def _ipv6_exact_personal(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_ipv6_personal`` of the addresses of top 64 bits ``hi`` and low 64 bits ``lo`` (uint64) whose top 64 bits
    are in ``_IPV6_EXACT_HI``, from the stretches of ``_IPV6_EXACT_RANGES`` (False elsewhere); and the mask of
    those addresses."""
    personal = np.zeros(len(hi), dtype=bool)
    exact = np.zeros(len(hi), dtype=bool)
    for h, (starts, verdicts) in _IPV6_EXACT_RANGES.items():  # a few (one on Python 3.11: 0)
        at = np.flatnonzero(hi == h)
        if len(at):
            personal[at] = verdicts[np.searchsorted(starts, lo[at], side="right") - 1]
            exact[at] = True
    return personal, exact


def _ipv6_shapes(
    mb: np.ndarray, starts: np.ndarray, ends: np.ndarray, private: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """IPv6 tokens made only of hex digits and colons (``_Shapes``), full or compressed ("::").

    In such a token the IPv6 pattern can only start at the token's start (its look-behind refuses a hex digit,
    ":" or "." before) and end at its end (its look-ahead refuses a hex digit or ":" after), so it matches
    exactly the tokens with 2-7 colons and at most 4 hex digits between them. Of those, ``_ipv6_ok`` takes one
    with a decimal digit and 3+ groups that ``ipaddress`` parses (RFC 4291 2.2): without "::" a full address (8
    groups, no colon first or last); with it, one "::" (no ":::"), a colon first or last only as part of it,
    and 3-7 groups. A parsed address is personal (or ``private``) by its first group outside
    ``_IPV6_SPECIAL_FIRST``; otherwise by ``ipaddress``'s ranges: the top 64 bits are expanded in numpy ("::"
    stands for the missing zero groups); outside ``_IPV6_EXACT_HI`` the ranges depend on them alone and each
    distinct value is tested once; inside it the low 64 bits are expanded too and looked up in the stretches of
    ``_IPV6_EXACT_RANGES``, on which ``ipaddress``'s verdict is constant."""
    colon = mb == 58
    hexd = _lookup(_HEX, mb)
    feat = _lookup(_V6_FEAT, mb).copy()
    five = hexd[:-4] & hexd[1:-3] & hexd[2:-2] & hexd[3:-1] & hexd[4:]
    feat[:-4] |= five.view(np.uint8) * np.uint8(_V6_FIVE_HEX)
    ors = _or_over(feat, np.stack((starts, ends), axis=1))[:, 0]
    colon_at = np.flatnonzero(colon)
    ncol = len(colon_at)
    c0 = np.searchsorted(colon_at, starts)
    k = np.searchsorted(colon_at, ends) - c0
    pure = ors & _V6_IMPURE == 0
    matched = (k >= 2) & (k <= 7) & (ors & _V6_FIVE_HEX == 0)
    # pairs of adjacent colons, by the index of their first colon (``pair_at``): a token's are those from its
    # first colon to its last but one, ``pairs`` of them; ``below[i]``: the pairs before colon i
    is_pair = np.append(np.diff(colon_at) == 1, False)
    pair_at = np.flatnonzero(is_pair)
    below = np.zeros(len(is_pair) + 1, dtype=np.int32)
    np.cumsum(is_pair, dtype=np.int32, out=below[1:])
    pairs = below[c0 + np.maximum(k - 1, 0)] - below[c0]
    lead, trail = colon[starts], colon[ends - 1]
    full = (k == 7) & (pairs == 0) & ~lead & ~trail
    # compressed: one pair (its first colon, the token's colon ``at_m``, at ``dd``), at the start where a colon is
    # first and at the end where one is last; groups: k + 1 parts less the empty ones
    at_m = pair_at[np.minimum(below[c0], len(pair_at) - 1)] - c0 if len(pair_at) else np.zeros_like(c0)
    dd = colon_at[np.clip(c0 + at_m, 0, ncol - 1)] if ncol else np.zeros_like(starts)
    groups = k - lead - trail
    compressed = (
        (pairs == 1) & (~lead | (dd == starts)) & (~trail | (dd == ends - 2)) & (groups >= 3) & (groups <= 7)
    )
    digit = ors & _V6_DIGIT != 0
    parsed = pure & matched & digit & (full | compressed)
    none = pure & ~parsed
    # other tokens (a timestamp's "12T10:11:12.123456Z"): the pattern can start only at the token's start where
    # no byte inside lets it start after it, and a match holds two colons before its first character outside
    # [0-9A-Fa-f:] (its optional scope "%..." comes after them): fewer there, no match
    imp = np.flatnonzero(~pure & (ors & _V6_STARTS_AFTER == 0))
    if len(imp):
        stops = np.flatnonzero(feat & _V6_IMPURE)  # an impure token holds one
        stop = stops[np.searchsorted(stops, starts[imp])]
        none[imp] = np.searchsorted(colon_at, stop) - c0[imp] < 2
    whole = parsed
    if not private:
        cand = np.flatnonzero(parsed)
        s, e, kc, cc = starts[cand], ends[cand], k[cand], c0[cand]

        # the four bytes from each position as one little-endian number (an unaligned view of a padded copy)
        quad = np.ndarray(
            (len(mb) + 1,), dtype="<u4", buffer=np.append(mb, np.zeros(4, np.uint8)), strides=(1,)
        )

        def hex_value(ps: np.ndarray, length: np.ndarray) -> np.ndarray:
            # the hex number of ``length`` (0-4) hex digits from ``ps``, from its four bytes at once: a digit's
            # value is its low 4 bits, plus 9 for a letter (bit 6: a-f, A-F)
            x = quad[ps]
            x = ((x & 0x0F0F0F0F) + (x >> 6 & 0x01010101) * 9) & 0x0F0F0F0F
            x = x.byteswap()  # the first digit highest: one byte per digit, then one nibble per digit
            x |= x >> 4
            x = (x & 0xFF) | (x >> 8 & 0xFF00)
            return x >> (16 - 4 * length).astype(np.uint32)

        # the first group: the first part, before the token's first colon (empty where it is one)
        first = hex_value(s, colon_at[np.minimum(cc, ncol - 1)] - s)
        special = (first >= 0xFC00) | np.isin(first, _IPV6_SPECIAL_BELOW_FC00)
        sp = np.flatnonzero(special)
        s, e, kc, cc = s[sp], e[sp], kc[sp], cc[sp]
        m = np.where(compressed[cand[sp]], at_m[cand[sp]], 7)

        def groups(rows: np.ndarray, g0: int, g1: int) -> np.ndarray:
            """Groups ``g0`` to ``g1`` (1 <= g0 <= g1 <= 7) of the special tokens ``rows``, as one
            number (uint64). Part j (after the token's j-th colon; part 0 is before its first colon) is group j
            before the "::" (parts 0 to m; the empty part m + 1 lies between its colons) and group 7 - (k - j)
            after it; the groups that "::" stands for are 0. The parts wanted are laid out token after token."""
            kr, mr = kc[rows], m[rows]
            # per token: the parts j0 <= j < j1 before the "::" (every part of a full address, m = 7), then
            # those after it, with the shift from part to group
            j0 = np.concatenate((np.full(len(rows), g0), np.maximum(mr + 2, g0 + kr - 7)))
            j1 = np.concatenate((np.minimum(np.minimum(mr, kr), g1) + 1, np.minimum(kr, g1 + kr - 7) + 1))
            shift = np.concatenate((np.zeros(len(rows), dtype=np.int64), 7 - kr))
            who = np.tile(np.arange(len(rows)), 2)
            count = np.maximum(j1 - j0, 0)
            total = int(count.sum())
            value = np.zeros((len(rows), g1 - g0 + 1), dtype=np.uint64)
            if total:
                part = np.arange(total) + np.repeat(j0 - (np.cumsum(count) - count), count)
                w = np.repeat(who, count)
                kw, cw = kr[w], cc[rows][w]
                ps = colon_at[cw + part - 1] + 1  # (part >= 1)
                pe = np.where(part == kw, e[rows][w], colon_at[np.minimum(cw + part, ncol - 1)])
                slot = w * (g1 - g0 + 1) + part + np.repeat(shift, count) - g0
                value.ravel()[slot] = hex_value(ps, pe - ps)
            out = value[:, 0]
            for i in range(1, g1 - g0 + 1):
                out = out << np.uint64(16) | value[:, i]
            return out

        # the top 64 bits; where they are in ``_IPV6_EXACT_HI`` the low 64 bits too
        hi = first[sp].astype(np.uint64) << np.uint64(48) | groups(np.arange(len(sp)), 1, 3)
        personal = np.zeros(len(sp), dtype=bool)
        exact = np.isin(hi, np.array(sorted(_IPV6_EXACT_HI), dtype=np.uint64))
        if exact.any():
            at = np.flatnonzero(exact)
            personal[at] = _ipv6_exact_personal(hi[at], groups(at, 4, 7))[0]
        if not exact.all():
            # the others by their top 64 bits alone, each distinct value once (runs of one value read once)
            at = np.flatnonzero(~exact)
            hr = hi[at]
            head = np.concatenate(([True], hr[1:] != hr[:-1]))
            keys, inverse = np.unique(hr[head], return_inverse=True)
            verdicts = np.array([_ipv6_hi_personal(h) for h in keys.tolist()], dtype=bool)
            personal[at] = verdicts[inverse.ravel()][np.cumsum(head) - 1]
        whole = whole.copy()
        whole[cand[sp]] = personal
        none[cand[sp]] = ~personal
    return whole, none


def _ipv6_shapes_private(
    mb: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``_ipv6_shapes`` with ``redact_private_ips``."""
    return _ipv6_shapes(mb, starts, ends, True)


def _token_emails(token: str) -> tuple[int, ...]:
    """``_emails`` on one token, as flat (start, end ...) offsets."""
    a = token.find("@")
    if token.find("@", a + 1) < 0:
        # one "@": the domain after it, and the leftmost local part ending at it (every character before it is
        # a local-part character or one the local part cannot cross)
        d = _EMAIL_DOMAIN.match(token, a)
        m = _EMAIL_LOCAL.search(token, 0, a + 1) if d is not None else None
        return () if m is None else (m.start(), d.end())
    ats = [i for i, c in enumerate(token) if c == "@"]
    return tuple(chain.from_iterable(_emails(token, ats)))


def _token_ipv6(token: str, private: bool = False) -> tuple[int, ...]:
    """The valid ``_F_IPV6`` matches of one token, as flat (start, end ...) offsets."""
    return tuple(
        chain.from_iterable(m.span() for m in _F_IPV6.finditer(token) if _ipv6_ok(m.group(), private))
    )


def _token_ipv6_private(token: str) -> tuple[int, ...]:
    """``_token_ipv6`` with ``redact_private_ips``."""
    return _token_ipv6(token, True)


# digit detectors: (candidate key, type, fast twin, validator of the matched value or None)
_DIGIT_DETECTORS: list[tuple[str, str, re.Pattern, Callable[[str, bool], bool] | None]] = [
    ("ID_NUMBER", "ID_NUMBER", _F_ID, _id_ok),
    ("BANK_CARD", "BANK_CARD", _F_CARD, _card_ok),
    ("INTL", "PHONE", _F_PHONE_INTL, _phone_intl_ok),
    ("MOBILE", "PHONE", _F_PHONE_CN_MOBILE, None),
    ("NA", "PHONE", _F_PHONE_NA, None),
    ("LAND", "PHONE", _F_PHONE_CN_LAND, None),
    ("IP_ADDRESS", "IP_ADDRESS", _F_IPV4, _ipv4_value_ok),
]
# bytes before an IPv4 address after which a version cue may end: letters, spaces, ":", "=" and "?" (which
# stands for every character beyond Latin-1)
_CUE_BEFORE = np.array([chr(i).isalpha() or chr(i).isspace() or chr(i) in ":=?" for i in range(256)])
_TYPE_OF_PRIORITY = sorted(_PRIORITY, key=_PRIORITY.__getitem__)
# from this length on, digit detectors use candidate starts and the sweep is vectorised (numpy's per-call overhead
# of a few microseconds per operation only pays off on longer texts)
_VECTOR_MIN_CHARS = 20_000
_SWEEP_SMALL_MAX = 256


# characters skipped backwards from an IPv4 address to the end of a version cue ([\s:=]), and the bytes a cue can
# end with (its last letters in either case, and every byte beyond ASCII, which case-folding may map to one)
_CUE_SEP = np.array([chr(i).isspace() or chr(i) in ":=" for i in range(256)])
_CUE_END = _byte_table("nerdlvgxNERDLVGX?" + "".join(map(chr, range(128, 256))))


def _ipv4_found(
    text: str, b: np.ndarray, ipv4: tuple[np.ndarray, ...], private: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    r"""IPv4 spans from ``_digit_starts``'s whole matches: validated on their octets and, where a version cue can
    end before them (vectorised pre-test: skipping back over [\s:=] within 12 characters lands on a byte a cue
    word can end with), on the text with ``_version_cue``."""
    starts, ends, a, b1, c = ipv4
    keep = _first_of_chains(starts, ends)
    if not private:
        # only a special first octet (_SPECIAL_FIRST_OCTETS, or 224+) can make an address not personal
        special = np.flatnonzero(_SPECIAL_FIRST_OCTET[a])
        a, b1, c = a[special], b1[special], c[special]
        keep[special] &= ~(
            np.isin(a, (0, 10, 127))
            | (a >= 224)
            | ((a == 169) & (b1 == 254))
            | ((a == 172) & (b1 >= 16) & (b1 <= 31))
            | ((a == 192) & (b1 == 168))
            | ((a == 100) & (b1 >= 64) & (b1 <= 127))
            | ((a == 198) & ((b1 == 18) | (b1 == 19)))
            | ((a == 192) & (b1 == 0) & ((c == 0) | (c == 2)))
            | ((a == 198) & (b1 == 51) & (c == 100))
            | ((a == 203) & (b1 == 0) & (c == 113))
        )
    p = starts - 1
    lo = starts - 12
    for _ in range(12):
        back = (p >= lo) & (p >= 0) & _CUE_SEP[b[p]]
        if not back.any():
            break
        p = p - back
    maybe = np.flatnonzero(keep & (p >= lo) & (p >= 0) & _CUE_END[b[p]])
    for i in maybe.tolist():
        if _version_cue(text, int(starts[i])):
            keep[i] = False
    return starts[keep], ends[keep], _PRIORITY["IP_ADDRESS"]


def _find(text: str, wanted: set[str], private: bool) -> tuple[_Ints, _Ints, _Ints]:
    """Starts, ends and type priorities (``_PRIORITY``) of the non-overlapping PII spans of ``text``, sorted by
    start: lists, or arrays where there are many."""
    n = len(text)
    b = np.frombuffer(text.encode("latin-1", "replace") + bytes(24), dtype=np.uint8)
    # candidates: arrays of starts and ends per detector, with the detector's priority
    found: list[tuple[np.ndarray, np.ndarray, int]] = []

    def add_lists(starts: list[int], ends: list[int], typ: str) -> None:
        if starts:
            found.append((np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), _PRIORITY[typ]))

    if "SECRET" in wanted:
        s_list: list[int] = []
        e_list: list[int] = []
        for ws, we in _windows(text, _PEM_ANCHOR, 80, 8000):  # rare: key blocks are few and far between
            for s, e in map(_span, _PEM_RE.finditer(text[ws:we])):
                s_list.append(ws + s)
                e_list.append(ws + e)
        add_lists(s_list, e_list, "SECRET")
        anchors = _vendor_anchors(b, n) if n >= _VECTOR_MIN_CHARS else _spans(_VENDOR_ANCHOR.finditer(text))
        windows = _merged(*anchors, n, 16, 300)
        if windows:
            masked = _masked(text, windows)
            for pattern, shift in zip(_F_SECRETS, _F_SECRET_SHIFTS, strict=True):
                starts, ends = _spans(pattern.finditer(masked))
                found.append((starts - shift, ends, _PRIORITY["SECRET"]))
    if "EMAIL" in wanted and "@" in text:
        at = np.flatnonzero(b[:n] == 64)
        if len(at):
            masked = _masked(text, _merged(at, at + 1, n, 90, 260))
            # the domain starts with a letter or digit, the local part ends with an atom character
            at = at[_ALNUM[b[at + 1]] & _ATOM[b[at - 1]]]
            by_token = (
                _token_spans(
                    masked,
                    _EMAIL_TOKEN,
                    at,
                    _token_emails,
                    1,
                    _email_shapes,
                    b[:n] if masked is text else None,
                )
                if n >= _VECTOR_MIN_CHARS and len(at)
                else None
            )
            if by_token is not None:
                found.append((*by_token, _PRIORITY["EMAIL"]))
            else:
                spans = _emails(masked, at.tolist())
                add_lists([s for s, _ in spans], [e for _, e in spans], "EMAIL")
    digit_dets = [d for d in _DIGIT_DETECTORS if d[1] in wanted]
    # every digit match lies in a run of 7+ of [\d \-.()] (see _DIGIT_ANCHOR): without one there is none
    if digit_dets and not _has_digit_anchor(text, b):
        digit_dets = []
    # short texts: the twins on the whole text cost less than the vectorised candidate search's fixed overhead
    cands, ipv4 = _digit_starts(text, b) if digit_dets and n >= _VECTOR_MIN_CHARS else (None, None)
    for key, typ, pattern, ok in digit_dets:
        if ipv4 is not None and key == "IP_ADDRESS":
            found.append(_ipv4_found(text, b, ipv4, private))
            continue
        valid = None
        if cands is None:
            starts, ends = _spans(pattern.finditer(text))
        else:
            if key in _PHONE_MATCHERS and len(cands[key]) >= _PHONE_VECTOR_MIN:
                starts, ends, valid = _phone_spans(text, b, key, cands, pattern, ok, private)
            elif key in _DIGIT_MATCHERS:
                c = cands[key]
                ends, valid = _DIGIT_MATCHERS[key](b, c, cands["RUN_ENDS"])
                has = ends >= 0
                starts, ends, valid = c[has], ends[has], valid[has]
            else:
                starts, ends, valid = _matches_at(text, pattern, cands[key], ok, private)
        if not len(starts):
            continue
        keep = _first_of_chains(starts, ends)
        if valid is not None:
            keep &= valid
        elif ok is not None:
            values = list(map(text.__getitem__, map(slice, starts.tolist(), ends.tolist())))
            verdict = {v: ok(v, private) for v in set(values)}  # validators depend on the value only
            keep &= np.fromiter(map(verdict.__getitem__, values), dtype=bool, count=len(values))
            if key == "IP_ADDRESS":
                for i in np.flatnonzero(keep & _CUE_BEFORE[b[starts - 1]] & (starts > 0)).tolist():
                    if _version_cue(text, int(starts[i])):
                        keep[i] = False
        found.append((starts[keep], ends[keep], _PRIORITY[typ]))
    if "IP_ADDRESS" in wanted:
        # numpy pays off only on colon-dense texts (10%+) or where colons 5 or fewer apart (likely anchors, ~1.3 µs
        # each by the regex: times, MAC addresses) number more than one in 128 characters: its passes over the
        # whole text cost ~10 ns per character
        colons = np.flatnonzero(b[:n] == 58) if n >= _VECTOR_MIN_CHARS else _NO_SPANS
        dense = len(colons) > n // 10 or (
            len(colons) > n // 128 and np.count_nonzero(np.diff(colons) <= 5) > n // 128
        )
        anchors = _ipv6_anchors(b, n, colons) if dense else _spans(_IPV6_ANCHOR.finditer(text))
        windows = _merged(*anchors, n, 41, 41)
        masked = _masked(text, windows) if windows else text
        by_token = None
        if windows and n >= _VECTOR_MIN_CHARS:
            ipv6_of = _token_ipv6_private if private else _token_ipv6
            shapes = _ipv6_shapes_private if private else _ipv6_shapes
            by_token = _token_spans(
                masked, _IPV6_TOKEN, colons, ipv6_of, 2, shapes, b[:n] if masked is text else None
            )
        if by_token is not None:
            found.append((*by_token, _PRIORITY["IP_ADDRESS"]))
        elif windows:
            starts, ends = _spans(_F_IPV6.finditer(masked))
            if len(starts):
                # a match holds no NUL, so it reads the same in the text as in the masked text
                values = list(map(text.__getitem__, map(slice, starts.tolist(), ends.tolist())))
                verdict = {v: _ipv6_ok(v, private) for v in set(values)}  # dense dumps repeat their addresses
                keep = np.fromiter(map(verdict.__getitem__, values), dtype=bool, count=len(values))
                found.append((starts[keep], ends[keep], _PRIORITY["IP_ADDRESS"]))
    if "SECRET" in wanted and n >= _VECTOR_MIN_CHARS:
        found.append((*_assignments(text, b), _PRIORITY["SECRET"]))
    elif "SECRET" in wanted:
        s_list, e_list = [], []
        for m in chain(_F_ASSIGN_COLON.finditer(text), _F_ASSIGN_EQUALS.finditer(text)):
            g = m.lastindex or 1
            value = m.group(g)
            start = m.start()
            before = text[max(0, start - 60) : start].lower()
            if (
                _SECRET_NAME_RE.search(before)
                and shannon_entropy(value) >= 3.0
                and any(c.isdigit() for c in value)
                and any(c.isalpha() for c in value)
            ):
                s_list.append(m.start(g))
                e_list.append(m.end(g))
        add_lists(s_list, e_list, "SECRET")
    return _sweep(found)


_REGS = attrgetter("regs")


def _secret_name_before(before: str) -> bool:
    """Whether the 60 characters before an assignment operator end with a secret's name."""
    return _SECRET_NAME_RE.search(before.lower()) is not None


def _secret_value_ok(value: str) -> bool:
    """The value test of the generic assignment rule: 3.0+ bits/char, a digit and a letter."""
    return (
        shannon_entropy(value) >= 3.0 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    )


def _assignments(text: str, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value spans of the generic ``key = "value"`` rule (long texts): the operators' matches are read in C
    (``Match.regs``), and the name and value tests run once per distinct preceding text and value; values (ASCII
    by the pattern) get their entropy, digit and letter tests in numpy, with ``shannon_entropy`` itself only
    where the vectorised entropy is within 1e-9 of the threshold."""
    n = len(text)
    if text.count(":") + text.count("=") > n // 64:  # operator-dense: the regexes would stop at every one
        ops, v_starts, v_ends = _assignment_values(b, n)
    else:
        regs = chain.from_iterable(
            map(_REGS, chain(_F_ASSIGN_COLON.finditer(text), _F_ASSIGN_EQUALS.finditer(text)))
        )
        flat = np.fromiter(chain.from_iterable(regs), dtype=np.int64).reshape(-1, 4)
        ops, v_starts, v_ends = flat[:, 0], flat[:, 2], flat[:, 3]
    if not len(ops):
        return _NO_SPANS, _NO_SPANS
    # a name holds no newline (the pattern's "$" may stand before a last one), so the 60 characters before the
    # operator are cut after the last newline before that: far fewer distinct texts to test
    newlines = np.flatnonzero(b[: len(text)] == 10)
    last = np.searchsorted(newlines, ops - 1) - 1
    cut = np.where(last >= 0, newlines[np.maximum(last, 0)] + 1, 0) if len(newlines) else np.zeros_like(ops)
    lo = np.maximum(np.maximum(ops - 60, 0), cut)
    befores, which = _read_runs(text, b, lo, ops)
    name_ok = {t: _secret_name_before(t) for t in set(befores)}
    keep = np.fromiter(map(name_ok.__getitem__, befores), dtype=bool, count=len(befores))[which]
    v_starts, v_ends = v_starts[keep], v_ends[keep]
    values, which = _read_runs(text, b, v_starts, v_ends)
    if len(values) >= 64:  # (in numpy each value costs less than finding the distinct ones)
        keep = np.array(_secret_values_ok(values), dtype=bool)[which]
    else:
        value_ok = {v: _secret_value_ok(v) for v in set(values)}
        keep = np.fromiter(map(value_ok.__getitem__, values), dtype=bool, count=len(values))[which]
    return v_starts[keep], v_ends[keep]


_SPACE_TAB = _byte_table(" \t")
_QUOTE = _byte_table("\"'")
_VALUE = _byte_table(string.ascii_letters + string.digits + "/+_-.~")


def _assignment_values(b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operator positions, value starts and value ends of the ``_F_ASSIGN_COLON`` and ``_F_ASSIGN_EQUALS`` matches
    of a text of ``n`` characters (bytes ``b``, padded), in order, in numpy.

    After the operator (and a ">" after "="), the pattern takes [ \t]{0,4}, an optional quote, a run of 16+ value
    characters and up to two "="; it never needs to backtrack (none of these classes holds the next one's
    characters), so: at most 4 spaces or tabs, then the quote if there is one, then the whole run of value
    characters if it is 16+ long, then its "=" signs. The byte before that value start is the operator, ">", a
    space, a tab or a quote, none of them a value character: a value starts a run of value characters, so the
    runs of 16+ are found first (none: no assignment at all)."""
    in_value = _lookup(_VALUE, b)
    if not _has_run(in_value, 16):
        return _NO_SPANS, _NO_SPANS, _NO_SPANS
    runs = np.diff(in_value.view(np.int8), prepend=np.int8(0))
    r_starts, r_ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)  # the padding ends every run
    long = r_ends - r_starts >= 16
    r_starts, r_ends = r_starts[long], r_ends[long]
    if not len(r_starts):
        return _NO_SPANS, _NO_SPANS, _NO_SPANS
    ops = np.flatnonzero((b[:n] == 58) | (b[:n] == 61))
    p = ops + 1 + ((b[ops] == 61) & (b[1:][ops] == 62))
    spaces = np.zeros(len(ops), dtype=np.int64)
    for k in range(5):
        spaces += (spaces == k) & _SPACE_TAB[b[k:][p]]
    v = p + spaces
    v += _QUOTE[b[v]]
    run = np.minimum(np.searchsorted(r_starts, v), len(r_starts) - 1)
    ok = (spaces <= 4) & (r_starts[run] == v)
    ops, v, e = ops[ok], v[ok], r_ends[run[ok]]
    eq = b[e] == 61
    e += eq
    e += eq & (b[e] == 61)
    return ops, v, e


def _secret_values_ok(values: list[str]) -> list[bool]:
    """``_secret_value_ok`` over many ASCII values at once, the values of each length as the rows of one array.

    A row's entropy, log2(n) - sum(c log2 c) / n over its characters' counts c, comes from the row sorted: the
    r-th of a run of equal characters adds r log2 r - (r - 1) log2(r - 1), which sums to c log2 c over the run.
    ``shannon_entropy`` itself decides where the result is within 1e-9 of the threshold."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    order = np.argsort(lengths, kind="stable")
    chars = np.frombuffer("".join(map(values.__getitem__, order.tolist())).encode("ascii"), dtype=np.uint8)
    by_length = lengths[order]
    bounds = np.flatnonzero(np.diff(by_length, prepend=-1, append=-1))  # where the length changes
    offsets = np.concatenate(([0], np.cumsum(by_length)))
    ok = np.zeros(len(values), dtype=bool)
    entropy = np.zeros(len(values))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        length = int(by_length[lo])
        rows = chars[offsets[lo] : offsets[hi]].reshape(hi - lo, length)
        sorted_rows = np.sort(rows, axis=1)
        col = np.arange(length)
        run_start = np.where(
            np.concatenate(
                (np.ones((hi - lo, 1), dtype=bool), sorted_rows[:, 1:] != sorted_rows[:, :-1]), axis=1
            ),
            col,
            0,
        )
        r = col - np.maximum.accumulate(run_start, axis=1) + 1
        k = np.arange(1, length + 1, dtype=np.float64)
        step = np.concatenate(([0.0], k * np.log2(k) - (k - 1) * np.log2(np.maximum(k - 1, 1))))
        h = np.log2(length) - step[r].sum(axis=1) / length
        flat = rows.ravel()
        digit = ((flat - 48) < 10).reshape(rows.shape).any(axis=1)
        alpha = _lookup(_ALPHA, flat).reshape(rows.shape).any(axis=1)
        at = order[lo:hi]
        entropy[at] = h
        ok[at] = (h >= 3.0) & digit & alpha
    for i in np.flatnonzero(np.abs(entropy - 3.0) < 1e-9).tolist():
        ok[i] = _secret_value_ok(values[i])
    return ok.tolist()


def _sweep_small(found: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[list[int], list[int], list[int]]:
    """``_sweep`` for a few candidates: the plain sequential sweep over sorted (start, priority, -length) tuples."""
    cands = sorted(
        (s, p, s - e, e)
        for starts, ends, p in found
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    )
    taken: list[tuple[int, int, int, int]] = []
    for cand in cands:
        if taken and cand[0] < taken[-1][3]:
            if cand[1:3] < taken[-1][1:3]:
                taken[-1] = cand
            continue
        taken.append(cand)
    return [c[0] for c in taken], [c[3] for c in taken], [c[1] for c in taken]


def _sweep(found: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[_Ints, _Ints, _Ints]:
    """Resolve overlapping candidates: left to right, where two spans overlap keep the higher-priority type
    (then the longer span).

    Sorted by (start, priority, -length), a candidate that starts at or after the end of every earlier one
    cannot interact with them, so the sequential sweep runs only inside groups of mutually reachable overlaps;
    lone candidates are kept as they are and pairs are settled in numpy. Many spans come back as arrays (starts, ends, priorities), a few as
    lists."""
    found = [f for f in found if len(f[0])]
    if not found:
        return [], [], []
    if sum(len(f[0]) for f in found) < _SWEEP_SMALL_MAX:
        return _sweep_small(found)
    if (
        len(found) == 1
    ):  # one detector (dense dumps): spans in order without overlaps are all kept as they are
        starts, ends, p = found[0]
        if (starts[1:] >= ends[:-1]).all():
            return starts, ends, np.full(len(starts), p, dtype=np.int64)
    starts = np.concatenate([f[0] for f in found])
    ends = np.concatenate([f[1] for f in found])
    prio = np.concatenate([np.full(len(f[0]), f[2], dtype=np.int64) for f in found])
    order = np.lexsort((starts - ends, prio, starts))
    starts, ends, prio = starts[order], ends[order], prio[order]
    n = len(starts)
    if not n:
        return [], [], []
    reach = np.maximum.accumulate(ends)
    new = np.ones(n, dtype=bool)
    new[1:] = starts[1:] >= reach[:-1]
    # groups of mutually reachable overlaps: one candidate is kept as it is; of two, the second overlaps the
    # first and replaces it where it ranks higher (priority, then length); larger ones are swept in Python
    first = np.flatnonzero(new)
    size = np.diff(first, append=n)
    keep = np.zeros(n, dtype=bool)
    keep[first[size == 1]] = True
    pair = first[size == 2]
    second_wins = (prio[pair + 1] < prio[pair]) | (
        (prio[pair + 1] == prio[pair]) & (starts[pair + 1] - ends[pair + 1] < starts[pair] - ends[pair])
    )
    keep[pair + second_wins] = True
    crowded = np.flatnonzero(np.repeat(size >= 3, size))  # the members of larger groups
    if len(crowded):
        cs, ce, cp, cn = (
            starts[crowded].tolist(),
            ends[crowded].tolist(),
            prio[crowded].tolist(),
            new[crowded].tolist(),
        )
        taken: list[int] = []
        last_s = last_e = last_p = 0
        for j in range(len(crowded)):
            s, e, p = cs[j], ce[j], cp[j]
            if not cn[j] and s < last_e:
                if (p, s - e) < (last_p, last_s - last_e):
                    taken[-1] = j
                    last_s, last_e, last_p = s, e, p
                continue
            taken.append(j)
            last_s, last_e, last_p = s, e, p
        keep[crowded[taken]] = True
    return starts[keep], ends[keep], prio[keep]


def find_pii(
    text: str, types: tuple[str, ...] | list[str] = TYPES, redact_private_ips: bool = False
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, type) spans of PII in ``text``, sorted by start."""
    starts, ends, prios = _find(text, set(types), redact_private_ips)
    if isinstance(starts, np.ndarray):
        starts, ends, prios = starts.tolist(), ends.tolist(), prios.tolist()
    return list(zip(starts, ends, map(_TYPE_OF_PRIORITY.__getitem__, prios), strict=True))


def _splice(text: str, starts: np.ndarray, ends: np.ndarray, prios: np.ndarray, ph: dict[str, str]) -> str:
    """``text`` with the sorted, non-overlapping spans replaced by the placeholders of their types, built in numpy:
    one gather from the text followed by the placeholders, no Python object per span. One byte per character
    where the text and the placeholders are ASCII, else UTF-32 (one code unit per character; lone surrogates
    pass through)."""
    pieces = [ph[t] for t in _TYPE_OF_PRIORITY]
    n = len(text)
    joined = text + "".join(pieces)
    if joined.isascii():
        codec, dtype = "ascii", np.uint8
    else:
        codec, dtype = "utf-32-le", np.dtype("<u4")
    src = np.frombuffer(joined.encode(codec, "surrogatepass"), dtype=dtype)
    ph_len = np.array([len(p) for p in pieces], dtype=np.int64)
    ph_off = n + np.cumsum(ph_len) - ph_len
    # segments: text before the first span, a placeholder, text up to the next span ... text after the last span
    k = len(starts)
    seg_src = np.empty(2 * k + 1, dtype=np.int64)
    seg_len = np.empty(2 * k + 1, dtype=np.int64)
    seg_src[0] = 0
    seg_src[2::2] = ends
    seg_len[0:-1:2] = starts
    seg_len[-1] = n
    seg_len[0::2] -= seg_src[0::2]
    seg_src[1::2] = ph_off[prios]
    seg_len[1::2] = ph_len[prios]
    nonempty = seg_len > 0
    if not nonempty.any():  # every character redacted, with empty placeholders
        return ""
    seg_src, seg_len = seg_src[nonempty], seg_len[nonempty]
    out_start = np.cumsum(seg_len) - seg_len
    # source index of every output byte: +1 within a segment, a jump to the next segment's source at its start
    step = np.ones(int(out_start[-1] + seg_len[-1]), dtype=np.int64)  # (int32 runs slower in both steps)
    step[0] = seg_src[0]
    step[out_start[1:]] = seg_src[1:] - (seg_src[:-1] + seg_len[:-1]) + 1
    return src[np.cumsum(step, out=step)].tobytes().decode(codec, "surrogatepass")


def redact(
    text: str,
    types: tuple[str, ...] | list[str] = TYPES,
    redact_private_ips: bool = False,
    placeholders: dict[str, str] | None = None,
) -> tuple[str, Counter]:
    """Redact PII of the given ``types`` in ``text``; return the new text and the number of redactions per type."""
    starts, ends, prios = _find(text, set(types), redact_private_ips)
    if not len(starts):
        return text, Counter()
    ph = {**PLACEHOLDERS, **(placeholders or {})}
    if isinstance(starts, np.ndarray):
        per_type = np.bincount(prios, minlength=len(_TYPE_OF_PRIORITY)).tolist()
        counts = Counter({t: c for t, c in zip(_TYPE_OF_PRIORITY, per_type, strict=True) if c})
        return _splice(text, starts, ends, prios, ph), counts
    counts = Counter(map(_TYPE_OF_PRIORITY.__getitem__, prios))
    typs = list(map(_TYPE_OF_PRIORITY.__getitem__, prios))
    parts: list[str] = [""] * (2 * len(starts) + 1)
    parts[0::2] = map(text.__getitem__, map(slice, [0, *ends], [*starts, len(text)]))
    parts[1::2] = map(ph.__getitem__, typs)
    return "".join(parts), counts


class PII(Annotator):
    """Replace PII in ``doc.text`` with placeholders; counts redactions per type in the ledger stats
    (``pii`` counters ``EMAIL``, ``PHONE`` …) and, with ``tag_meta``, in ``meta.pii`` of the document."""

    name = "pii"

    class Params(StepParams):
        types: list[str] = Field(default_factory=lambda: list(TYPES), description=f"subset of {list(TYPES)}")
        redact_private_ips: bool = Field(False, description="also redact loopback/private/link-local IPs")
        placeholders: dict[str, str] = Field(default_factory=dict, description="override placeholder strings")
        tag_meta: bool = Field(False, description="write {type: count} to meta.pii")

    def setup(self) -> None:
        unknown = set(self.params.types) - set(TYPES)
        if unknown:
            from mixkit.errors import MixkitError

            raise MixkitError(f"pii: unknown types {sorted(unknown)}; valid types are {list(TYPES)}")

    def annotate(self, doc: Document, ctx: ShardContext) -> None:
        new, counts = redact(
            doc.text, self.params.types, self.params.redact_private_ips, self.params.placeholders
        )
        if counts:
            doc.text = new
            for typ, n in sorted(counts.items()):
                ctx.count(self.name, typ, n)
            if self.params.tag_meta:
                doc.meta["pii"] = dict(sorted(counts.items()))
