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
from collections import Counter
from collections.abc import Callable

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

# --- detectors: (type, compiled regex, validator(match) -> replacement span or None) -----------------------------

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9_.+%-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_-])"
)
_VERSION_CUE = re.compile(
    r"(?:version|release|ver|python|build|firmware|kernel|v|rev|tag|chrome|firefox|version:)[\s:=]*$",
    re.IGNORECASE,
)
_IPV4_RE = re.compile(
    r"(?<![A-Za-z0-9_.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![A-Za-z0-9_]|\.\d)"
)
_IPV6_RE = re.compile(
    r"(?<![A-Za-z0-9_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![A-Za-z0-9_:])"
)
_PHONE_INTL_RE = re.compile(r"(?<![A-Za-z0-9_+])\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}(?![A-Za-z0-9_])")
_PHONE_NA_RE = re.compile(r"(?<![A-Za-z0-9_-])(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}(?![A-Za-z0-9_-])")
_PHONE_CN_MOBILE_RE = re.compile(
    r"(?<![A-Za-z0-9_+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![A-Za-z0-9_])"
)
_PHONE_CN_LAND_RE = re.compile(r"(?<![A-Za-z0-9_-])0\d{2,3}-\d{7,8}(?![A-Za-z0-9_-])")
_ID_RE = re.compile(
    r"(?<![A-Za-z0-9_])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![A-Za-z0-9_])"
)
_CARD_RE = re.compile(
    r"(?<![A-Za-z0-9_-])(?:\d{4}[ -]){3}\d{1,7}(?![A-Za-z0-9_-])|(?<![A-Za-z0-9_-])\d{13,19}(?![A-Za-z0-9_-])"
)
_SECRET_RES = [
    re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )*PRIVATE KEY-----"),
    re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])"),
    re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,255}"),
    re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_-])"),
    re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_-])"),
    re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk|pk)_live_[0-9A-Za-z]{16,}"),
]


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


def _ipv4_ok(text: str, start: int, value: str, private: bool) -> bool:
    if _VERSION_CUE.search(text[max(0, start - 12) : start]):
        return False
    if private:
        return True
    a, b, c, _ = (int(x) for x in value.split("."))
    return not _ipv4_not_personal(a, b, c)


def _ipv6_ok(text: str, start: int, value: str, private: bool) -> bool:
    value = value.split("%")[0]
    groups = [g for g in value.split(":") if g]
    if len(groups) < 3 or not any(any(c.isdigit() for c in g) for g in groups):
        return False
    if "::" not in value and len(groups) != 8:
        return False
    try:
        ip = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    if private:
        return True
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_private or ip.is_multicast)


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _phone_intl_ok(text: str, start: int, value: str, private: bool) -> bool:
    return 8 <= len(_digits(value)) <= 15


def _card_ok(text: str, start: int, value: str, private: bool) -> bool:
    d = _digits(value)
    if not 13 <= len(d) <= 19 or not _CARD_PREFIX.match(d):
        return False
    if d.startswith(("34", "37")) and len(d) != 15:
        return False
    if d.startswith("4") and len(d) not in (13, 16, 19):
        return False
    if d.startswith(("5", "2")) and len(d) != 16:
        return False
    return luhn_ok(d)


def _id_ok(text: str, start: int, value: str, private: bool) -> bool:
    return cn_id_ok(value)


def _always(text: str, start: int, value: str, private: bool) -> bool:
    return True


# validator(full text, absolute start, matched value, redact_private_ips) -> is PII
Validator = Callable[[str, int, str, bool], bool]


