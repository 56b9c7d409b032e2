"""PII redaction on a generated truth set: planted PII in English/Chinese prose and code, plus look-alikes."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import random
import re
import string
import uuid
from collections import Counter
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mixkit.curate.pii as pii_module
from mixkit.curate.pii import PII, TYPES, cn_id_ok, find_pii, luhn_ok, redact, shannon_entropy
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document

EN = [
    "Please contact {v} if you have questions about the release.",
    "The incident report lists {v} as the value seen in the logs, which we are now investigating.",
    "For billing, our records show {v}; let us know if that is wrong.",
]
ZH = [
    "如有疑问，请联系{v}，我们会尽快回复。",
    "根据日志记录，相关信息为 {v}，请核实后再处理。",
    "用户填写的资料是{v}，已经提交审核。",
]
CODE = [
    'config = {{"owner": "{v}", "retries": 3}}\n',
    "export VALUE={v}\nrun --verbose\n",
    "    # contact: {v}\n    return handler(request)\n",
]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for d in string.digits:
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


def _cn_id(rng: random.Random) -> str:
    region = rng.choice(["110101", "310104", "440305", "510107", "330106"])
    birth = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = region + birth + f"{rng.randint(0, 999):03d}"
    for c in "0123456789X":
        if cn_id_ok(body + c):
            return body + c
    raise AssertionError


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_pii(typ: str, rng: random.Random) -> str:
    an = string.ascii_letters + string.digits
    if typ == "EMAIL":
        user = rng.choice(["alice", "bob.smith", "zhang.wei", "li_na", "dev+ci", "j.doe42"])
        dom = rng.choice(["example.com", "mail.example.org", "corp.example.cn", "uni.example.edu"])
        return f"{user}{rng.randint(1, 999)}@{dom}"
    if typ == "IP_ADDRESS":
        if rng.random() < 0.7:
            return f"{rng.choice([8, 23, 45, 66, 81, 104, 151, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        return (
            f"2a0{rng.randint(0, 9)}:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
            if rng.random() < 0.5
            else ":".join(f"{rng.randint(1, 0xFFFF):x}" for _ in range(8)).replace("0:", "a:")
        )
    if typ == "PHONE":
        kind = rng.randrange(4)
        if kind == 0:
            return f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(0, 9999):04d}{rng.randint(0, 9999):04d}"
        if kind == 1:
            return f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"
        if kind == 2:
            return f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
    if typ == "ID_NUMBER":
        return _cn_id(rng)
    if typ == "BANK_CARD":
        prefix, length = rng.choice([("4", 16), ("51", 16), ("62", 19), ("62", 16), ("37", 15)])
        card = _luhn_complete(prefix + str(rng.randint(10, 99)), length, rng)
        if length == 16 and rng.random() < 0.5:
            card = " ".join(card[i : i + 4] for i in range(0, 16, 4))
        return card
    if typ == "SECRET":
        kind = rng.randrange(4)
        if kind == 0:
            return "AKIA" + _rand(rng, string.ascii_uppercase + string.digits, 16)
        if kind == 1:
            return "ghp_" + _rand(rng, an, 36)
        if kind == 2:
            return "sk-" + _rand(rng, an, 48)
        return "api_key=" + _rand(rng, an, 32)
    raise AssertionError(typ)


def make_lookalike(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return f"version {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}"
    if kind == 1:
        return f"v{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 30)}"
    if kind == 2:
        return f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    if kind == 3:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == 4:
        return str(rng.randint(1_600_000_000, 1_800_000_000)) + (
            str(rng.randint(100, 999)) if rng.random() < 0.5 else ""
        )
    if kind == 5:
        return _rand(rng, "0123456789abcdef", rng.choice([7, 32, 40, 64]))
    if kind == 6:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind == 7:
        return f"{rng.randint(1990, 2030)}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}"
    if kind == 8:
        return f"std::vector<int> v; obj->field = {rng.randint(0, 9999)};"
    return f"127.0.0.1:{rng.randint(1024, 65535)} or 192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def test_validators():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert cn_id_ok("11010519491231002X") and not cn_id_ok("110105194912310021")


def test_precision_recall_per_type():
    rng = random.Random(1234)
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    templates = EN + ZH + CODE
    failures: list[tuple[str, str, str, str]] = []
    for _ in range(150):
        for typ in TYPES:
            value = make_pii(typ, rng)
            look = make_lookalike(rng)
            tpl = rng.choice(templates)
            text = tpl.format(v=value) + " " + rng.choice(templates).format(v=look)
            out, counts = redact(text)
            if value not in out and counts[typ] >= 1:
                tp[typ] += 1
            else:
                fn[typ] += 1
                failures.append(("missed", typ, text, out))
            for t, c in counts.items():
                extra = c - (1 if t == typ else 0)
                if extra > 0:
                    fp[t] += extra
                    failures.append(("false", t, text, out))
    # look-alike-only documents: nothing may be redacted
    for _ in range(300):
        text = rng.choice(templates).format(v=make_lookalike(rng))
        out, counts = redact(text)
        for t, c in counts.items():
            fp[t] += c
            failures.append(("false", t, text, out))
    report = {}
    for typ in TYPES:
        precision = tp[typ] / max(tp[typ] + fp[typ], 1)
        recall = tp[typ] / max(tp[typ] + fn[typ], 1)
        report[typ] = (round(precision, 4), round(recall, 4))
    for _typ, (p, r) in report.items():
        assert p >= 0.98 and r >= 0.98, (report, failures[:10])
    print("pii precision, recall per type:", report)


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade to version 1.2.3.4 before 2024-05-01 12:30:45.",
        "commit 3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49 fixes it",
        "id = 123e4567-e89b-12d3-a456-426614174000",
        "std::map<int, int> m; m[1] = 2;",
        "ts=1700000000123 took 0.5 s",
        "请在2024年5月1日前升级到1.2.3版本。",
        "listen on 127.0.0.1:8080 and 0.0.0.0",
        'password = "changeme"  # placeholder, not a secret',
    ],
)
def test_lookalikes_survive(text):
    assert redact(text)[0] == text


def test_step_counts_per_type():
    doc = Document(
        id="1", text="写信到 zhang.san@example.cn 或致电 13912345678，IP 8.8.4.4。Mail bob@example.com."
    )
    ctx = ShardContext()
    step = PII({"tag_meta": True})
    out = list(step.run([doc], ctx))
    assert out[0].text == "写信到 <EMAIL> 或致电 <PHONE>，IP <IP_ADDRESS>。Mail <EMAIL>."
    assert ctx.stats["pii"].counters == Counter({"EMAIL": 2, "PHONE": 1, "IP_ADDRESS": 1})
    assert out[0].meta["pii"] == {"EMAIL": 2, "IP_ADDRESS": 1, "PHONE": 1}


# --- the fast find_pii against the plain implementation it replaced --------------------------------------------
# The reference below is the previous implementation, kept verbatim in behaviour: every detector regex (with its
# leading look-behind) run window by window around cheap anchors, validators per match, a set of candidates and a
# sorted sweep. The fast path must give exactly the same spans.

_R_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_.+%-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_-])"
)
_R_VERSION_CUE = re.compile(
    r"(?:version|release|ver|python|build|firmware|kernel|v|rev|tag|chrome|firefox|version:)[\s:=]*$",
    re.IGNORECASE,
)
_R_IPV4 = re.compile(
    r"(?<![A-Za-z0-9_.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![A-Za-z0-9_]|\.\d)"
)
_R_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![A-Za-z0-9_:])"
)
_R_PHONE_INTL = re.compile(r"(?<![A-Za-z0-9_+])\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}(?![A-Za-z0-9_])")
_R_PHONE_NA = re.compile(r"(?<![A-Za-z0-9_-])(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}(?![A-Za-z0-9_-])")
_R_PHONE_CN_MOBILE = re.compile(r"(?<![A-Za-z0-9_+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![A-Za-z0-9_])")
_R_PHONE_CN_LAND = re.compile(r"(?<![A-Za-z0-9_-])0\d{2,3}-\d{7,8}(?![A-Za-z0-9_-])")
_R_ID = re.compile(
    r"(?<![A-Za-z0-9_])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![A-Za-z0-9_])"
)
_R_CARD = re.compile(
    r"(?<![A-Za-z0-9_-])(?:\d{4}[ -]){3}\d{1,7}(?![A-Za-z0-9_-])|(?<![A-Za-z0-9_-])\d{13,19}(?![A-Za-z0-9_-])"
)
_R_SECRETS = [
    re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )*PRIVATE KEY-----"),
    re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])"),
    re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,255}"),
    re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_-])"),
    re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_-])"),
    re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk|pk)_live_[0-9A-Za-z]{16,}"),
]
_R_ASSIGN = re.compile(r"(?=(?::|=|=>)[ \t]{0,4}[\"']?([A-Za-z0-9/+_\-.~]{16,}={0,2}))")
_R_SECRET_NAME = re.compile(
    r"(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|auth[_-]?key|private[_-]?key)[a-z0-9_.\-]{0,40}"
    r"[\"']?[ \t]{0,4}$"
)


def _r_luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _r_cn_id(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    s = sum(int(c) * w for c, w in zip(value[:17], weights, strict=True))
    return "10X98765432"[s % 11] == value[17].upper()


def _r_ipv4_not_personal(a: int, b: int, c: int) -> bool:
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


def _r_ipv4_ok(text, start, value, private):
    if _R_VERSION_CUE.search(text[max(0, start - 12) : start]):
        return False
    if private:
        return True
    a, b, c, _ = (int(x) for x in value.split("."))
    return not _r_ipv4_not_personal(a, b, c)


def _r_ipv6_ok(text, start, value, private):
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


def _r_digits(s):
    return "".join(c for c in s if c.isdigit())


def _r_card_ok(text, start, value, private):
    d = _r_digits(value)
    prefix = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|62|6011|65|35)")
    if not 13 <= len(d) <= 19 or not prefix.match(d):
        return False
    if d.startswith(("34", "37")) and len(d) != 15:
        return False
    if d.startswith("4") and len(d) not in (13, 16, 19):
        return False
    if d.startswith(("5", "2")) and len(d) != 16:
        return False
    return _r_luhn(d)


def _r_always(text, start, value, private):
    return True


_R_FAMILIES = [
    (re.compile(r"PRIVATE KEY-----"), 80, 8000, [("SECRET", _R_SECRETS[0], _r_always)]),
    (
        re.compile(r"AKIA|ASIA|gh[pousr]_|github_pat_|sk-|xox[abprs]-|AIza|_live_"),
        16,
        300,
        [("SECRET", r, _r_always) for r in _R_SECRETS[1:]],
    ),
    (re.compile(r"@"), 90, 260, [("EMAIL", _R_EMAIL, _r_always)]),
    (
        re.compile(r"\d[\d \-.()]{6,}"),
        3,
        2,
        [
            ("ID_NUMBER", _R_ID, lambda t, s, v, p: _r_cn_id(v)),
            ("BANK_CARD", _R_CARD, _r_card_ok),
            ("PHONE", _R_PHONE_INTL, lambda t, s, v, p: 8 <= len(_r_digits(v)) <= 15),
            ("PHONE", _R_PHONE_CN_MOBILE, _r_always),
            ("PHONE", _R_PHONE_CN_LAND, _r_always),
            ("IP_ADDRESS", _R_IPV4, _r_ipv4_ok),
        ],
    ),
    (re.compile(r":[0-9A-Fa-f]*:"), 41, 41, [("IP_ADDRESS", _R_IPV6, _r_ipv6_ok)]),
]
_R_PRIORITY = {
    t: i for i, t in enumerate(("SECRET", "EMAIL", "ID_NUMBER", "BANK_CARD", "PHONE", "IP_ADDRESS"))
}


def _r_windows(text, anchor, left, right):
    out = []
    for m in anchor.finditer(text):
        s, e = max(0, m.start() - left), min(len(text), m.end() + right)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def reference_find_pii(text, types=TYPES, redact_private_ips=False):
    """The previous ``find_pii``: each detector regex on each anchor window, a set of candidates, one sweep;
    except North-American phones, matched on the whole text (the windows missed "(555)<tab>123-4567")."""
    wanted = set(types)
    cands = set()
    for anchor, left, right, dets in _R_FAMILIES:
        dets = [d for d in dets if d[0] in wanted]
        if not dets:
            continue
        for ws, we in _r_windows(text, anchor, left, right):
            window = text[ws:we]
            for typ, pattern, ok in dets:
                for m in pattern.finditer(window):
                    if ok(text, ws + m.start(), m.group(), redact_private_ips):
                        cands.add((ws + m.start(), ws + m.end(), typ))
    if "PHONE" in wanted:
        # North-American numbers on the whole text: the windows cut "(555)" off "(555)<tab>123-4567" (fixed)
        for m in _R_PHONE_NA.finditer(text):
            cands.add((m.start(), m.end(), "PHONE"))
    if "SECRET" in wanted:
        for m in _R_ASSIGN.finditer(text):
            value = m.group(1)
            before = text[max(0, m.start() - 60) : m.start()].lower()
            if (
                _R_SECRET_NAME.search(before)
                and shannon_entropy(value) >= 3.0
                and any(c.isdigit() for c in value)
                and any(c.isalpha() for c in value)
            ):
                cands.add((m.start(1), m.end(1), "SECRET"))
    taken = []
    for cand in sorted(cands, key=lambda c: (c[0], _R_PRIORITY[c[2]], c[0] - c[1])):
        if taken and cand[0] < taken[-1][1]:
            last = taken[-1]
            if (_R_PRIORITY[cand[2]], cand[0] - cand[1]) < (_R_PRIORITY[last[2]], last[0] - last[1]):
                taken[-1] = cand
            continue
        taken.append(cand)
    return taken


# text fragments that make detectors fire, nearly fire, overlap and meet window edges
_PIECES = [
    "0", "1", "2", "5", "7", "8", "9", "12", "13", "86", "138", "255", "4111", "1111", "0571", "2024", "19491231",
    "110105", "002X", "x", "X", "a", "f", "ab", "E", "v", "version", "ver ", "key", "api_key", "token", "secret",
    "password", " ", "  ", "\t", "\n", "-", ".", "..", ":", "::", "=", "=>", "+", "(", ")", "_", "/", "'", '"',
    ",", ";", "@", "#", "%", "!", "~", "AKIA", "ASIA", "IOSFODNN7EXAMPLE", "ghp_", "sk-", "sk_live_", "xoxb-",
    "AIza", "github_pat_", "example.com", "mail.example.org", "bob", "j.doe", "2a01:", "fe80", "::1",
    "1.2.3.4", "8.8.8.8", "192.168.1.1", "10.0.0.1", "(555) 123-4567", "555-123-4567", "+1 ", "+44 20 7946 0958",
    "+86 139 1234 5678", "13912345678", "4111 1111 1111 1111", "4111111111111111", "11010519491231002X",
    "010-12345678", "aB3dE5fG7hJ9kL1mN3pQ", "٣", "１", "中", "’", "é", "\x00", "PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
]  # fmt: skip


@st.composite
def _pii_texts(draw) -> str:
    parts = draw(st.lists(st.sampled_from(_PIECES), max_size=60))
    if draw(st.booleans()):
        parts.append(draw(st.text(alphabet="0123456789 .-()+:@aAxX\t\n", max_size=40)))
    return "".join(parts)


@contextlib.contextmanager
def _vectorised():
    """Force the long-text paths (candidate starts from numpy, token shapes, numpy sweep) on short texts too."""
    with (
        mock.patch.object(pii_module, "_VECTOR_MIN_CHARS", 0),
        mock.patch.object(pii_module, "_SWEEP_SMALL_MAX", 0),
        mock.patch.object(pii_module, "_SHAPES_MIN_TOKENS", 1),
        mock.patch.object(pii_module, "_PHONE_VECTOR_MIN", 0),
    ):
        yield


@settings(max_examples=400, deadline=None)
@given(_pii_texts(), st.booleans())
def test_find_pii_matches_reference(text, private):
    expected = reference_find_pii(text, redact_private_ips=private)
    assert find_pii(text, redact_private_ips=private) == expected
    with _vectorised():
        assert find_pii(text, redact_private_ips=private) == expected


@settings(max_examples=100, deadline=None)
@given(_pii_texts(), st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True))
def test_find_pii_types_subset_matches_reference(text, types):
    expected = reference_find_pii(text, types)
    assert find_pii(text, types) == expected
    with _vectorised():
        assert find_pii(text, types) == expected


@pytest.mark.parametrize(
    "text",
    [
        # long local part / token: the windows cut them (the reference behaviour is kept)
        "x" * 200 + "@example.com and " + "sk-" + "a" * 400,
        "(555)\t123-4567 and (555)\n123-4567 and 1 (555)\t123-4567",
        "version\n8.8.4.4 v: 8.8.4.4 ver=8.8.4.4 K8.8.4.4 \u212a 8.8.4.4",
        "token\n= aB3dE5fG7hJ9kL1mN3pQ and \u212aey: aB3dE5fG7hJ9kL1mN3pQ",
        "٣12.1.1.1 ١٢٣-٤٥٦-٧٨٩٠ 13912345678 ١٣٩١٢٣٤٥٦٧٨",
        "a@b.com#c@d.com a@@b.com @x.com a@x",
        "1234 5678 9012 3456 7890 1234 5678",
        "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * 9000 + "\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_find_pii_edge_cases_match_reference(text):
    for private in (False, True):
        expected = reference_find_pii(text, redact_private_ips=private)
        assert find_pii(text, redact_private_ips=private) == expected
        with _vectorised():
            assert find_pii(text, redact_private_ips=private) == expected


def test_find_pii_on_benchmark_documents_matches_reference():
    """The pathological benchmark's documents (50 KB versions), including dense PII in code."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "curate_pathological.py"
    spec = importlib.util.spec_from_file_location("curate_pathological", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for name, text in bench.documents(0.05).items():
        expected = reference_find_pii(text)
        assert find_pii(text) == expected, name
        with _vectorised():
            assert find_pii(text) == expected, name


def test_generated_truth_set_matches_reference():
    rng = random.Random(99)
    for _ in range(200):
        typ = rng.choice(TYPES)
        text = rng.choice(EN + ZH + CODE).format(v=make_pii(typ, rng)) + " " + make_lookalike(rng)
        expected = reference_find_pii(text)
        assert find_pii(text) == expected
        with _vectorised():
            assert find_pii(text) == expected


_TWINS = [
    (_R_IPV4, pii_module._F_IPV4, 0),
    (_R_IPV6, pii_module._F_IPV6, 0),
    (_R_PHONE_INTL, pii_module._F_PHONE_INTL, 0),
    (_R_PHONE_NA, pii_module._F_PHONE_NA, 0),
    (_R_PHONE_CN_MOBILE, pii_module._F_PHONE_CN_MOBILE, 0),
    (_R_PHONE_CN_LAND, pii_module._F_PHONE_CN_LAND, 0),
    (_R_ID, pii_module._F_ID, 0),
    (_R_CARD, pii_module._F_CARD, 0),
    *zip(_R_SECRETS[1:], pii_module._F_SECRETS, pii_module._F_SECRET_SHIFTS, strict=True),
]


@settings(max_examples=300, deadline=None)
@given(_pii_texts())
def test_fast_twins_match_reference_patterns(text):
    """Each twin (look-behind after the first character) finds the reference pattern's matches."""
    for ref, twin, shift in _TWINS:
        assert [(m.start() - shift, m.end()) for m in twin.finditer(text)] == [
            m.span() for m in ref.finditer(text)
        ], ref.pattern
    assign = [(m.start(), m.span(m.lastindex)) for m in _R_ASSIGN.finditer(text)]
    fast = sorted(
        (m.start(), m.span(m.lastindex or 1))
        for pattern in (pii_module._F_ASSIGN_COLON, pii_module._F_ASSIGN_EQUALS)
        for m in pattern.finditer(text)
    )
    assert fast == assign


def test_north_american_phone_across_a_tab_is_found():
    """A phone written "(555)<tab>123-4567" spans two digit runs; the old anchor windows cut "(555)" off."""
    text = "x (555)\t123-4567 y and (555)\n123-4567"
    assert [typ for _, _, typ in find_pii(text)] == ["PHONE", "PHONE"]
    big = ("call (555)\t123-4567 or 4111 1111 1111 1111 now\n" * 2000)[:100_000]
    assert sum(typ == "PHONE" for _, _, typ in find_pii(big)) == big.count("(555)\t123-4567")


def _dense_texts(rng: random.Random, size: int = 50_000) -> dict[str, str]:
    """Log-like dumps of PII-like tokens, repeated and random (the vectorised IPv4/IPv6/e-mail/assignment paths)."""

    def fill(make) -> str:
        parts: list[str] = []
        total = 0
        while total < size:
            parts.append(make())
            total += len(parts[-1])
        return "".join(parts)[:size]

    def octet() -> str:
        return str(
            rng.choice((rng.randint(0, 255), rng.choice((0, 1, 10, 127, 169, 172, 192, 198, 203, 255))))
        )

    seps = (" ", "\n", ".", ":", "=", "v", "-", "_", "a", "..", " v ", "ver=", "version: ", "\u212a", "1")
    ipv4 = (octet() for _ in iter(int, 1))
    # few distinct tokens of one length, valid and not (neighbours of equal length but other text)
    email_pool = [
        "ab@cd.ef",
        "abc@d.ef",
        "a@bcd.ef",
        "ab@cd.e1",
        "ab.@d.ef",
        "-a@cd.ef",
        "ab@c-.ef",
        "ab@@d.ef",
    ]
    ipv6_pool = ["2a01::1:2", "2a01::1:3", "fe80::1:2", "2a01:1:22", "2a01::1:g", "2a0::1:22", "::1:2:3:4"]
    return {
        "pooled_email": fill(lambda: rng.choice(email_pool) + rng.choice((" ", " ", "\n", ","))),
        "pooled_ipv6": fill(lambda: rng.choice(ipv6_pool) + rng.choice((" ", " ", "\n", ","))),
        "ipv4": ("8.8.8.8 " * size)[:size],
        "ipv6": ("2001:db8::1 " * size)[:size],
        "email": ("a@b.co " * size)[:size],
        "assign": ("api_key = aB3dE5fG7hJ9kL1mN3pQ\n" * size)[:size],
        "colons": ("a:b:c:d " * size)[:size],
        "random_ipv4": fill(
            lambda: ".".join(next(ipv4) for _ in range(rng.randint(3, 5))) + rng.choice(seps)
        ),
        "random_ipv6": fill(
            lambda: (
                ":".join(
                    rng.choice(("", f"{rng.randint(0, 65535):x}", "fe80", "0"))
                    for _ in range(rng.randint(2, 9))
                )
                + rng.choice(seps)
            )
        ),
        "random_email": fill(
            lambda: (
                _rand(rng, "ab.-_+", rng.randint(0, 6))
                + rng.choice(("@", "@@", ".@", "@-"))
                + _rand(rng, "xy.-", rng.randint(0, 5))
                + rng.choice((".com", ".c", ".io", ""))
                + rng.choice(seps)
            )
        ),
        "random_phones": fill(
            lambda: (
                rng.choice(("+1 ", "+44 ", "+", "+1234", "", "", "a", "-"))
                + rng.choice(("(", "", "(("))
                + str(rng.randint(1, 999))
                + rng.choice((") ", ")", ")\t", ")\u3000", ")?", "-", ".", " ", ")-"))
                + str(rng.randint(1, 99999))
                + rng.choice(("-", ".", " ", "", "--"))
                + str(rng.randint(1, 99999))
                + rng.choice(("\n", " ", "a", "_", ")", " (1", " 2", "-", ".", "x", "é", "?"))
            )
        ),
        "random_ipv6_compressed": fill(
            lambda: (
                rng.choice(
                    ("2001:db8", "2001", "2001:1", "fe80", "fd00", "ff02", "2a01", "64", "100", "", "0")
                )
                + rng.choice(("::", ":", ":::"))
                + ":".join(f"{rng.getrandbits(16):x}" for _ in range(rng.randint(0, 6)))
                + rng.choice(seps)
            )
        ),
        "random_assign": fill(
            lambda: (
                rng.choice(("api_key", "token", "x", "passwd", "secret_2"))
                + rng.choice((" = ", ":", "=>", "= '"))
                + _rand(rng, string.ascii_letters + string.digits + "+/=", rng.randint(10, 24))
                + rng.choice(seps)
            )
        ),
    }


def test_find_pii_on_dense_texts_matches_reference():
    """Dense and random IPv4/IPv6/e-mail/assignment dumps (~50 KB), both paths, against the reference."""
    for name, text in _dense_texts(random.Random(7)).items():
        for private in (False, True):
            expected = reference_find_pii(text, redact_private_ips=private)
            assert find_pii(text, redact_private_ips=private) == expected, name
            with _vectorised():
                assert find_pii(text, redact_private_ips=private) == expected, name


_HEXTETS = [
    "",
    "0",
    "1",
    "db8",
    "2001",
    "fe80",
    "FEBF",
    "fc00",
    "ff02",
    "ffff",
    "64",
    "100",
    "2002",
    "3fff",
    "12345",
]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(_HEXTETS), min_size=1, max_size=11),
    st.sampled_from(["", "%eth0", "%1"]),
    st.booleans(),
)
def test_ipv6_validator_matches_ipaddress(hextets, scope, private):
    """The parser-free IPv6 test (first hextet, then ``ipaddress`` only for special ranges) agrees with
    ``ipaddress`` on every colon-separated form."""
    value = ":".join(hextets) + scope
    assert pii_module._ipv6_ok(value, private) == _r_ipv6_ok("", 0, value, private), value


