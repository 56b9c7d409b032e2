"""Benchmark: mixkit's heuristic chain vs datatrove 0.10.1 on the same documents.

Chain (both tools, same thresholds = the published English defaults): gopher_repetition -> gopher_quality -> c4
-> fineweb. datatrove runs in its own venv (created here under .cache/bench-venv with datatrove==0.10.1 and spacy)
in a subprocess over the same JSONL; both sides time only the filtering, one process each (so docs/s is per core).

Usage:
    python benchmarks/curate_filters.py [--input 'data/*.jsonl'] [--limit N]

With no --input, a default English sample is built from Python's own documentation: the pydoc topics (prose with
code examples), module docstrings of the standard library, and a slice of stdlib sources (code, which the
filters mostly drop). Prints docs/s per core for each tool, the share of documents with the same keep/drop
decision, and as the last line the speed ratio mixkit/datatrove.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "bench-venv"

DATATROVE_RUNNER = r"""
import json, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter
docs = [json.loads(l) for l in open(sys.argv[1])]
chain = [("gopher_repetition", GopherRepetitionFilter()), ("gopher_quality", GopherQualityFilter()),
         ("c4", C4QualityFilter()), ("fineweb", FineWebQualityFilter())]
# warm up: load spaCy's English tokenizer before timing
for _, f in chain:
    try:
        f.filter(Document(text="Warm up the tokenizer. It is loaded lazily.\nSecond line here.", id="w"))
    except Exception:
        pass
out = []
t0 = time.process_time()
for d in docs:
    doc = Document(text=d["text"], id=str(d["id"]))
    verdict = "keep"
    for name, f in chain:
        try:
            r = f.filter(doc)
        except Exception as e:  # datatrove raises on some inputs (e.g. no words); count as a drop
            verdict = f"{name}:error_{type(e).__name__}"
            break
        if r is not True and not (isinstance(r, tuple) and r[0]):
            verdict = f"{name}:{r[1] if isinstance(r, tuple) else 'drop'}"
            break
    out.append(verdict)
elapsed = time.process_time() - t0
json.dump({"seconds": elapsed, "verdicts": out}, open(sys.argv[2], "w"))
"""


def ensure_venv() -> Path:
    """Create the benchmark venv with datatrove 0.10.1 and spacy (once)."""
    py = VENV / "bin" / "python"
    if py.exists():
        ok = subprocess.run([str(py), "-c", "import spacy, datatrove.pipeline.filters"], capture_output=True)
        if ok.returncode == 0:
            return py
    print(f"creating {VENV} with datatrove==0.10.1 and spacy ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "datatrove==0.10.1", "spacy", "regex"], check=True)
    return py


def default_sample(limit: int) -> list[dict]:
    """English documents from Python's own docs: pydoc topics, stdlib docstrings, some stdlib source files."""
    import importlib
    import pkgutil
    import warnings

    warnings.simplefilter("ignore")

    from pydoc_data.topics import topics

    docs: list[dict] = []
    for key in sorted(topics):
        # pydoc topics are long; cut each into documents of about 2,000 characters at paragraph boundaries
        buf: list[str] = []
        for i, para in enumerate(topics[key].split("\n\n")):
            buf.append(para)
            if sum(map(len, buf)) >= 2000:
                docs.append({"id": f"topic/{key}/{i}", "text": "\n\n".join(buf)})
                buf = []
        if buf:
            docs.append({"id": f"topic/{key}/end", "text": "\n\n".join(buf)})
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = {
        "antigravity",
        "this",
        "idlelib",
        "test",
        "tkinter",
        "turtle",
        "turtledemo",
        "lib2to3",
        "ensurepip",
    }
    for mod in sorted(m.name for m in pkgutil.iter_modules([str(stdlib)])):
        if mod in skip or mod.startswith("_"):
            continue
        try:
            m = importlib.import_module(mod)
        except Exception:
            continue
        # one document per module: its docstring and its public objects' docstrings, as paragraphs
        parts = [m.__doc__ or ""]
        for name, obj in sorted(vars(m).items()):
            doc = getattr(obj, "__doc__", None) if not name.startswith("_") else None
            if isinstance(doc, str) and getattr(obj, "__module__", None) == mod:
                parts.append(doc)
        text = "\n\n".join(p.strip() for p in parts if p and p.strip())
        if text:
            docs.append({"id": f"doc/{mod}", "text": text})
    for path in sorted(stdlib.glob("*.py")):
        docs.append({"id": f"src/{path.name}", "text": path.read_text(encoding="utf-8", errors="replace")})
    docs = [d for d in docs if d["text"].strip()]
    return docs[:limit]


