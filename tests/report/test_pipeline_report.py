"""The report of a real run: every stage (curate, dedup with decontamination, pack, mix, train) on a small
generated corpus through ``mixkit run``, so the report is checked against the files the stages really write."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

WORDS = [
    "data",
    "model",
    "token",
    "mixture",
    "channel",
    "stage",
    "plan",
    "shard",
    "filter",
    "quality",
    "language",
    "train",
    "loss",
    "epoch",
    "report",
    "source",
    "ledger",
    "sample",
    "corpus",
    "window",
    "batch",
]


def _doc(rng: random.Random, n_words: int) -> str:
    sentences = []
    while sum(len(s.split()) for s in sentences) < n_words:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def _write_corpus(root: Path) -> None:
    rng = random.Random(5)
    data = root / "data"
    data.mkdir()
    en = [{"id": f"en{i}", "text": _doc(rng, 80)} for i in range(160)]
    en += [{"id": f"en-dup{i}", "text": en[i]["text"]} for i in range(12)]  # exact duplicates
    en += [
        {"id": f"en-rep{i}", "text": "spam " * 200} for i in range(6)
    ]  # repetitive: gopher_repetition drops
    lines = [json.dumps(d) for d in en] + ['{"id": "broken", "text": "unterminated', '{"id": "notext"}']
    (data / "en.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # real Python: 40-line chunks of a few standard-library modules
    import inspect
    import json as json_module
    import textwrap

    code = []
    for module in (textwrap, json_module.decoder, json_module.encoder, inspect):
        lines = inspect.getsource(module).splitlines()
        for k in range(0, len(lines), 40):
            chunk = "\n".join(lines[k : k + 40]).strip()
            if len(chunk) > 200:
                code.append({"id": f"{module.__name__}:{k}", "text": chunk})
    (data / "code.jsonl").write_text("".join(json.dumps(d) + "\n" for d in code), encoding="utf-8")
    # a benchmark whose questions appear in two training documents
    bench = [
        {"question": " ".join(en[i]["text"].split()[:30]), "choices": ["a", "b"], "answer": 0}
        for i in (3, 40)
    ]
    (root / "bench.jsonl").write_text("".join(json.dumps(b) + "\n" for b in bench), encoding="utf-8")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([d["text"] for d in en + code], trainer=trainer)
    tok.save(str(root / "tokenizer.json"))


RECIPE = """\
name: tiny
workdir: run
seed: 11
sources:
  - {name: web, path: data/en.jsonl, id_field: id, channel: en}
  - {name: py, path: data/code.jsonl, id_field: id, channel: code}
curate:
  steps: [normalize, gopher_repetition]
dedup:
  steps:
    - exact
    - minhash
    - decontaminate: {benchmarks: [bench.jsonl]}
tokenizer: tokenizer.json
pack: {val_docs: 4}
mix:
  seq_len: 64
  total_tokens: 40960
  stages:
    - {name: main, tokens: "75%", ratios: {en: 0.6, code: 0.4}}
    - {name: anneal, ratios: {en: 0.5, code: 0.5}}
train:
  model:
    config: {architecture: llama, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
             num_attention_heads: 2, num_key_value_heads: 1}
  micro_batch_size: 4
  max_steps: 12
  log_every: 2
  val_every: 4
  val_batches: 1
  save_every: 0
  save_final: false
  tensorboard: false
  lr: 1.0e-2
  reweight: {method: ppl_trend, every: 4, step_size: 0.2, min_change: 0}
"""


@pytest.mark.slow
def test_report_of_a_real_run(tmp_path: Path, chromium_session: Any, keep_artifact_fn: Any) -> None:
    from mixkit.pipeline.run import run_recipe

    _write_corpus(tmp_path)
    (tmp_path / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
    outcome = run_recipe(tmp_path / "recipe.yaml")
    report = Path(outcome["report"])
    assert report == tmp_path / "run" / "report.html"
    page = report.read_text(encoding="utf-8")

    def section(key: str) -> str:
        m = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
        assert m, key
        return m.group(1)

    problems = re.findall(r"<li class='warn'>(.*?)</li>", page)
    # `mixkit run` writes ledger.json after curate; if it is not rebuilt after dedup the report says so and shows
    # the ledger rebuilt from stats/ instead. Any other problem is a mismatch between a stage and the report.
    assert all("is older than the stats of the last stage" in p for p in problems), problems
    assert "Not run" not in page
    cur = section("curation")
    for step in ("normalize", "gopher_repetition", "dedup.exact", "dedup.minhash", "dedup.decontaminate"):
        assert step in cur, step
    samples = section("samples")
    assert "dedup.exact" in samples and "spam spam" in samples
    assert "broken" in samples  # the malformed line, quarantined with its raw content
    dd = section("dedup")
    assert "clusters of near-duplicates" in dd or "No near-duplicate clusters" in dd
    hits = re.search(r"<td>bench</td>(.*?)</tr>", dd)  # the benchmark is named after its file
    assert hits and re.findall(r'class="num">(\d+)<', hits.group(1))[-2] != "0", dd
    mix = section("mix")
    assert "stage main" in mix and "stage anneal" in mix and "chars_per_token" in mix
    tr = section("training")
    assert "12 optimizer steps" in tr and "ppl_trend" in tr
    ledger = json.loads((tmp_path / "run" / "ledger.json").read_text())
    assert f"{ledger['input']:,}" in section("summary")
    # one plot per section input: funnel, reasons, clusters (if any), decontam, mix, chars/token, loss, val, weights
    plots = page.count('<img class="plot"')
    assert plots >= 8
    if chromium_session is not None:  # and a reader sees all of it
        chromium_session.assert_clean(chromium_session.inspect(report), plots=plots)
        keep_artifact_fn(
            chromium_session.screenshot(tmp_path / "run" / "report.png"), "report/pipeline-report.png"
        )
