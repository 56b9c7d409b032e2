"""Test data helpers shared by tests/pack and tests/mix: real text and curated-layout Parquet workdirs."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ZH = [
    "数据混合比例决定了继续预训练的效果。",
    "通用语料与领域语料的比例通常是九比一。",
    "模型在学习新知识时容易遗忘旧知识。",
    "中文和英文的比例保持一比一，代码数据不能丢弃。",
    "每个阶段的学习率需要重新预热。",
    "重复数据超过四个轮次以后收益迅速下降。",
    "分词器对中文的压缩率低于英文。",
    "长文档会被切分到多个训练序列中。",
    "验证集按通道划分，用于计算每个通道的困惑度。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
]


def corpus_texts(kind: str, n: int, seed: int = 0) -> list[str]:
    """``n`` real documents of one kind: ``en`` (pydoc topics), ``zh`` (sentences), ``code`` (stdlib source)."""
    rng = random.Random(f"{kind}-{seed}")
    if kind == "en":
        import pydoc_data.topics as topics

        paras = [p.strip() for t in topics.topics.values() for p in t.split("\n\n") if len(p.strip()) > 40]
        return [" ".join(rng.sample(paras, rng.randint(1, 4))) for _ in range(n)]
    if kind == "zh":
        return ["".join(rng.choices(ZH, k=rng.randint(1, 12))) for _ in range(n)]
    if kind == "code":
        import json
        import textwrap

        src = (
            Path(json.__file__).parent.joinpath("decoder.py").read_text()
            + Path(textwrap.__file__).read_text()
        )
        lines = src.splitlines()
        out = []
        for _ in range(n):
            a = rng.randrange(len(lines))
            out.append("\n".join(lines[a : a + rng.randint(1, 60)]) or "pass")
        return out
    raise ValueError(kind)


SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.large_string()),
        ("channel", pa.string()),
        ("source", pa.string()),
        ("meta", pa.string()),
    ]
)


def write_docs(root: Path, channel: str, source: str, texts: list[str], shard: int = 0) -> Path:
    """Write documents as a curated Parquet shard ``curated/<channel>/<source>-<shard>.parquet``."""
    path = root / "curated" / channel / f"{source}-{shard:05d}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = [f"{source}:{shard}:{i}" for i in range(len(texts))]
    table = pa.table(
        {
            "id": ids,
            "text": texts,
            "channel": [channel] * len(texts),
            "source": [source] * len(texts),
            "meta": ["{}"] * len(texts),
        },
        schema=SCHEMA,
    )
    pq.write_table(table, path, row_group_size=64)
    return path


def make_recipe(
    tmp_path: Path,
    tokenizer_dir: Path,
    docs: dict[str, dict[str, list[str]]],
    mix: dict[str, Any] | None = None,
    pack: dict[str, Any] | None = None,
    seed: int = 1234,
    name: str = "t",
):
    """A Recipe whose workdir (tmp_path/runs/<name>) holds ``docs`` as curated shards."""
    from mixkit.recipe.schema import Recipe

    sources = [
        {"name": s, "path": f"raw/{s}.jsonl", "channel": c} for c, by_src in docs.items() for s in by_src
    ]
    data: dict[str, Any] = {"name": name, "seed": seed, "sources": sources, "tokenizer": str(tokenizer_dir)}
    if mix is not None:
        data["mix"] = mix
    if pack is not None:
        data["pack"] = pack
    recipe = Recipe.model_validate(data)
    recipe._base = tmp_path
    root = recipe.workdir_path
    for c, by_src in docs.items():
        for s, texts in by_src.items():
            write_docs(root, c, s, texts)
    return recipe