@pytest.mark.parametrize(
    "value",
    [
        "1:2:3:4::5:6:7:8", "1:2:3::5:6:7:8", "::1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
        "1:2:3:4:5:6:7:8::", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", ":1::2:3", "1::2:3:", "1::2::3", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9", "12345::1:2", "2001:db8::1", "fe80::1:2", "::ffff:1:2", "::ffff:a00:1", "ff02::1:2",
        "fd00::1:2", "2002::1:2", "abc::1:2", "::", "::1", "1:2::3%eth0",
    ],
)  # fmt: skip
def test_ipv6_validator_edge_cases(value):
    for private in (False, True):
        assert pii_module._ipv6_ok(value, private) == _r_ipv6_ok("", 0, value, private), value


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", ":", "::", "1", "g", " ", "ab", "\u212a", "é", "fe80", "0123456789abcdef" * 2]),
        max_size=40,
    )
)
def test_ipv6_anchors_match_the_anchor_pattern(pieces):
    """The vectorised IPv6 anchors are ``_IPV6_ANCHOR.finditer``'s matches."""
    text = "".join(pieces)
    b = np.frombuffer(text.encode("latin-1", "replace") + bytes(24), dtype=np.uint8)
    starts, ends = pii_module._ipv6_anchors(b, len(text))
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [
        m.span() for m in pii_module._IPV6_ANCHOR.finditer(text)
    ]


