"""Pack benchmark: (1) plan / stream index build rate for 64 sources, (2) tokenize+pack throughput against raw
``tokenizers`` ``encode_batch`` on the same texts and the same number of threads.

(1) A two-stage plan over 64 channels with random (Dirichlet) ratios and ``--sequences`` sequences is built
    (Pfair patterns, one period of ``mix.period`` sequences per stage) and every position is located
    (channel + channel-local sequence, ``Plan.locate``), then fully indexed (also epoch, document and offset the
    sequence starts at, ``Stream.index``) over synthetic token shards. Rates are sequences per second, goal
    >= 10M/s for the plan index. With ``--global-batch`` (default 1024) the same plan is also built batch-exact
    (``mix.global_batch``; the patterns are a backtracking search rather than one EDF pass) and indexed.
(2) The texts of ``--input`` (Parquet with a ``text`` column, JSONL with ``text`` (plain, .gz, .zst), or other files as
    plain text: one document per file) are tokenized (a) by ``Tokenizer.encode_batch`` in batches of ``--batch`` documents (the
    anchor), and (b) by ``mixkit.pack.stage.run_pack`` from curated Parquet shards to ``.bin/.idx`` (reading,
    EOS, held-out split, writing, stats included). Both use ``--threads`` tokenizer threads (RAYON_NUM_THREADS).
    Reported as MB of text per second, median of ``--reps`` repetitions in ABBA order. Last line: the
    median over repetitions of t(encode_batch) / t(pack), pack throughput as a fraction of encode_batch's
    (goal >= 0.90).

    python benchmarks/pack.py [--input 'data/*.parquet'] [--tokenizer tokenizer/] [--threads 2]

Without --input/--tokenizer it uses local text (pydoc topics + the standard library's source) and trains a
byte-level BPE (8,000 tokens) into .cache/bench_pack/.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def open_lines(path: str):
    """Lines of a JSONL file, plain, .gz or .zst."""
    if path.endswith(".gz"):
        import gzip

        with gzip.open(path, "rb") as fh:
            yield from fh
    elif path.endswith(".zst"):
        import io

        import zstandard

        with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as fh:
            yield from io.BufferedReader(fh)
    else:
        with open(path, "rb") as fh:
            yield from fh


def read_texts(pattern: str, limit_mb: float) -> list[str]:
    import orjson
    import pyarrow.parquet as pq

    texts: list[str] = []
    size = 0
    for path in sorted(glob.glob(pattern, recursive=True)):
        if path.endswith(".parquet"):
            new = pq.read_table(path, columns=["text"]).column("text").to_pylist()
        elif ".jsonl" in path or path.endswith(".json"):
            new = [orjson.loads(line)["text"] for line in open_lines(path) if line.strip()]
        else:
            new = [Path(path).read_text(encoding="utf-8", errors="replace")]
        for t in new:
            if t:
                texts.append(t)
                size += len(t.encode())
        if size > limit_mb * 1e6:
            break
    if not texts:
        sys.exit(f"--input {pattern!r} matched no text")
    return texts


def local_texts(limit_mb: float) -> list[str]:
    import pydoc_data.topics as topics
    import sysconfig

    texts = [p for t in topics.topics.values() for p in t.split("\n\n") if p.strip()]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    size = sum(len(t) for t in texts)
    for p in sorted(stdlib.glob("*.py")):
        if size > limit_mb * 1e6:
            break
        t = p.read_text(encoding="utf-8", errors="replace")
        texts.extend(t[i : i + 4000] for i in range(0, len(t), 4000))
        size += len(t)
    return texts


def curated_recipe(tmp: Path, tok_path: Path, texts: list[str], threads: int, batch: int):
    """A recipe whose workdir holds ``texts`` as one curated Parquet shard of channel/source ``bench``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mixkit.io.writers import DOC_SCHEMA
    from mixkit.recipe.schema import Recipe

    recipe = Recipe.model_validate(
        {
            "name": "bench",
            "sources": [{"name": "bench", "path": "raw.jsonl", "channel": "bench"}],
            "tokenizer": str(tok_path.resolve()),
            "pack": {"workers": threads, "batch_docs": batch},
        }
    )
    recipe._base = tmp
    shard = recipe.workdir_path / "curated" / "bench" / "bench-00000.parquet"
    shard.parent.mkdir(parents=True)
    n = len(texts)
    pq.write_table(
        pa.table(
            {
                "id": [str(i) for i in range(n)],
                "text": texts,
                "channel": ["bench"] * n,
                "source": ["bench"] * n,
                "meta": ["{}"] * n,
            },
            schema=DOC_SCHEMA,
        ),
        shard,
    )
    return recipe


