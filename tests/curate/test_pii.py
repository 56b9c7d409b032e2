"""PII redaction on a generated truth set: planted PII in English/Chinese prose and code, plus look-alikes."""

from __future__ import annotations

import random
import string
import uuid
from collections import Counter

import pytest

from mixkit.curate.pii import PII, TYPES, cn_id_ok, luhn_ok, redact
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