@pytest.mark.parametrize("gap", [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 72, 150])
def test_ipv6_anchors_across_long_hex_gaps(gap):
    """Gaps between colons read 8 flags at a time, past 64 characters by the next non-hex character."""
    texts = [
        ":" + "a" * gap + ":",
        ":" + "a" * gap + ":" + "b" * gap + "::1:",
        "x:" + "f" * max(gap - 1, 0) + "g:" + "1" * gap + ":",
        ":" + "0" * gap,
        ("1:" + "e" * gap) * 3 + ":",
    ]
    for text in texts:
        b = np.frombuffer(text.encode("latin-1") + bytes(24), dtype=np.uint8)
        starts, ends = pii_module._ipv6_anchors(b, len(text))
        expected = [m.span() for m in pii_module._IPV6_ANCHOR.finditer(text)]
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected, text


_VALUE_CHARS = string.ascii_letters + string.digits + "/+_-.~="


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aAbB1122/+.~=xyz"), min_size=16, max_size=40), max_size=80))
def test_vectorised_secret_value_test_matches_entropy(values):
    """Entropy, digit and letter tests in numpy agree with ``shannon_entropy`` (values at exactly 3.0 bits/char
    included)."""
    rng = random.Random(len(values))
    values += [
        "aabbccddeeff1122",
        "abcdefgh12345678",
        "aaaaaaaabbbbbbbb",
        "abcdefghabcdefgh",
        "1234567890123456",
    ]
    values += ["".join(rng.choices(_VALUE_CHARS, k=rng.randint(16, 40))) for _ in range(50)]
    assert pii_module._secret_values_ok(values) == [pii_module._secret_value_ok(v) for v in values]


