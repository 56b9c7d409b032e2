"""Peak memory of the curate stage on a 1x and a 4x input: streaming means the 4x run must not need more RAM.

    python benchmarks/curate_memory.py --input 'examples/quickstart/data/*/*.jsonl.gz' [--steps normalize]

The input (any JSONL / JSONL.gz / Parquet files) is copied once (1x) and four times (4x) as plain JSONL into a
temporary folder; `mixkit curate` runs on each in a subprocess while the peak RSS of its whole process tree
(sampled from /proc every 20 ms) and the largest single process (getrusage) are recorded. Last line: the ratio.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml


def _records(paths: list[str]):
    for path in paths:
        if path.endswith(".parquet"):
            import orjson

            for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    yield orjson.dumps(row, default=str)
        else:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as fh:
                for line in fh:
                    yield line.rstrip(b"\n")


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_once(folder: Path, copies: int, paths: list[str], steps: list[str], workers: int) -> dict:
    data = folder / f"x{copies}"
    data.mkdir(parents=True)
    n = 0
    with open(data / "input.jsonl", "wb") as out:
        for _c in range(copies):
            for line in _records(paths):
                out.write(line + b"\n")
                n += 1
    recipe = {
        "name": f"mem{copies}",
        "workdir": f"run{copies}",
        "sources": [{"name": "in", "path": f"x{copies}/*.jsonl", "channel": "en"}],
        "curate": {"workers": workers, "shard_size": "8MB", "steps": steps},
    }
    rp = folder / f"recipe{copies}.yaml"
    rp.write_text(yaml.safe_dump(recipe))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixkit.cli", "curate", str(rp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    th = threading.Thread(target=sample)
    th.start()
    proc.wait()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"mixkit curate failed on the {copies}x input (exit {proc.returncode})")
    return {
        "copies": copies,
        "records": n,
        "bytes": (data / "input.jsonl").stat().st_size,
        "seconds": time.perf_counter() - t0,
        "peak_tree_mb": peak[0] / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--input", default="examples/quickstart/data/*/*.jsonl.gz", help="glob of JSONL/Parquet files"
    )
    ap.add_argument("--steps", default="", help="comma-separated curate steps (default: none, reading only)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    paths = sorted(glob.glob(args.input, recursive=True))
    if not paths:
        raise SystemExit(
            f"--input {args.input!r} matches no file (build the quickstart with `mixkit data quickstart`)"
        )
    steps = [s for s in args.steps.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_once(Path(tmp), c, paths, steps, args.workers) for c in (1, 4)]
    for r in rows:
        print(
            f"{r['copies']}x input: {r['records']:,} records, {r['bytes'] / 1e6:.1f} MB, {r['seconds']:.1f} s, "
            f"peak RSS (process tree) {r['peak_tree_mb']:.0f} MB"
        )
    print(f"peak RSS ratio 4x/1x: {rows[1]['peak_tree_mb'] / rows[0]['peak_tree_mb']:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
