"""Benchmark: seconds per pathological document in every curate step (goal: < 1 s per document per step).

datatrove 0.10.1's Gopher repetition filter spent 35 s on 200 KB of pure punctuation and 11 s on a 5 MB document
(quadratic affix loops and Python n-gram lists); mixkit's statistics are linear or n·log n. Documents:

- 200 KB of punctuation as one whitespace-free run, and as space-separated symbols
- 10 MB (the default size limit; --mb) of English prose (Python's documentation topics, repeated)
- the same size on one line (no newlines), of one repeated word, of unique random tokens, and of the prose's words
  shuffled (a realistic document that passes every check, so nothing stops early)
- at the same limit in UTF-8 bytes (3.3 M Han characters): Chinese without punctuation, and Chinese-like prose
- at the limit: code dense with PII (emails, IPs, phones, cards, IDs, keys on every line), and punctuation as one
  run and space-separated
- at the limit: log-like dumps made only of PII-like tokens (IPv4, IPv6, e-mails, key assignments, colon runs),
  one value repeated, and random IPv6 addresses and e-mails; JSON lines of random values (ids, e-mails, IPs);
  random numbers, compressed IPv6 addresses, phone numbers, Cyrillic and accented words with punctuation,
  upper-case tokens ending in ".", contractions, emoji, ª º µ, dash runs, typographic quotes, dashes and currency signs,
  Chinese clauses with Latin tokens: every chunk new, the case the per-chunk word split cache cannot help;
  millions of short lines; decomposed accents; control characters, zero-width spaces and CRLF; Traditional Chinese;
  digits outside ASCII, superscripts, Hangul; IPv6 addresses with a zero upper half, e-mails of unusual shapes,
  digit groups, card-like groups, 16-digit numbers, ID-like numbers, Chinese mobiles, key assignments, timestamps

Usage: python benchmarks/curate_pathological.py [--steps gopher_repetition,c4] [--repeat 3]
Times are CPU seconds of this process (time.process_time); with --repeat N each is the median of N runs on a fresh
document (the shared machine's noise is ±10 % on single runs). The first line is the machine's speed (a fixed
pure-Python loop), to compare figures across machines; the last line is the worst time of any step on any document,
in seconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time

from mixkit.pipeline.step import ShardContext, build_step
from mixkit.records import Document

# column -> (step, params): every curate step that reads a whole document (quality_classifier reads its first
# max_chars, url_filter and select only metadata)
STEPS = {
    "normalize": ("normalize", {}),
    "normalize_t2s": ("normalize", {"traditional_to_simplified": True}),
    "language": ("language", {"keep": ["en", "zh"], "code_channels": ["code"]}),
    "gopher_repetition": ("gopher_repetition", {}),
    "gopher_quality": ("gopher_quality", {}),
    "c4": ("c4", {}),
    "fineweb": ("fineweb", {}),
    "flagged_words": ("flagged_words", {}),
    "pii": ("pii", {}),
}


def _shuffled_words(prose: str, size: int, rng: random.Random) -> str:
    words = prose.split()
    out: list[str] = []
    total = 0
    while total < size:
        chunk = words[:]
        rng.shuffle(chunk)
        for i in range(0, len(chunk), 12):  # lines of 12 words, paragraphs of 6 lines
            line = " ".join(chunk[i : i + 12]) + ("\n\n" if (i // 12) % 6 == 5 else "\n")
            out.append(line)
            total += len(line)
    return "".join(out)[:size]


_CODE_PII = (
    "def f(x):\n    return {'email': 'a.b@example.com', 'ip': '8.8.8.8', 'v': '1.2.3.4'}  # 13812345678\n"
    "    card = '4111 1111 1111 1111'; key = 'AKIAIOSFODNN7EXAMPLE'  # +1 (555) 123-4567, 11010519491231002X\n"
)


_TRADITIONAL = "這個時候們說會來學國經過點開間發電話與實體專業網絡報導歷史當時後對於關係還東長門問題書"


def _chinese_prose(n_chars: int, rng: random.Random) -> str:
    """Chinese-like text: Zipf-distributed common Han characters in clauses of 4-12 ending in ，or 。."""
    common = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    weights = [1 / (i + 1) for i in range(len(common))]
    out: list[str] = []
    total = 0
    while total < n_chars:
        k = rng.randint(4, 12)
        out.append("".join(rng.choices(common, weights, k=k)) + rng.choice("，，，。"))
        total += k + 1
    return "".join(out)[:n_chars]


def _random_tokens(size: int, rng: random.Random, make) -> str:
    """Tokens drawn by ``make(rng)`` up to ``size`` bytes of UTF-8 (the size limit counts bytes: a non-ASCII
    document holds fewer characters)."""
    out: list[str] = []
    total = 0
    while total < size:
        tok = make(rng)
        out.append(tok)
        total += len(tok.encode())
    return "".join(out).encode()[:size].decode("utf-8", "ignore")  # "ignore": a character cut in two


def documents(big_mb: float = 10.0) -> dict[str, str]:
    from pydoc_data.topics import topics

    rng = random.Random(0)
    prose = "\n\n".join(topics[k] for k in sorted(topics))
    five_mb = int(big_mb * 1_000_000)  # the large documents: by default the size limit (max_record_bytes)
    mb = f"{big_mb:g}MB"
    punct = "!?.,;:-()[]{}'\"#*&%$@^~`|\\/<>=+_"
    docs = {
        "punct_200KB_one_run": "".join(rng.choice(punct) for _ in range(200_000)),
        "punct_200KB_spaced": " ".join(rng.choice(punct) * rng.randint(1, 3) for _ in range(80_000))[
            :200_000
        ],
        f"prose_{mb}": (prose * (five_mb // len(prose) + 1))[:five_mb],
        f"one_line_{mb}": (prose.replace("\n", " ") * (five_mb // len(prose) + 1))[:five_mb],
        f"same_word_{mb}": "spam " * (five_mb // 5),
        # a realistic large document that passes every check (shuffled prose words): nothing stops early
        f"shuffled_prose_{mb}": _shuffled_words(prose, five_mb, rng),
        f"unique_tokens_{mb}": " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(five_mb // 6 + 1)
        )[:five_mb],
        # the limit is in UTF-8 bytes: a Han character takes 3
        f"chinese_no_punct_{mb}": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(five_mb // 3)),
        f"chinese_prose_{mb}": _chinese_prose(five_mb // 3, rng),
        # Traditional Chinese (what normalize_t2s converts, character by character and phrase by phrase)
        f"chinese_traditional_{mb}": _random_tokens(
            five_mb, rng, lambda r: "".join(r.choices(_TRADITIONAL, k=r.randint(4, 12))) + r.choice("，，。")
        ),
        f"code_and_pii_{mb}": (_CODE_PII * (five_mb // len(_CODE_PII) + 1))[:five_mb],
        # log-like dumps made only of PII-like tokens, one value repeated and random values (the random IPv6 and
        # e-mail dumps are the known misses of the < 1 s goal in pii)
        f"pii_random_ipv6_{mb}": _random_tokens(
            five_mb, rng, lambda r: ":".join(f"{r.getrandbits(16):x}" for _ in range(8)) + " "
        ),
        f"pii_random_email_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=8)) + "@" + r.choice(("a.com", "b.org")) + " "
            ),
        ),
        # JSON lines of random values: every chunk new and wrapped in quotes, commas and braces
        f"json_random_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                f'{{"id": "{r.getrandbits(64):016x}", "user": "{"".join(r.choices(string.ascii_lowercase, k=7))}'
                f'@example.com", "ip": "{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.'
                f'{r.randint(1, 254)}", "ms": {r.randint(0, 99999)}}}\n'
            ),
        ),
        # more dumps of random values: numbers, compressed IPv6 addresses, North-American phone numbers, and
        # random Cyrillic words with punctuation (non-ASCII chunks, every one new)
        f"random_numbers_{mb}": _random_tokens(
            five_mb, rng, lambda r: str(r.randint(0, 10 ** r.randint(1, 12))) + r.choice(" \n")
        ),
        f"random_ipv6_compressed_{mb}": _random_tokens(
            five_mb, rng, lambda r: f"2001:db8::{r.getrandbits(16):x}:{r.getrandbits(16):x} "
        ),
        f"random_phones_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: f"+1 ({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}\n",
        ),
        f"random_cyrillic_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices("абвгдеёжзийклмнопрстуфхцчшщ", k=r.randint(3, 9)))
                + r.choice([",", ".", "", ""])
                + " "
            ),
        ),
        # random accented (Latin-1) words with punctuation, and random upper-case tokens ending in "."
        f"random_french_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices("abcdeéèàçôûîefghij", k=r.randint(3, 9)))
                + r.choice([",", ".", "", ""])
                + " "
            ),
        ),
        f"random_upper_dot_{mb}": _random_tokens(
            five_mb, rng, lambda r: "".join(r.choices("ABCDEFGHXYZ", k=r.randint(3, 9))) + ". "
        ),
        # chunks outside the whole-text split's fast classes, every one new: contractions and apostrophes,
        # emoji (outside the BMP), the letters ª º µ, dash runs
        f"random_apostrophes_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=r.randint(2, 8)))
                + r.choice(("'s", "n't", "'ll", "'", "'ab", "s'"))
                + " "
            ),
        ),
        f"random_emoji_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=r.randint(2, 8)))
                + chr(0x1F600 + r.randint(0, 79))
                + r.choice(("", "", "!", "x"))
                + " "
            ),
        ),
        f"random_ordinals_{mb}": _random_tokens(
            five_mb, rng, lambda r: "".join(r.choices("abcdeªºµ", k=r.randint(3, 9))) + " "
        ),
        f"random_dashes_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=r.randint(1, 6)))
                + "-" * r.randint(1, 4)
                + "".join(r.choices(string.ascii_lowercase, k=r.randint(1, 6)))
                + " "
            ),
        ),
        # typographic quotes, apostrophes and currency signs around random words; Chinese clauses with random
        # Latin tokens and numbers (a Chinese page, whose words mix characters and chunks)
        f"random_quotes_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                r.choice(
                    ("“{}”", "«{}»", "{}’s", "‘{}’,", "€{}", "{}。", "（{}）", "{}—", "{}…", "–{}")
                ).format("".join(r.choices(string.ascii_lowercase + "0123456789", k=r.randint(2, 8))))
                + " "
            ),
        ),
        f"chinese_random_latin_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(chr(r.randint(0x4E00, 0x4E00 + 500)) for _ in range(r.randint(4, 10)))
                + "".join(r.choices(string.ascii_letters + "0123456789-_.'", k=r.randint(2, 9)))
                + r.choice(("，", "。", " ", ""))
            ),
        ),
        # very many short lines (per-line rules: C4, FineWeb, Gopher's line ratios), decomposed accents (the
        # normal form composes them), and control characters, zero-width spaces and CRLF between words
        f"short_lines_{mb}": "a\n" * (five_mb // 2),
        f"short_paragraphs_{mb}": "a b c.\n\n" * (five_mb // 8),
        f"random_short_lines_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: "".join(r.choices(string.ascii_lowercase, k=r.randint(1, 5))) + r.choice(".!?,") + "\n",
        ),
        f"combining_accents_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(
                    r.choice("aeiouc") + r.choice("\u0301\u0300\u0308\u0327") for _ in range(r.randint(2, 6))
                )
                + " "
            ),
        ),
        f"controls_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=r.randint(2, 6)))
                + r.choice(["\r\n", "\x00", "\u200b", "\t", "  ", "\x0c"])
            ),
        ),
        # words with digits outside ASCII (fullwidth, Arabic-Indic, superscripts), Hangul words ending in "."
        f"random_fullwidth_digits_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(r.choices(string.ascii_lowercase, k=r.randint(2, 8)))
                + "".join(r.choices("０１２３４５６７８９٠١٢٣٤", k=r.randint(1, 4)))
                + " "
            ),
        ),
        f"random_superscripts_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: "".join(r.choices(string.ascii_lowercase, k=r.randint(2, 8))) + r.choice("²³¹") + " ",
        ),
        f"random_hangul_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                "".join(chr(r.randint(0xAC00, 0xD7A3)) for _ in range(r.randint(1, 5)))
                + r.choice(["", ".", ",", "다."])
                + " "
            ),
        ),
        # random card-like digit groups, 16-digit numbers, ID-like numbers, Chinese mobile numbers, key
        # assignments and timestamps: every PII candidate new
        f"pii_random_cards_{mb}": _random_tokens(
            five_mb, rng, lambda r: " ".join(str(r.randint(1000, 9999)) for _ in range(4)) + "\n"
        ),
        f"pii_random_digits16_{mb}": _random_tokens(
            five_mb, rng, lambda r: str(r.randint(10**15, 10**16 - 1)) + " "
        ),
        f"pii_random_cn_ids_{mb}": _random_tokens(
            five_mb, rng, lambda r: str(r.randint(10**16, 10**17 - 1)) + r.choice("0123456789X") + " "
        ),
        f"pii_random_cn_mobiles_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: "1" + r.choice("3456789") + "".join(r.choices("0123456789", k=9)) + "，",
        ),
        f"pii_random_keys_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: f"token = {''.join(r.choices(string.ascii_letters + string.digits, k=24))}\n",
        ),
        f"pii_random_timestamps_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
                f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999999):06d}Z "
            ),
        ),
        # PII look-alikes on the per-token paths: IPv6 addresses with a zero upper half, e-mails of unusual
        # shapes, digit groups with separators (dates, ranges, codes) that never repeat
        f"pii_ipv6_low_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: "::" + ":".join(f"{r.getrandbits(16):x}" for _ in range(r.randint(1, 4))) + " ",
        ),
        f"pii_email_odd_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                ".".join("".join(r.choices(string.ascii_lowercase, k=r.randint(1, 5))) for _ in range(2))
                + r.choice(("+tag", "_x", "-1", "%20", ""))
                + "@"
                + ".".join("".join(r.choices(string.ascii_lowercase, k=r.randint(2, 6))) for _ in range(3))
                + r.choice((" ", ", ", ">; "))
            ),
        ),
        f"digits_dense_{mb}": _random_tokens(
            five_mb,
            rng,
            lambda r: (
                r.choice("-/.: ").join(
                    str(r.randint(0, 10 ** r.randint(1, 5))) for _ in range(r.randint(2, 4))
                )
                + r.choice(" \n,;")
            ),
        ),
        **{
            f"pii_dense_{kind}_{mb}": (unit * (five_mb // len(unit) + 1))[:five_mb]
            for kind, unit in (
                ("ipv4", "8.8.8.8 "),
                ("ipv6", "2001:db8::1 "),
                ("email", "a@b.co "),
                ("assign", "api_key = aB3dE5fG7hJ9kL1mN3pQ\n"),
                ("colons", "a:b:c:d "),
            )
        },
        f"punct_{mb}_one_run": "".join(rng.choice(punct) for _ in range(five_mb)),
        f"punct_{mb}_spaced": " ".join(rng.choice(punct) * rng.randint(1, 3) for _ in range(five_mb // 3))[
            :five_mb
        ],
    }
    return docs


def _reference_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop: the figures below scale with it from one machine to another (the
    development machines have ranged from ~0.7 s to ~1.3 s)."""
    t0 = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated step names")
    ap.add_argument("--docs", default=None, help="comma-separated document names (default: all)")
    ap.add_argument(
        "--mb", type=float, default=10.0, help="size of the large documents (default: the 10 MB limit)"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per step and document; the median is shown")
    args = ap.parse_args()
    names = [s for s in args.steps.split(",") if s]
    docs = documents(args.mb)
    if args.docs:
        docs = {k: v for k, v in docs.items() if k in args.docs.split(",")}
    steps = {}
    for name in names:
        step_name, params = STEPS.get(name, (name, {}))
        steps[name] = build_step("step", step_name, params)
        steps[name].ensure_setup()
    worst = (0.0, "", "")
    print(
        f"machine speed: 10 M pure-Python additions take {_reference_seconds():.2f} s of CPU (compare machines)"
    )
    print(f"{'document':24s}" + "".join(f"{n:>18s}" for n in names))
    for doc_name, text in docs.items():
        row = []
        for name, step in steps.items():
            runs = []
            for _ in range(max(1, args.repeat)):
                doc = Document(id=doc_name, text=text)
                ctx = ShardContext()
                # CPU time: the shared machine's load does not inflate it as much as wall time
                t0 = time.process_time()
                list(step.run([doc], ctx))
                runs.append(time.process_time() - t0)
                del doc
            dt = statistics.median(runs)
            row.append(dt)
            if dt > worst[0]:
                worst = (dt, name, doc_name)
        print(f"{doc_name:24s}" + "".join(f"{x:17.3f}s" for x in row), flush=True)
    print(f"slowest: {worst[1]} on {worst[2]}")
    print(f"worst seconds per document per step: {worst[0]:.3f} (goal < 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