def _plain_redact(text, spans, placeholders):
    """The plain splice: text between the spans, each span replaced by its type's placeholder."""
    ph = {**pii_module.PLACEHOLDERS, **placeholders}
    out, pos = [], 0
    for s, e, typ in spans:
        out += [text[pos:s], ph[typ]]
        pos = e
    return "".join(out) + text[pos:], Counter(typ for _, _, typ in spans)


@pytest.mark.parametrize("placeholders", [{}, {"EMAIL": "", "IP_ADDRESS": ""}, {"PHONE": "<電話>"}])
def test_redact_splice_matches_plain_splice(placeholders):
    """The numpy splice of many spans (ASCII text and placeholders) gives the plain splice's text and counts."""
    texts = list(_dense_texts(random.Random(3), 20_000).values())
    texts += ["a@b.co", "8.8.8.8", "x 8.8.8.8", "8.8.8.8 x", "é 8.8.8.8 a@b.co"]
    texts += ["\ud800 8.8.8.8 \U0001f600 a@b.co \udfff", "，".join(["13812345678"] * 50) + "😀"]
    with _vectorised():
        for text in texts:
            expected = _plain_redact(text, find_pii(text), placeholders)
            assert redact(text, placeholders=placeholders) == expected


_PHONE_PIECES = ["+", "+1 ", "(", ")", ") ", "555", "1", "12", "1234", "12345", "123456", "-", ".", " ", "\t"]
_PHONE_PIECES += ["\n", "a", "_", "?", "é", "\u3000", "\xa0", "+86", "555-123-4567", "(555) 123-4567"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PHONE_PIECES), max_size=50), st.booleans())
def test_vectorised_phone_matchers_match_reference(pieces, private):
    """The international and North-American phone patterns matched in numpy (greedy path, fixed shape) or by
    the regex where that is undecided find what the reference patterns find."""
    text = "".join(pieces)
    expected = reference_find_pii(text, ["PHONE"], private)
    with _vectorised():
        assert find_pii(text, ["PHONE"], private) == expected
        assert find_pii(text, redact_private_ips=private) == reference_find_pii(
            text, redact_private_ips=private
        )


