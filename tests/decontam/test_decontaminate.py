import json
import random
import re
from pathlib import Path
from pydoc_data.topics import topics

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from mixkit.decontam.decontaminate import Decontaminate
from mixkit.decontam.ngrams import BenchmarkError, BenchmarkIndex, bench_names, item_text
from mixkit.dedup.stage import run_dedup
from mixkit.recipe.schema import Recipe
from mixkit.utils import loads

SCHEMA = pa.schema([(c, pa.string()) for c in ("id", "text", "channel", "source", "meta")])
ZH_CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研质"


def _sentences(keys):
    text = " ".join(topics[k] for k in keys)
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", text) if 14 <= len(s.split()) <= 30]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    root = tmp_path_factory.mktemp("decontam")
    keys = sorted(topics)
    held, clean_keys = keys[::3], [k for i, k in enumerate(keys) if i % 3]
    clean_text = " ".join(topics[k] for k in clean_keys)
    words = clean_text.split()
    clean = [" ".join(words[i : i + 150]) for i in range(0, len(words) - 150, 150)]

    # English MCQ: long questions from held-out prose, and short questions whose options are one word
    # pydoc repeats phrases across topics: keep only sentences sharing no 10-word window with the clean text
    # (checked with plain Python sets, independently of mixkit's tokenizer), so every match is a real injection
    def grams(t, n=10):
        w = re.findall(r"\w+", t.lower())
        return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}

    seen = grams(clean_text)
    sents = [s for s in _sentences(held) if not (grams(s) & seen)]
    rng.shuffle(sents)
    en = []
    for i, s in enumerate(sents[:150]):
        q = s if i % 2 else " ".join(s.split()[:8])  # every other item: 8-word question + 4 one-word options
        opts = rng.sample(["None", "True", "False", "list", "tuple", "dict", "int", "str", "bytes", "set"], 4)
        en.append({"question": q, "choices": opts, "answer": rng.randrange(4)})
    zh = []
    for _ in range(60):
        q = "".join(rng.choices(ZH_CHARS, k=rng.randint(16, 30))) + "？"
        zh.append(
            {
                "question": q,
                "choices": {L: "".join(rng.choices(ZH_CHARS, k=2)) for L in "ABCD"},
                "answer": "B",
            }
        )
    bench = root / "bench"
    bench.mkdir()
    (bench / "mmlu_like.jsonl").write_text("".join(json.dumps(x) + "\n" for x in en))
    pq.write_table(pa.Table.from_pylist(zh), bench / "ceval_like.parquet")
    zh_clean = ["".join(rng.choices(ZH_CHARS + "，。", k=300)) for _ in range(1500)]
    docs, injected = [], set()
    for i, t in enumerate(clean):
        docs.append({"id": f"en{i}", "text": t})
    for i, t in enumerate(zh_clean):
        docs.append({"id": f"zh{i}", "text": t})
    for j, item in enumerate(en):
        host = docs[rng.randrange(len(clean))]["text"][:400]
        opts = " ".join(f"({L}) {o}" for L, o in zip("ABCD", item["choices"], strict=True))
        docs.append(
            {
                "id": f"inj-en{j}",
                "text": f"{host}\nQuestion: {item['question']}\n{opts}\nAnswer: B\n{host[:200]}",
            }
        )
        injected.add(f"inj-en{j}")
    for j, item in enumerate(zh):
        opts = "\n".join(f"{L}. {o}" for L, o in item["choices"].items())
        docs.append(
            {"id": f"inj-zh{j}", "text": f"{zh_clean[j][:100]}\n题目：{item['question']}\n{opts}\n答案：B"}
        )
        injected.add(f"inj-zh{j}")
    rows = [{"id": d["id"], "text": d["text"], "channel": "mix", "source": "web", "meta": "{}"} for d in docs]
    path = root / "run/curated/mix/web-00000.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path, row_group_size=500)
    return root, injected, len(docs) - len(injected)