def read_inputs(pattern: str, limit: int, field: str) -> list[dict]:
    docs: list[dict] = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if path.endswith((".jsonl", ".json", ".jsonl.gz")):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                for i, line in enumerate(fh):
                    if line.strip():
                        try:
                            rec = json.loads(line)
                        except ValueError:
                            continue
                        if isinstance(rec, dict) and isinstance(rec.get(field), str) and rec[field].strip():
                            docs.append({"id": str(rec.get("id", f"{path}:{i}")), "text": rec[field]})
        else:
            docs.append({"id": path, "text": Path(path).read_text(encoding="utf-8", errors="replace")})
        if len(docs) >= limit:
            break
    return docs[:limit]


def run_mixkit(docs: list[dict]) -> tuple[float, list[str]]:
    from mixkit.curate.heuristics import C4, FineWeb, GopherQuality, GopherRepetition
    from mixkit.pipeline.step import ShardContext
    from mixkit.records import Document

    chain = [
        GopherRepetition({"lang": "en"}),
        GopherQuality({"lang": "en"}),
        C4({"lang": "en"}),
        FineWeb({"lang": "en"}),
    ]
    ctx = ShardContext()
    ctx.keep_dropped = False
    for step in chain:
        step.ensure_setup()
    out = []
    t0 = time.process_time()
    for d in docs:
        doc = Document(id=d["id"], text=d["text"])
        verdict = "keep"
        for step in chain:
            r = step.keep(doc, ctx)
            if r is not True:
                verdict = f"{step.name}:{r}"
                break
        out.append(verdict)
    return time.process_time() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", help="glob of JSONL (text field) or text files; default: Python docs sample")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--limit", type=int, default=3000, help="at most this many documents")
    ap.add_argument("--show", type=int, default=10, help="print this many disagreements")
    args = ap.parse_args()

    docs = read_inputs(args.input, args.limit, args.text_field) if args.input else default_sample(args.limit)
    if not docs:
        print("no documents found", file=sys.stderr)
        return 1
    n_chars = sum(len(d["text"]) for d in docs)
    print(f"documents: {len(docs)}  ({n_chars / 1e6:.1f} M characters)")
    py = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "docs.jsonl")
        with open(inp, "w", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        runner = os.path.join(tmp, "run_datatrove.py")
        Path(runner).write_text(DATATROVE_RUNNER)
        res = os.path.join(tmp, "res.json")
        subprocess.run([str(py), runner, inp, res], check=True)
        dt = json.loads(Path(res).read_text())
    mk_seconds, mk = run_mixkit(docs)
    dt_seconds, dtv = dt["seconds"], dt["verdicts"]

    same = sum((a == "keep") == (b == "keep") for a, b in zip(mk, dtv, strict=True))
    same_reason = sum(a == b for a, b in zip(mk, dtv, strict=True))
    from collections import Counter

    print(f"kept: mixkit {mk.count('keep')}  datatrove {dtv.count('keep')}")
    print("first failing step (mixkit):", dict(Counter(v.split(":")[0] for v in mk).most_common()))
    print(f"datatrove 0.10.1: {len(docs) / dt_seconds:9.1f} docs/s per core  ({dt_seconds:.2f} s CPU)")
    print(f"mixkit          : {len(docs) / mk_seconds:9.1f} docs/s per core  ({mk_seconds:.2f} s CPU)")
    print(
        f"agreement on keep/drop: {same / len(docs):.4f}  ({same}/{len(docs)}); same step+reason: "
        f"{same_reason / len(docs):.4f}"
    )
    shown = 0
    for d, a, b in zip(docs, mk, dtv, strict=True):
        if (a == "keep") != (b == "keep") and shown < args.show:
            print(f"  differs: {d['id']}: mixkit={a} datatrove={b}")
            shown += 1
    print(f"speed ratio mixkit/datatrove: {dt_seconds / mk_seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