@pytest.mark.parametrize(
    "text",
    [
        "(555)\u3000123-4567", "(555)\xa0123-4567", "(555)\u2003123-4567", "(555)?123-4567", "(555)\x85123-4567",
        "(555)\t123-4567", "(555)\n123.4567", "(555)  123-4567", "(555)123-4567-", "(555) 123-4567a",
        "555-123-4567", "555.123.4567_", "+1 (555) 555-1234", "+1 (555) 555-1234 5", "+1 (555) 555-1234a",
        "+1234 a", "+12 3 4 5 6 7 8 9", "+1(2)(3)", "+123456789012345678", "+1 2 3 4 5 6 7", "+1 -2", "+1 ((2",
        "+1 (555) 555-1234)", "+1 (555) 555-1234 (5", "+1.2.3.4.5.6.7.8", "+1 (555) 555-1234\u3000",
    ],
)  # fmt: skip
def test_vectorised_phone_matchers_edge_cases(text):
    for unit in (text, text + " "):
        dump = unit * 3 + "\n" + unit
        with _vectorised():
            assert find_pii(dump, ["PHONE"]) == reference_find_pii(dump, ["PHONE"]), dump


def _shapes_agree(shapes, spans_of, table, tokens):
    """``shapes`` settles a token only as ``spans_of`` would: one whole span, or none."""
    text = " ".join(tokens)
    mb = np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)
    edges = np.diff(table[mb].view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    whole, none = shapes(mb, starts, ends)
    assert not (whole & none).any()
    for s, e, w, z in zip(starts.tolist(), ends.tolist(), whole.tolist(), none.tolist(), strict=True):
        if w:
            assert spans_of(text[s:e]) == (0, e - s), text[s:e]
        if z:
            assert spans_of(text[s:e]) == (), text[s:e]
    return whole, none


_EMAIL_PIECES = [
    "a",
    "bc",
    "Z9",
    "1",
    ".",
    "..",
    "-",
    "@",
    "@@",
    "_",
    "+",
    "?",
    "é",
    "com",
    "io",
    "x1",
    "a-b",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_EMAIL_PIECES), min_size=1, max_size=12), max_size=20))
def test_email_shapes_match_token_emails(pieces):
    tokens = ["".join(p) for p in pieces] + [
        "ab.c@d-e.f1.com",
        "a@b.co",
        "x@y-.io",
        "x@y.c",
        "a.@b.io",
        "a@b..io",
    ]
    whole, _ = _shapes_agree(
        pii_module._email_shapes, pii_module._token_emails, pii_module._EMAIL_TOKEN, tokens
    )
    assert whole[-6:].tolist() == [True, True, False, False, False, False]


_V6_GROUPS = [
    "",
    "0",
    "1",
    "a",
    "db8",
    "2001",
    "fe80",
    "fc00",
    "FFFF",
    "64",
    "100",
    "2002",
    "3fff",
    "12345",
    "g",
    *("fbff", "fdff", "fe00", "fe7f", "febf", "fec0", "feff", "ff02"),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_V6_GROUPS), min_size=1, max_size=10), max_size=20), st.booleans())
def test_ipv6_shapes_match_token_ipv6(groups, private):
    rng = random.Random(len(groups))
    tokens = [":".join(g) for g in groups]
    tokens += [":".join(f"{rng.getrandbits(16):x}" for _ in range(8)) for _ in range(30)]
    tokens += [
        "1:2:3:4:5:6:7:8",
        "a:b:c:d:e:f:a:b",
        "1:2:3:4:5:6:7:8:9",
        ":1:2:3:4:5:6:7",
        "fd00:1:2:3:4:5:6:7",
    ]
    # every first group from just below fc00 on (fc00::/7, fe80::/10 and ff00::/8 are never personal)
    specials = [f"{h:x}:1:2:3:4:5:6:7" for h in range(0xFBF0, 0x10000, 8)]
    tokens += specials
    shapes = pii_module._ipv6_shapes_private if private else pii_module._ipv6_shapes
    whole, _ = _shapes_agree(
        shapes, lambda t: pii_module._token_ipv6(t, private), pii_module._IPV6_TOKEN, tokens
    )
    randoms = whole[-30 - 5 - len(specials) : -5 - len(specials)]
    assert randoms.sum() >= 20  # random full addresses are mostly settled as whole


