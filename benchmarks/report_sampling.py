"""Cost of the report's dropped-document samples: two-pass sampling vs reading every dropped document.

The report shows a few dropped documents per (step, reason), chosen by a seeded hash of their id.
``mixkit.report.collect.sample_dropped`` reads only the small columns (id, step, reason) of every row group,
keeps a bounded heap per reason, then reads the text of just the row groups that hold a winner. The anchor is
the obvious approach: read the whole dropped table (text included) and pick the same samples from it. Both give
the same samples (checked). Figures: wall time and peak Arrow memory of each, in a fresh process each, on
synthetic dropped shards written like the curate stage writes them (zstd Parquet, 4096-row groups).
Last line: time ratio anchor / two-pass.

    python benchmarks/report_sampling.py [--docs 200000 --chars 2000 --reasons 12 --samples 3]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "data",
    "mixture",
    "token",
    "channel",
    "curate",
    "dedup",
    "shard",
    "filter",
    "quality",
    "language",
    "model",
    "loss",
    "train",
    "pack",
    "stage",
    "ratio",
    "epoch",
    "sample",
    "report",
    "ledger",
]


def write_shards(folder: Path, docs: int, chars: int, reasons: int, shards: int = 8) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mixkit.io.writers import DROPPED_SCHEMA

    rng = random.Random(0)
    # texts are windows at random offsets of one long random-word text (fast to make, realistic to compress)
    corpus = " ".join(rng.choice(WORDS) for _ in range(max(200_000, 4 * chars)))
    per = docs // shards
    total = 0
    for s in range(shards):
        rows = {k: [] for k in DROPPED_SCHEMA.names}
        for i in range(per):
            n = s * per + i
            off = rng.randrange(len(corpus) - chars)
            rows["id"].append(f"src/{n}")
            rows["text"].append(corpus[off : off + chars])
            rows["channel"].append(("en", "zh", "code")[n % 3])
            rows["source"].append("src")
            rows["meta"].append("{}")
            r = rng.randrange(reasons)
            rows["step"].append(f"step{r % 4}")
            rows["reason"].append(f"reason{r}")
        path = folder / f"src-{s:05d}.parquet"
        pq.write_table(pa.table(rows, schema=DROPPED_SCHEMA), path, row_group_size=4096, compression="zstd")
        total += path.stat().st_size
    return total


def run_two_pass(folder: str, samples: int) -> dict:
    import pyarrow as pa

    from mixkit.report.collect import sample_dropped

    t0 = time.perf_counter()
    got = sample_dropped(Path(folder), samples, 400, seed=1, problems=[])
    dt = time.perf_counter() - t0
    ids = sorted(s["id"] for g in got["groups"] for s in g["samples"])
    return {"seconds": dt, "peak_bytes": pa.default_memory_pool().max_memory(), "ids": ids}


def run_read_all(folder: str, samples: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import xxhash

    t0 = time.perf_counter()
    table = pq.read_table(folder, columns=["id", "text", "channel", "source", "step", "reason"])
    rows = table.to_pydict()
    groups: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for doc_id, text, step, reason in zip(
        rows["id"], rows["text"], rows["step"], rows["reason"], strict=True
    ):
        groups.setdefault((step, reason), []).append(
            (xxhash.xxh64_intdigest(f"1:{doc_id}".encode()), doc_id, text[:400])
        )
    picked = [doc_id for g in groups.values() for _, doc_id, _ in sorted(g)[:samples]]
    dt = time.perf_counter() - t0
    return {"seconds": dt, "peak_bytes": pa.default_memory_pool().max_memory(), "ids": sorted(picked)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--reasons", type=int, default=12)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--child", choices=["two_pass", "read_all"])
    ap.add_argument("--folder")
    args = ap.parse_args()
    if args.child:
        fn = run_two_pass if args.child == "two_pass" else run_read_all
        print(json.dumps(fn(args.folder, args.samples)))
        return
    with tempfile.TemporaryDirectory(prefix="mixkit-bench-report-") as tmp:
        size = write_shards(Path(tmp), args.docs, args.chars, args.reasons)
        print(
            f"dropped shards: {args.docs:,} documents of ~{args.chars:,} chars, {args.reasons} reasons, "
            f"{size / 1e6:.1f} MB on disk"
        )
        results = {}
        for mode in ("two_pass", "read_all"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--folder", tmp, "--samples", str(args.samples)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:9s}: {r['seconds']:.2f} s, peak Arrow memory {r['peak_bytes'] / 1e6:,.1f} MB")
        same = results["two_pass"]["ids"] == results["read_all"]["ids"]
        print(f"same samples: {same}")
        if not same:
            sys.exit("the two methods picked different samples")
        mem = results["read_all"]["peak_bytes"] / max(results["two_pass"]["peak_bytes"], 1)
        print(f"memory ratio read-all / two-pass: {mem:.1f}x")
        ratio = results["read_all"]["seconds"] / results["two_pass"]["seconds"]
        print(f"time ratio read-all / two-pass: {ratio:.2f}x")


if __name__ == "__main__":
    main()