def bench_index(
    n_channels: int,
    sequences: int,
    seq_len: int,
    period: int,
    docs_per_source: int = 500_000,
    global_batch: int | None = None,
) -> tuple[float, float, float]:
    import numpy as np

    from mixkit.mix.config import MixConfig
    from mixkit.mix.planner import build_plan
    from mixkit.mix.stream import Stream
    from mixkit.pack.indexed import write_index

    rng = np.random.default_rng(0)
    names = [f"s{i:02d}" for i in range(n_channels)]
    ratios = [rng.dirichlet(np.ones(n_channels)), rng.dirichlet(np.ones(n_channels) * 0.3)]
    half = sequences // 2 * seq_len
    cfg = MixConfig.model_validate(
        {
            "seq_len": seq_len,
            "max_epochs": 1e9,
            "period": period,
            "global_batch": global_batch,
            "stages": [
                {"name": "a", "tokens": half, "ratios": dict(zip(names, ratios[0].tolist(), strict=True))},
                {
                    "name": "b",
                    "tokens": sequences * seq_len - half,
                    "ratios": dict(zip(names, ratios[1].tolist(), strict=True)),
                },
            ],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        totals = []
        # Synthetic shards sized like the plan (about 1.3 epochs per source): 500k documents of 1..4,000 tokens
        # per source; the .bin files are sparse (only the index is real), so this needs no disk space.
        for name in names:
            lengths = rng.integers(1, 4000, size=docs_per_source)
            write_index(Path(tmp) / name, np.dtype(np.uint16), lengths)
            with open(Path(tmp) / f"{name}.bin", "wb") as fh:
                fh.truncate(int(lengths.sum()) * 2)
            totals.append(int(lengths.sum()))
        t0 = time.perf_counter()
        plan = build_plan(cfg, names, totals, seed=0)
        for s in plan.segments:
            _ = s.pattern, s._ranks
        t_build = time.perf_counter() - t0
        chunk = 1 << 22
        t0 = time.perf_counter()
        for a in range(0, plan.total_sequences, chunk):
            plan.locate_range(a, min(a + chunk, plan.total_sequences))
        t_locate = time.perf_counter() - t0
        stream = Stream(plan, tmp)
        for c in range(n_channels):  # first touch of each epoch's permutation is part of opening a stream
            stream.channel(c)
        t0 = time.perf_counter()
        for a in range(0, plan.total_sequences, chunk):
            stream.index(np.arange(a, min(a + chunk, plan.total_sequences)))
        t_index = time.perf_counter() - t0
    n = plan.total_sequences
    return n / (t_build + t_locate), n / t_locate, n / (t_build + t_index)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default=None, help="glob of Parquet/JSONL/txt files with the texts")
    ap.add_argument("--tokenizer", default=None, help="tokenizer folder or tokenizer.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1024, help="documents per encode_batch call")
    ap.add_argument("--limit-mb", type=float, default=8.0, help="text to read (MB)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sequences", type=int, default=20_000_000, help="plan length for the index benchmark")
    ap.add_argument("--sources", type=int, default=64)
    ap.add_argument(
        "--global-batch",
        type=int,
        default=1024,
        help="also index a batch-exact plan of this global batch (0: no)",
    )
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # before tokenizers starts its pool
    os.environ["TOKENIZERS_PARALLELISM"] = "true"

    from mixkit.pack.tokenizer import load_tokenizer, train_bpe

    # (1) plan / stream index
    plan_rate, locate_rate, stream_rate = bench_index(args.sources, args.sequences, 4096, 65536)
    print(
        f"plan index, {args.sources} sources, {args.sequences:,} sequences: {plan_rate / 1e6:.1f}M seq/s "
        f"(build + locate; locate alone {locate_rate / 1e6:.1f}M seq/s)"
    )
    print(f"stream index (+ epoch, document, offset): {stream_rate / 1e6:.1f}M seq/s")
    if args.global_batch:
        plan_rate, locate_rate, stream_rate = bench_index(
            args.sources, args.sequences, 4096, 65536, global_batch=args.global_batch
        )
        print(
            f"plan index, batch-exact (mix.global_batch {args.global_batch}): {plan_rate / 1e6:.1f}M seq/s "
            f"(build + locate; locate alone {locate_rate / 1e6:.1f}M seq/s); stream index {stream_rate / 1e6:.1f}M "
            "seq/s"
        )

    # (2) tokenize + pack vs encode_batch
    texts = read_texts(args.input, args.limit_mb) if args.input else local_texts(args.limit_mb)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    if args.tokenizer:
        tok_path = Path(args.tokenizer)
    else:
        tok_path = Path(".cache/bench_pack/tokenizer")
        if not (tok_path / "tokenizer.json").exists():
            train_bpe(texts[:5000], 8000, tok_path)
    tok = load_tokenizer(tok_path)
    print(
        f"texts: {len(texts):,} documents, {mb:.1f} MB; tokenizer {tok_path} ({tok.vocab_size:,} tokens); "
        f"threads {args.threads}"
    )

    from mixkit.pack.stage import run_pack

    def raw(fast: bool) -> float:
        fn = tok.tokenizer.encode_batch_fast if fast else tok.tokenizer.encode_batch
        t0 = time.perf_counter()
        n = 0
        for i in range(0, len(texts), args.batch):
            n += sum(len(e.ids) for e in fn(texts[i : i + args.batch], add_special_tokens=False))
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        recipe = curated_recipe(Path(tmp), tok_path, texts, args.threads, args.batch)
        raw(False)  # warm the thread pool and caches
        t_raw, t_fast, t_pack = [], [], []

        def pack_once() -> float:
            t0 = time.perf_counter()
            run_pack(recipe, force=True)
            return time.perf_counter() - t0

        for rep in range(args.reps):  # ABBA order, so drift of a shared machine hits both sides alike
            if rep % 2 == 0:
                t_raw.append(raw(False))
                t_pack.append(pack_once())
            else:
                t_pack.append(pack_once())
                t_raw.append(raw(False))
            t_fast.append(raw(True))
        from mixkit.utils import loads

        tokens = loads((recipe.workdir_path / "tokens" / "stats.json").read_bytes())["train"]["bench"][
            "tokens"
        ]
    r_raw, r_fast, r_pack = (mb / statistics.median(t) for t in (t_raw, t_fast, t_pack))
    paired = statistics.median(a / b for a, b in zip(t_raw, t_pack, strict=True))
    print(
        f"encode_batch: {r_raw:.2f} MB/s; encode_batch_fast: {r_fast:.2f} MB/s; "
        f"mixkit pack (parquet -> .bin/.idx, {tokens:,} tokens): {r_pack:.2f} MB/s "
        f"(median of {args.reps} repetitions each)"
    )
    print(
        f"per-repetition ratios pack/encode_batch: {', '.join(f'{a / b:.2f}' for a, b in zip(t_raw, t_pack, strict=True))}"
    )
    print(f"tokenize+pack throughput / raw tokenizers encode_batch: {paired:.2f}")


if __name__ == "__main__":
    main()