_V6_COMPRESSED_FIRST = [
    "2001",
    "2001:db8",
    "2001:1",
    "2001:2",
    "2001:10",
    "fe80",
    "fd00",
    "ff02",
    "64",
    "100",
    "2002",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_V6_GROUPS), max_size=8),
            st.lists(st.sampled_from(_V6_GROUPS), max_size=8),
        ),
        max_size=20,
    ),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_compressed_ipv6_shapes_match_token_ipv6(halves, private, seed):
    """Tokens with "::" (anywhere, once or more, special ranges included) are settled only as ``_token_ipv6``
    (the regex, ``_ipv6_ok`` and ``ipaddress``) settles them."""
    rng = random.Random(seed)
    tokens = [":".join(left) + "::" + ":".join(right) for left, right in halves]
    for _ in range(40):
        left = [rng.choice(_V6_COMPRESSED_FIRST)] + [
            f"{rng.getrandbits(16):x}" for _ in range(rng.randint(0, 3))
        ]
        right = [f"{rng.getrandbits(rng.choice((4, 16))):x}" for _ in range(rng.randint(0, 7 - len(left)))]
        tokens.append(":".join(left) + "::" + ":".join(right))
    tokens += [f"{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}" for _ in range(20)]
    tokens += [
        "::1:2:3",
        "1:2:3::",
        ":::1:2",
        "1::2::3",
        "1:::2:3",
        "::ffff:1:2",
        "2001:db8::1:2",
        "fe80::1:2",
    ]
    tokens += ["1:2:3:4::5:6:7", "1:2:3:4::5:6:7:8", "::", "1::", "::1", "a::b:c", "a:b::c:d"]
    shapes = pii_module._ipv6_shapes_private if private else pii_module._ipv6_shapes
    whole, none = _shapes_agree(
        shapes, lambda t: pii_module._token_ipv6(t, private), pii_module._IPV6_TOKEN, tokens
    )
    assert (whole | none)[len(halves) : len(halves) + 60].sum() >= 50  # random compressed forms are settled


@pytest.mark.parametrize(
    "hi", [*sorted(pii_module._IPV6_EXACT_HI), 0x2001_0001_0000_0000, 0x2001_0DB8_0000_0000]
)
def test_ipv6_ranges_by_top_64_bits(hi):
    """Outside ``_IPV6_EXACT_HI`` an address's range test depends on its top 64 bits alone."""
    rng = random.Random(hi)
    verdicts = set()
    for lo in [0, 1, 2, 0xFFFF_0000_0001, 2**64 - 1, *(rng.getrandbits(64) for _ in range(50))]:
        ip = ipaddress.IPv6Address(hi << 64 | lo)
        verdicts.add(
            not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_private or ip.is_multicast)
        )
    if hi not in pii_module._IPV6_EXACT_HI:
        assert verdicts == {pii_module._ipv6_hi_personal(hi)}


def _exact_edges() -> list[int]:
    """Each start of a stretch of ``_IPV6_EXACT_RANGES`` with its neighbours, as full 128-bit addresses."""
    edges = []
    for hi, (starts, _) in pii_module._IPV6_EXACT_RANGES.items():
        for lo in starts.tolist():
            edges += [hi << 64 | max(lo - d, 0) for d in (-1, 0, 1)]
    return [a for a in edges if a < 1 << 128]


# top 64 bits of the exact ranges (zero, the IPv4-mapped ::ffff:0:0/96, the NAT64 64:ff9b::/96 ...) and near them
_V6_SPECIAL_HIGH = [
    "",
    "0",
    "0:0",
    "0:0:0:0",
    "64:ff9b",
    "64:ff9b:1",
    "2001:1",
    "2001:db8",
    "100",
    "fe80",
    "1",
]
_V6_LOW = ["", "0", "1", "2", "ffff", "FFFF", "fffe", "a", "7f00", "c0a8", "a00", "ac10", "e000", "ffff:ffff"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_V6_SPECIAL_HIGH),
            st.lists(st.sampled_from(_V6_LOW), max_size=5),
            st.lists(st.integers(0, 0xFFFF), max_size=4),
        ),
        max_size=30,
    ),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_ipv6_shapes_on_zero_or_special_top_bits_match_token_ipv6(parts, private, seed):
    """Addresses whose top 64 bits are zero or special ("::x", "::ffff:a:b", "64:ff9b::x:y", "::1", "::" ...),
    the low 64 bits of which may decide ``ipaddress``'s ranges, are all settled, and only as ``_token_ipv6`` (the
    regex, ``_ipv6_ok`` and ``ipaddress``) settles them."""
    rng = random.Random(seed)
    tokens = [high + "::" + ":".join([*low, *(f"{g:x}" for g in randoms)]) for high, low, randoms in parts]
    tokens += [
        "::" + ":".join(f"{rng.getrandbits(16):x}" for _ in range(rng.randint(1, 4))) for _ in range(60)
    ]
    tokens += [f"::ffff:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}" for _ in range(30)]
    tokens += [f"64:ff9b::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}" for _ in range(10)]
    tokens += [f"0:0:0:0:0:ffff:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}" for _ in range(10)]
    # every stretch edge of the exact ranges and its neighbours, compressed and in full
    edges = [ipaddress.IPv6Address(a) for a in _exact_edges()]
    tokens += [a.compressed for a in edges] + [a.exploded for a in edges]
    tokens += [
        "::1",
        "::",
        "::0:1",
        "::1:0",
        "::2",
        "0::1:2:3",
        "::ffff:7f00:1",
        "::ffff:c0a8:101",
        "::ffff:1:1",
    ]
    shapes = pii_module._ipv6_shapes_private if private else pii_module._ipv6_shapes
    whole, none = _shapes_agree(
        shapes, lambda t: pii_module._token_ipv6(t, private), pii_module._IPV6_TOKEN, tokens
    )
    # none is left to the per-token path: every token here is made of hex digits and colons
    assert (whole | none).all()


def test_ipv6_exact_ranges_match_ipaddress():
    """The stretch lookup gives ``ipaddress``'s verdict at every stretch edge, its neighbours and random low bits."""
    rng = random.Random(7)
    addresses = _exact_edges()
    for hi in pii_module._IPV6_EXACT_HI:
        addresses += [hi << 64 | rng.getrandbits(64) for _ in range(200)]
        addresses += [hi << 64 | 0xFFFF << 32 | rng.getrandbits(32) for _ in range(200)]
    hi = np.array([a >> 64 for a in addresses], dtype=np.uint64)
    lo = np.array([a & (1 << 64) - 1 for a in addresses], dtype=np.uint64)
    expected = [_r_ipv6_ok("", 0, ipaddress.IPv6Address(a).exploded, False) for a in addresses]
    personal, exact = pii_module._ipv6_exact_personal(hi, lo)
    assert exact.all()
    assert personal.tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.integers(1, 40))
def test_has_run_matches_the_longest_run(flags, length):
    """The doubling test for a run of ``length`` True flags agrees with the longest run counted one by one."""
    longest = max((len(r) for r in "".join("x" if f else " " for f in flags).split()), default=0)
    assert pii_module._has_run(np.array(flags, dtype=bool), length) == (longest >= length)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["1", "23", " ", "-", ".", "(", ")", "a", ":", "\n", "٣", "é", "中"]), max_size=40
    )
)
def test_digit_anchor_test_matches_the_anchor_pattern(pieces):
    """The numpy test for a digit anchor (long texts) agrees with the anchor pattern, past the regex's prefix."""
    text = "x" * (1 << 16) + "".join(pieces)
    b = np.frombuffer(text.encode("latin-1", "replace") + bytes(24), dtype=np.uint8)
    expected = pii_module._DIGIT_ANCHOR.search(text) is not None
    assert pii_module._has_digit_anchor(text, b) == expected


