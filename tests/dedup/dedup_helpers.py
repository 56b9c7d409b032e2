"""Helpers for dedup tests: curated-format Parquet shards and minimal recipes in tmp_path."""

from __future__ import annotations

import random
from pathlib import Path
from pydoc_data.topics import topics

from mixkit.io.writers import ParquetDocWriter
from mixkit.recipe.schema import Recipe
from mixkit.records import Document


def write_curated(workdir: Path, channel: str, source: str, shard: int, docs: list[dict]) -> Path:
    """Write docs (dicts with id, text and optional meta) as a curated shard, with the writer curate uses
    (small row groups, so passes that split work by row group get several)."""
    path = workdir / "curated" / channel / f"{source}-{shard:05d}.parquet"
    writer = ParquetDocWriter(path, rows_per_group=50)
    for d in docs:
        writer.write(Document(d["id"], d["text"], channel, source, d.get("meta", {})))
    writer.close()
    return path


def make_recipe(tmp_path: Path, steps: list, *, sources=("web",), channel="en", **dedup) -> Recipe:
    data = {
        "name": "t",
        "workdir": "run",
        "sources": [{"name": s, "path": "none/*.jsonl", "channel": channel} for s in sources],
        "dedup": {"steps": steps, **dedup},
    }
    r = Recipe.model_validate(data)
    r._base = tmp_path
    return r


def english_paragraphs(n: int, seed: int = 0, words: int = 120) -> list[str]:
    """n English passages: words drawn at random from Python's pydoc topics (a real vocabulary and word
    frequencies; unlike slices of the topics, which repeat paragraphs, two passages share no 5-gram)."""
    vocab = " ".join(topics[k] for k in sorted(topics)).split()
    rng = random.Random(seed)
    return [" ".join(rng.choices(vocab, k=words)) for _ in range(n)]


CHINESE = (
    "数据去重是预训练语料处理中的重要步骤。重复的文档会让模型记住特定的文本，降低泛化能力，并浪费计算资源。"
    "常见的方法包括精确去重、基于最小哈希的近似去重以及按行去重。中文文本没有空格分词，因此需要使用字符级别的"
    "n元组作为特征。继续预训练时，我们希望在保留原有知识的同时加入新的领域数据，比如医学、法律或者代码。"
    "评测集污染会导致评测结果虚高，所以需要在训练数据中删除与评测题目重叠的内容。春眠不觉晓，处处闻啼鸟。"
    "夜来风雨声，花落知多少。床前明月光，疑是地上霜。举头望明月，低头思故乡。白日依山尽，黄河入海流。"
)


def chinese_passages(n: int, seed: int = 0, chars: int = 150) -> list[str]:
    """n Chinese passages: random shuffles of sentences so they are distinct."""
    sents = [s + "。" for s in CHINESE.replace("，", "。").split("。") if s]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        rng.shuffle(sents)
        out.append("".join(sents)[:chars])
    return out


def mutate(text: str, rate: float, rng: random.Random, chars: bool = False) -> str:
    """Replace a fraction ``rate`` of the words (or characters, for Chinese) with new ones."""
    toks = list(text) if chars else text.split()
    for i in rng.sample(range(len(toks)), round(rate * len(toks))):
        toks[i] = rng.choice("鱼鸟虫兽花草木石") if chars else f"w{rng.randrange(10**9)}"
    return "".join(toks) if chars else " ".join(toks)