def _recipe(root, mode):
    r = Recipe.model_validate(
        {
            "name": "t",
            "workdir": f"run-{mode}",
            "sources": [{"name": "web", "path": "x/*.jsonl", "channel": "mix"}],
            "dedup": {
                "steps": [
                    {"decontaminate": {"benchmarks": ["bench/*.jsonl", "bench/*.parquet"], "mode": mode}}
                ]
            },
        }
    )
    r._base = root
    return r


def test_recall_and_false_positives(corpus):
    root, injected, n_clean = corpus
    import shutil

    shutil.copytree(root / "run/curated", root / "run-drop/curated", dirs_exist_ok=True)
    st = run_dedup(_recipe(root, "drop"))["mix"]
    dropped = {r["id"] for r in pq.read_table(root / "run-drop/dropped/dedup-mix.parquet").to_pylist()}
    en_inj = {i for i in injected if i.startswith("inj-en")}
    zh_inj = injected - en_inj
    assert len(dropped & en_inj) / len(en_inj) >= 0.95
    assert len(dropped & zh_inj) / len(zh_inj) >= 0.95
    fp = dropped - injected
    assert len(fp) / n_clean <= 0.001, sorted(fp)[:5]
    assert st["extra"]["decontam"]["mmlu_like"] >= 0.95 * len(en_inj)
    assert st["extra"]["decontam"]["ceval_like"] >= 0.95 * len(zh_inj)
    assert st["dropped"]["decontaminate"] == {"contaminated": len(dropped)}


def test_report_and_excise(corpus):
    import shutil

    root, _, _ = corpus
    for mode in ("report", "excise"):
        shutil.copytree(root / "run/curated", root / f"run-{mode}/curated", dirs_exist_ok=True)
        run_dedup(_recipe(root, mode))
    rep = {r["id"]: r for r in pq.read_table(root / "run-report/deduped/mix/web-00000.parquet").to_pylist()}
    assert len(rep) == len(pq.read_table(root / "run/curated/mix/web-00000.parquet"))
    assert "decontam" in loads(rep["inj-en1"]["meta"])
    exc = {r["id"]: r for r in pq.read_table(root / "run-excise/deduped/mix/web-00000.parquet").to_pylist()}
    text = exc["inj-en1"]["text"]
    assert "Question:" not in text and len(text) < len(rep["inj-en1"]["text"])


def test_item_text_joins_options_and_skips_labels():
    row = {"question": "Q?", "choices": {"label": ["A", "B"], "text": ["yes", "no"]}, "answer": "A"}
    assert item_text(row, "question", "choices", "answer", []) == "Q?\nyes\nno"
    row = {"question": "Q?", "choices": ["x", "y"], "answer": "a longer free answer"}
    assert item_text(row, "question", "choices", "answer", []).endswith("a longer free answer")


def test_missing_field_is_explained(tmp_path):
    (tmp_path / "b.jsonl").write_text(json.dumps({"prompt": "x"}) + "\n")
    with pytest.raises(BenchmarkError, match="question_field"):
        BenchmarkIndex.build(["b.jsonl"], tmp_path)
    with pytest.raises(BenchmarkError, match="matches no file"):
        BenchmarkIndex.build(["nope/*.jsonl"], tmp_path)
    (tmp_path / "c.jsonl").write_text("{not json\n")
    with pytest.raises(BenchmarkError, match=r"c.jsonl:1: not valid JSON"):
        BenchmarkIndex.build(["c.jsonl"], tmp_path)
    params = Decontaminate.Params(benchmarks=["b.jsonl"], mode="excise")
    assert (params.mode, params.ngram, params.excise_margin) == ("excise", 13, 200)
    with pytest.raises(ValidationError, match="mode"):
        Decontaminate.Params(benchmarks=["b.jsonl"], mode="erase")
    with pytest.raises(ValidationError, match="benchmarks"):
        Decontaminate.Params(benchmarks=[])


