"""Main-text extraction from HTML: Resiliparse (mixkit's reader) vs trafilatura, same pages, same run.

    python benchmarks/html_extract.py [--modules 150]

Pages are real HTML written by Python's own ``pydoc.HTMLDoc`` for standard-library modules (navigation bars,
tables, code); the reference text of each page is ``pydoc``'s plain-text rendering of the same module. For each
extractor it prints pages/s, MB/s and word-level recall/precision against the reference. Both run in one venv
under .cache/bench-html that this script creates (trafilatura is not a mixkit dependency). Last line: the speed
ratio resiliparse/trafilatura.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".cache" / "bench-html"

WORKER = r"""
import collections, json, pydoc, importlib, re, sys, time, warnings
warnings.filterwarnings("ignore")
names = sorted(m for m in sys.stdlib_module_names if not m.startswith("_") and m not in {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "ensurepip"})
pages, refs = [], []
for name in names:
    if len(pages) >= int(sys.argv[1]):
        break
    try:
        mod = importlib.import_module(name)
        html = pydoc.HTMLDoc().page(name, pydoc.HTMLDoc().docmodule(mod))
        ref = pydoc.plain(pydoc.TextDoc().docmodule(mod))
    except Exception:
        continue
    pages.append(html)
    refs.append(ref)

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
import trafilatura

def words(t):
    return collections.Counter(re.findall(r"\w+", t.lower()))

def score(outs):
    tp = fp = fn = 0
    for out, ref in zip(outs, refs):
        o, r = words(out or ""), words(ref)
        inter = sum((o & r).values())
        tp += inter; fp += sum(o.values()) - inter; fn += sum(r.values()) - inter
    return tp / max(1, tp + fp), tp / max(1, tp + fn)

res = {}
size = sum(len(p.encode()) for p in pages)
for name, fn in [("resiliparse", lambda h: extract_plain_text(HTMLTree.parse(h), main_content=True)),
                 ("trafilatura", lambda h: trafilatura.extract(h, include_comments=False, include_tables=True))]:
    t0 = time.perf_counter()
    outs = [fn(p) for p in pages]
    dt = time.perf_counter() - t0
    p, r = score(outs)
    res[name] = {"pages": len(pages), "seconds": dt, "mb": size / 1e6, "precision": p, "recall": r}
print(json.dumps(res))
"""


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        venv.create(VENV, with_pip=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "resiliparse", "trafilatura", "lxml_html_clean"],
            check=True,
        )
    return py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", type=int, default=150, help="number of stdlib modules rendered as pages")
    args = ap.parse_args()
    import json

    py = ensure_venv()
    out = subprocess.run(
        [str(py), "-c", WORKER, str(args.modules)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    for name, r in res.items():
        print(
            f"{name:12s} {r['pages']} pages, {r['mb']:.1f} MB: {r['pages'] / r['seconds']:.0f} pages/s, "
            f"{r['mb'] / r['seconds']:.2f} MB/s, word precision {r['precision']:.3f}, recall {r['recall']:.3f}"
        )
    ratio = res["trafilatura"]["seconds"] / res["resiliparse"]["seconds"]
    print(f"speed ratio resiliparse/trafilatura: {ratio:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