_ASSIGN_PIECES = [
    "=",
    "=>",
    ":",
    " ",
    "\t",
    "     ",
    "'",
    '"',
    "aB3dE5fG7hJ9kL1m",
    "x9",
    "/+_-.~",
    "==",
    ">",
    "\n",
    "é",
    "中",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ASSIGN_PIECES), max_size=40))
def test_vectorised_assignment_values_match_the_operator_patterns(pieces):
    """Operators and value spans from numpy agree with the ``_F_ASSIGN_*`` twins' matches."""
    text = "".join(pieces)
    b = np.frombuffer(text.encode("latin-1", "replace") + bytes(24), dtype=np.uint8)
    expected = sorted(
        (m.start(), *m.span(m.lastindex or 1))
        for pattern in (pii_module._F_ASSIGN_COLON, pii_module._F_ASSIGN_EQUALS)
        for m in pattern.finditer(text)
    )
    ops, starts, ends = pii_module._assignment_values(b, len(text))
    assert list(zip(ops.tolist(), starts.tolist(), ends.tolist(), strict=True)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_V6_GROUPS + _EMAIL_PIECES), min_size=1, max_size=10), max_size=20))
def test_shapes_on_copied_token_bytes_match_shapes_on_the_text(pieces):
    """Tokens that cover little of the text are shaped on a copy of their bytes: same masks."""
    text = " ... ".join(":".join(p) for p in pieces) + " " * 2000
    mb = np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)
    for shapes, table in (
        (pii_module._ipv6_shapes, pii_module._IPV6_TOKEN),
        (pii_module._email_shapes, pii_module._EMAIL_TOKEN),
    ):
        edges = np.diff(table[mb].view(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if not len(starts):
            continue
        direct = shapes(np.append(mb, np.zeros(8, dtype=np.uint8)), starts, ends)
        copied = pii_module._shapes_of(shapes, mb, starts, ends)
        assert [m.tolist() for m in copied] == [m.tolist() for m in direct]


def test_tokens_with_several_spans_among_plain_ones_match_reference():
    """Plain tokens (settled by shapes) mixed with tokens of two e-mails or odd IPv6 forms, in runs and not."""
    rng = random.Random(1)
    pool = ["a@b.co", "a@b.co#c@d.io", "x@y.com", "1:2:3:4:5:6:7:8", "1::2%eth0:3::4", "fe80::1", "a@b.co"]
    text = " ".join(rng.choice(pool) for _ in range(3000))
    with _vectorised():
        for private in (False, True):
            assert find_pii(text, redact_private_ips=private) == reference_find_pii(
                text, redact_private_ips=private
            )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["ab", "ab", "ac", "ba", "", "abc"]), min_size=1, max_size=40), st.integers(0, 3)
)
def test_same_as_previous_matches_plain_comparison(pool, seed):
    """Neighbour comparison (one pass at the median distance for many, byte gathers for the rest)."""
    rng = random.Random(seed)
    words = [rng.choice(pool) for _ in range(3000)]
    parts, starts, pos = [], [], 0
    for w in words:
        starts.append(pos)
        parts.append(w + rng.choice((" ", " ", " ", "  ")))
        pos += len(parts[-1])
    mb = np.frombuffer("".join(parts).encode(), dtype=np.uint8)
    starts = np.array(starts)
    ends = starts + np.array([len(w) for w in words])
    expected = [False] + [words[i] == words[i - 1] for i in range(1, len(words))]
    assert pii_module._same_as_previous(mb, starts, ends).tolist() == expected


_VENDOR_PIECES = [
    "A",
    "AKIA",
    "SIA",
    "KIA",
    "Iza",
    "gh",
    "p",
    "s",
    "_",
    "github",
    "pat_",
    "live_",
    "sk",
    "-",
    "xox",
    "b",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*_VENDOR_PIECES, "x", " ", "é", "中"]), max_size=40))
def test_vendor_anchors_match_the_anchor_pattern(pieces):
    """Vendor-token anchors found in numpy (long texts) are the anchor pattern's matches."""
    text = "".join(pieces)
    b = np.frombuffer(text.encode("latin-1", "replace") + bytes(24), dtype=np.uint8)
    starts, ends = pii_module._vendor_anchors(b, len(text))
    expected = [m.span() for m in pii_module._VENDOR_ANCHOR.finditer(text)]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected


def test_repetitive_digit_candidates_match_reference():
    """Digit candidates whose windows repeat (matched once per distinct window), from the text's first character,
    with a few lines that differ and a text that ends inside a window."""
    rng = random.Random(5)
    line = (
        "13812345678 +1 (555) 123-4567, 4111 1111 1111 1111; 11010519491231002X 010-12345678 555.123.4567\n"
    )
    lines = [line] * 700
    for i in rng.sample(range(700), 40):
        k = rng.randrange(len(line) - 1)
        lines[i] = line[:k] + rng.choice("0123456789 -+()xX") + line[k + 1 :]
    text = "".join(lines) + "+86 139 1234 56"
    with _vectorised():
        for private in (False, True):
            assert find_pii(text, redact_private_ips=private) == reference_find_pii(
                text, redact_private_ips=private
            )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 8), st.integers(0, 5)).map(
            lambda t: (t[0], t[0] + t[1], t[2])
        ),
        max_size=40,
        unique_by=lambda t: (t[0], t[1], t[2]),
    )
)
def test_vectorised_sweep_matches_plain_sweep(cands):
    """The numpy sweep (lone spans, pairs in numpy, larger groups in Python) is the plain sequential sweep."""
    found = []
    for p in range(6):
        mine = sorted((s, e) for s, e, q in cands if q == p)
        found.append(
            (
                np.array([s for s, _ in mine], dtype=np.int64),
                np.array([e for _, e in mine], dtype=np.int64),
                p,
            )
        )
    expected = pii_module._sweep_small(found)
    with _vectorised():
        starts, ends, prios = pii_module._sweep(found)
    got = (list(starts), list(ends), list(prios))
    assert [list(map(int, x)) for x in got] == [list(x) for x in expected]


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="ab", min_size=1, max_size=6), st.integers(1, 12), st.integers(0, 3))
def test_same_as_previous_on_overlapping_ranges(unit, length, seed):
    """Overlapping ranges (names before nearby operators): the same answer as comparing the strings."""
    rng = random.Random(seed)
    text = "".join(unit if rng.random() < 0.95 else "c" for _ in range(3000))
    mb = np.frombuffer(text.encode(), dtype=np.uint8)
    starts = np.arange(0, len(text) - length, max(1, len(unit) // 2))
    ends = starts + length
    expected = [False] + [
        text[s:e] == text[p:q]
        for s, e, p, q in zip(starts[1:], ends[1:], starts[:-1], ends[:-1], strict=True)
    ]
    assert pii_module._same_as_previous(mb, starts, ends).tolist() == expected


@st.composite
def _digit_texts(draw) -> str:
    """Card-, ID- and phone-like numbers (valid and invalid check digits, grouped or not, of many lengths) next
    to letters, digits, separators and punctuation."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    parts = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 10))
        if kind == 0:  # a valid card number of a network's length, maybe grouped by four
            prefix, length = rng.choice(
                [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("2720", 16), ("37", 15)]
            )
            prefix, length = rng.choice([(prefix, length), ("62", rng.randint(13, 19)), ("6011", 16)])
            card = _luhn_complete(prefix, length, rng)
            if rng.random() < 0.5:
                sep = rng.choice(" -")
                card = sep.join(card[i : i + 4] for i in range(0, len(card), 4))
            parts.append(card)
        elif kind == 1:  # a valid resident ID, maybe with a lower-case "x"
            parts.append(_cn_id(rng).replace("X", rng.choice("Xx")))
        elif kind == 2:  # an ID-like number: random date digits and check character
            parts.append(_rand(rng, string.digits, 17) + rng.choice("0123456789Xx"))
        elif kind == 7:  # an ID with a date at or past its limits, its check character right or wrong
            century = rng.choice(["17", "18", "19", "20", "21"])
            month = rng.choice(["00", "01", "09", "10", "12", "13", "20"])
            day = rng.choice(["00", "01", "09", "10", "19", "29", "30", "31", "32", "40"])
            body = _rand(rng, string.digits, 6) + century + _rand(rng, string.digits, 2) + month + day
            body += _rand(rng, string.digits, 3)
            checks = [c for c in "0123456789X" if cn_id_ok(body + c)]
            parts.append(body + (checks[0] if checks and rng.random() < 0.7 else rng.choice("0123456789Xx")))
        elif kind == 3:  # random digits of any length, grouped or not
            parts.append(_rand(rng, string.digits, rng.randint(1, 22)))
        elif kind == 4:  # four groups, the last of 1-9 digits, with a network prefix and a valid check
            sep = rng.choice(" -")
            first = rng.choice(["4", "35", "62", "65", "6011", ""])
            digits = first + _rand(rng, string.digits, 12 - len(first) + rng.randint(1, 9))
            if rng.random() < 0.5:
                digits = _luhn_complete(digits[:-1], len(digits), rng)
            parts.append(sep.join([digits[:4], digits[4:8], digits[8:12], digits[12:]]))
        elif kind == 5:  # Chinese mobiles, with "+86" / "86" and separators
            mobile = "1" + rng.choice("23456789") + _rand(rng, string.digits, 9)
            if rng.random() < 0.5:
                s1, s2 = rng.choice(["", " ", "-"]), rng.choice(["", " ", "-"])
                mobile = mobile[:3] + s1 + mobile[3:7] + s2 + mobile[7:]
            parts.append(rng.choice(["", "+86", "86", "+86 ", "86-", "+8", "+"]) + mobile)
        elif kind == 6:  # landlines
            parts.append(
                "0"
                + _rand(rng, string.digits, rng.randint(1, 4))
                + "-"
                + _rand(rng, string.digits, rng.randint(5, 10))
            )
        else:
            parts.append(rng.choice(["1", "0", "12", "86", "+86"]))
        # what follows a value: mostly a separator or punctuation, sometimes a letter or nothing
        parts.append(rng.choice([" ", " ", "\n", "-", "x", "X", "_", "+", ".", "a", "，", "é", "(", ")", ""]))
    return "".join(parts)


@settings(max_examples=500, deadline=None)
@given(_digit_texts(), st.booleans())
def test_vectorised_digit_matchers_match_reference(text, private):
    """Cards (Luhn, prefixes, lengths), resident IDs (birth date, MOD 11-2 check), Chinese mobiles and landlines
    matched and validated in numpy find what the reference patterns and validators find."""
    expected = reference_find_pii(text, redact_private_ips=private)
    with _vectorised():
        assert find_pii(text, redact_private_ips=private) == expected
        for typ in ("BANK_CARD", "ID_NUMBER", "PHONE"):
            assert find_pii(text, [typ], private) == reference_find_pii(text, [typ], private)


@pytest.mark.parametrize("seed", range(3))
def test_vectorised_digit_matchers_on_random_dumps(seed):
    """Dumps of random values, as in the timing documents, one per shape."""
    rng = random.Random(seed)
    dumps = [
        "\n".join(" ".join(str(rng.randint(1000, 9999)) for _ in range(4)) for _ in range(3000)),
        " ".join(str(rng.randint(10**15, 10**16 - 1)) for _ in range(3000)),
        " ".join(str(rng.randint(10**16, 10**17 - 1)) + rng.choice("0123456789Xx") for _ in range(3000)),
        "，".join("1" + rng.choice("3456789") + _rand(rng, string.digits, 9) for _ in range(3000)),
        " ".join(_cn_id(rng) for _ in range(1000))
        + " "
        + " ".join(_luhn_complete("4", 16, rng) for _ in range(1000)),
    ]
    for dump in dumps:
        assert find_pii(dump) == reference_find_pii(dump)


_V6_IMPURE_PIECES = [
    "1",
    "12",
    "fe80",
    "db8",
    ":",
    "::",
    ".",
    "T",
    "Z",
    "g",
    "_",
    "%",
    "%eth0",
    "?",
    "é",
    "x",
]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_V6_IMPURE_PIECES), min_size=1, max_size=12), max_size=20),
    st.booleans(),
)
def test_ipv6_shapes_of_impure_tokens_match_token_ipv6(pieces, private):
    """Tokens with characters other than hex digits and colons (timestamps, scopes, dotted tails) are settled
    as holding no address only where ``_token_ipv6`` finds none."""
    rng = random.Random(len(pieces))
    tokens = ["".join(p) for p in pieces]
    tokens += [
        f"12T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}Z"
        for _ in range(20)
    ]
    tokens += ["1:2:3.4", "fe80::1%eth0", "a.fe80::1", "x%fe80::1:2", "g1:2:3", "1:2.3:4:5", "T1::2", "?1::2"]
    tokens += ["2a00:1450::1.", "1:2:3:4:5:6:7:8.x", "2a00::1%x"]  # addresses before a dot or a scope
    ipv6_of = pii_module._token_ipv6_private if private else pii_module._token_ipv6
    shapes = pii_module._ipv6_shapes_private if private else pii_module._ipv6_shapes
    _, none = _shapes_agree(shapes, ipv6_of, pii_module._IPV6_TOKEN, tokens)
    assert none[len(pieces) : len(pieces) + 20].all()  # the timestamps
    assert not none[-3:].any()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(16, 64), st.integers(1, 40))
def test_vectorised_secret_values_of_one_length_match_entropy(seed, length, alphabet_size):
    """Values of one length (rows of one array) from alphabets of any size, permuted and repeated: the
    run-by-run entropy of the sorted rows agrees with ``shannon_entropy``."""
    rng = random.Random(seed)
    alphabet = rng.sample(_VALUE_CHARS, min(alphabet_size, len(_VALUE_CHARS)))
    values = ["".join(rng.choices(alphabet, k=length)) for _ in range(100)]
    values += ["".join(rng.sample(v, len(v))) for v in values[:20]] + values[:10]
    values += ["".join(rng.choices(alphabet, k=rng.randint(16, 64))) for _ in range(30)]
    assert pii_module._secret_values_ok(values) == [pii_module._secret_value_ok(v) for v in values]