def test_bench_names_are_unique():
    assert bench_names([Path("/b/mmlu.jsonl"), Path("/b/arc.parquet")]) == ["mmlu", "arc"]
    assert bench_names([Path("/b/mmlu/test.jsonl"), Path("/b/arc/test.jsonl.gz")]) == [
        "mmlu/test",
        "arc/test",
    ]
    assert bench_names([Path("/b/x.jsonl"), Path("/b/x.parquet")]) == ["x.jsonl", "x.parquet"]
    assert bench_names([Path("/b/mmlu/test.jsonl"), Path("/b/mmlu/sub/test.jsonl")]) == ["test", "sub/test"]


Q1 = "which river flows through the ancient city that was once the capital of the northern kingdom"
Q2 = "what is the boiling point of water measured at sea level on the celsius temperature scale today"
HOST = "plain host sentence about gardening and weather in spring time with tulips and rain showers"


def _docs_shard(path, texts):
    rows = [
        {"id": f"d{i}", "text": t, "channel": "en", "source": "web", "meta": "{}"}
        for i, t in enumerate(texts)
    ]
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)


def _bench_recipe(root, patterns, mode="report"):
    r = Recipe.model_validate(
        {
            "name": "t",
            "workdir": "run",
            "sources": [{"name": "web", "path": "x/*.jsonl", "channel": "en"}],
            "dedup": {"steps": [{"decontaminate": {"benchmarks": patterns, "mode": mode}}]},
        }
    )
    r._base = root
    return r


def test_same_named_benchmarks_in_different_folders_stay_apart(tmp_path):
    for sub, q in (("mmlu", Q1), ("arc", Q2)):
        (tmp_path / "bench" / sub).mkdir(parents=True)
        (tmp_path / "bench" / sub / "test.jsonl").write_text(json.dumps({"question": q}) + "\n")
    _docs_shard(tmp_path / "run/curated/en/web-00000.parquet", [f"{HOST}. {Q1}", f"{HOST}. {Q2}", HOST, Q2])
    st = run_dedup(_bench_recipe(tmp_path, ["bench/*/test.jsonl"]))["en"]
    assert st["extra"]["decontam"] == {"arc/test": 2, "mmlu/test": 1}
    assert st["extra"]["decontam_items"] == {"arc/test": 1, "mmlu/test": 1}
    out = pq.read_table(tmp_path / "run/deduped/en/web-00000.parquet").to_pylist()
    metas = [loads(r["meta"]).get("decontam") for r in out]
    assert list(metas[0]) == ["mmlu/test"] and list(metas[1]) == ["arc/test"] and metas[2] is None


def test_an_ngram_shared_by_several_items_counts_every_item(tmp_path):
    # three items with the same question and different answers: the question's n-grams belong to all three
    items = [{"question": Q1, "choices": [c], "answer": None} for c in ("north", "south", "west")]
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench/quiz.jsonl").write_text("".join(json.dumps(x) + "\n" for x in items))
    index = BenchmarkIndex.build(["bench/quiz.jsonl"], tmp_path, answer=None)
    (matches,) = index.match([f"{HOST}. {Q1}"])
    assert {it for _, it, _, _ in matches} == {0, 1, 2}
    spans = {(s, e) for _, _, s, e in matches}
    assert len(matches) == 3 * len(spans)  # every matched n-gram once per item
    _docs_shard(tmp_path / "run/curated/en/web-00000.parquet", [f"{HOST}. {Q1}", HOST])
    st = run_dedup(_bench_recipe(tmp_path, ["bench/*.jsonl"]))["en"]
    assert st["extra"]["decontam_items"] == {"quiz": 3}
    assert st["extra"]["decontam"] == {"quiz": 1}
    meta = loads(pq.read_table(tmp_path / "run/deduped/en/web-00000.parquet").to_pylist()[0]["meta"])
    assert meta["decontam"] == {"quiz": len(spans)}  # distinct matched n-grams, not one per item