# Each detector family is only run on small windows around cheap anchors (a run of digits, an "@", a colon
# between hex digits, a vendor prefix, an assignment): CPython's regex engine cannot skip ahead for patterns that
# start with a look-behind, so running ~17 such patterns over a 5 MB text took seconds; anchored windows keep the
# whole pass linear and well under a second.
# family: (anchor regex, left margin, right margin, [(type, regex, validator)]); lower index = higher priority.
_FAMILIES: list[tuple[re.Pattern, int, int, list[tuple[str, re.Pattern, Validator]]]] = [
    (re.compile(r"PRIVATE KEY-----"), 80, 8000, [("SECRET", _SECRET_RES[0], _always)]),
    (
        re.compile(r"AKIA|ASIA|gh[pousr]_|github_pat_|sk-|xox[abprs]-|AIza|_live_"),
        16,
        300,
        [("SECRET", r, _always) for r in _SECRET_RES[1:]],
    ),
    (re.compile(r"@"), 90, 260, [("EMAIL", _EMAIL_RE, _always)]),
    (
        re.compile(r"\d[\d \-.()]{6,}"),
        3,
        2,
        [
            ("ID_NUMBER", _ID_RE, _id_ok),
            ("BANK_CARD", _CARD_RE, _card_ok),
            ("PHONE", _PHONE_INTL_RE, _phone_intl_ok),
            ("PHONE", _PHONE_CN_MOBILE_RE, _always),
            ("PHONE", _PHONE_NA_RE, _always),
            ("PHONE", _PHONE_CN_LAND_RE, _always),
            ("IP_ADDRESS", _IPV4_RE, _ipv4_ok),
        ],
    ),
    (re.compile(r":[0-9A-Fa-f]*:"), 41, 41, [("IP_ADDRESS", _IPV6_RE, _ipv6_ok)]),
]
_PRIORITY = {t: i for i, t in enumerate(("SECRET", "EMAIL", "ID_NUMBER", "BANK_CARD", "PHONE", "IP_ADDRESS"))}
# zero-width (look-ahead) so that every operator is tried, even inside a value matched from an earlier one
_ASSIGN_RE = re.compile(r"(?=(?::|=|=>)[ \t]{0,4}[\"']?([A-Za-z0-9/+_\-.~]{16,}={0,2}))")
_SECRET_NAME_RE = re.compile(
    r"(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|auth[_-]?key|private[_-]?key)[a-z0-9_.\-]{0,40}"
    r"[\"']?[ \t]{0,4}$"
)


def _windows(text: str, anchor: re.Pattern, left: int, right: int) -> list[tuple[int, int]]:
    """Merged [start, end) windows around every anchor match."""
    out: list[tuple[int, int]] = []
    for m in anchor.finditer(text):
        s, e = max(0, m.start() - left), min(len(text), m.end() + right)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def find_pii(
    text: str, types: tuple[str, ...] | list[str] = TYPES, redact_private_ips: bool = False
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, type) spans of PII in ``text``, sorted by start."""
    wanted = set(types)
    cands: set[tuple[int, int, str]] = set()
    for anchor, left, right, dets in _FAMILIES:
        dets = [d for d in dets if d[0] in wanted]
        if not dets:
            continue
        for ws, we in _windows(text, anchor, left, right):
            window = text[ws:we]
            for typ, pattern, ok in dets:
                for m in pattern.finditer(window):
                    if ok(text, ws + m.start(), m.group(), redact_private_ips):
                        cands.add((ws + m.start(), ws + m.end(), typ))
    if "SECRET" in wanted:
        for m in _ASSIGN_RE.finditer(text):
            value = m.group(1)
            before = text[max(0, m.start() - 60) : m.start()].lower()
            if (
                _SECRET_NAME_RE.search(before)
                and shannon_entropy(value) >= 3.0
                and any(c.isdigit() for c in value)
                and any(c.isalpha() for c in value)
            ):
                cands.add((m.start(1), m.end(1), "SECRET"))
    # sweep left to right; where two spans overlap keep the higher-priority type (then the longer span)
    taken: list[tuple[int, int, str]] = []
    for cand in sorted(cands, key=lambda c: (c[0], _PRIORITY[c[2]], c[0] - c[1])):
        if taken and cand[0] < taken[-1][1]:
            last = taken[-1]
            if (_PRIORITY[cand[2]], cand[0] - cand[1]) < (_PRIORITY[last[2]], last[0] - last[1]):
                taken[-1] = cand
            continue
        taken.append(cand)
    return taken


def redact(
    text: str,
    types: tuple[str, ...] | list[str] = TYPES,
    redact_private_ips: bool = False,
    placeholders: dict[str, str] | None = None,
) -> tuple[str, Counter]:
    """Redact PII of the given ``types`` in ``text``; return the new text and the number of redactions per type."""
    spans = find_pii(text, types, redact_private_ips)
    counts: Counter = Counter()
    if not spans:
        return text, counts
    ph = {**PLACEHOLDERS, **(placeholders or {})}
    parts: list[str] = []
    pos = 0
    for s, e, typ in spans:
        parts.append(text[pos:s])
        parts.append(ph[typ])
        counts[typ] += 1
        pos = e
    parts.append(text[pos:])
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
