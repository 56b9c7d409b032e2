"""quality_classifier: train -> save -> load -> identical scores; CLI; English and Chinese; tag then select."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from mixkit.cli import main as cli_main
from mixkit.curate.classifier import ClassifierConfig, LinearClassifier, QualityClassifier, featurize
from mixkit.curate.select import Select
from mixkit.errors import MixkitError
from mixkit.pipeline.step import ShardContext
from mixkit.records import Document

PRODUCTS = ["cheap watches", "phone cases", "car insurance", "diet pills", "hotel deals", "loans", "sneakers"]
CITIES = ["London", "Paris", "Boston", "Berlin", "Tokyo", "Sydney"]
ZH_SPAM = ["限时抢购", "点击领取", "免费注册", "加微信", "优惠券", "全场包邮", "最低价", "秒杀"]
ZH_MENU = ["首页", "新闻", "体育", "财经", "娱乐", "登录", "注册", "联系我们", "关于我们", "下载客户端"]


def spam_en(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(4, 10)):
        kind = rng.randrange(3)
        p, c = rng.choice(PRODUCTS), rng.choice(CITIES)
        if kind == 0:
            lines.append(f"BEST {p.upper()} in {c}!!! Click here >> buy {p} now, {p} sale, {p} {c}")
        elif kind == 1:
            lines.append(
                " | ".join(rng.sample(["Home", "Login", "Cart", "Contact", "Sitemap", "FAQ", "Deals"], 5))
            )
        else:
            lines.append(
                f"We use cookies. Accept all cookies to continue. {p} {c} {rng.randint(1, 999)}% off"
            )
    return "\n".join(lines)


def spam_zh(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(4, 10)):
        if rng.random() < 0.5:
            lines.append(" ".join(rng.sample(ZH_MENU, 6)))
        else:
            lines.append("".join(rng.choices(ZH_SPAM, k=5)) + "！！！" + str(rng.randint(100, 999)) + "元")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus(en_paragraphs, zh_paragraphs):
    rng = random.Random(7)
    zh_pos = []
    for _ in range(60):
        zh_pos.append("".join(rng.sample(zh_paragraphs, rng.randint(1, 2))))
    pos = en_paragraphs[:200] + zh_pos
    neg = [spam_en(rng) for _ in range(200)] + [spam_zh(rng) for _ in range(60)]
    return pos, neg


def test_featurize_chinese_character_ngrams():
    cfg = ClassifierConfig(dim=1 << 16)
    idx, val = featurize("数据清洗", cfg)
    # 4 character unigrams + 3 character bigrams, L2-normalised
    assert len(idx) == 7
    assert np.isclose(float((val * val).sum()), 1.0, atol=1e-6)
    idx_en, _ = featurize("data cleaning matters", cfg)
    assert len(idx_en) == 5  # 3 word unigrams + 2 word bigrams


def test_train_save_load_same_scores(corpus, tmp_path, en_paragraphs, zh_paragraphs):
    pos, neg = corpus
    model = LinearClassifier.train(pos, neg, ClassifierConfig(dim=1 << 18), epochs=4, seed=3)
    assert model.cfg.metrics["holdout_accuracy"] >= 0.95
    model.save(tmp_path / "clf")
    loaded = LinearClassifier.load(tmp_path / "clf")
    probe = en_paragraphs[200:230] + zh_paragraphs + [spam_en(random.Random(99)), spam_zh(random.Random(98))]
    assert [model.score(t) for t in probe] == [loaded.score(t) for t in probe]
    # retraining with the same seed gives byte-identical weights
    again = LinearClassifier.train(pos, neg, ClassifierConfig(dim=1 << 18), epochs=4, seed=3)
    assert np.array_equal(again.weights, model.weights) and again.bias == model.bias
    # unseen prose scores high, unseen spam low, in both languages
    assert np.mean([loaded.score(t) for t in en_paragraphs[200:260]]) > 0.7
    assert loaded.score(spam_en(random.Random(5))) < 0.3
    assert loaded.score(spam_zh(random.Random(6))) < 0.3


def test_cli_and_step_then_select(corpus, tmp_path, zh_paragraphs):
    pos, neg = corpus
    (tmp_path / "pos").mkdir()
    with open(tmp_path / "pos" / "a.jsonl", "w", encoding="utf-8") as fh:
        for t in pos:
            fh.write(json.dumps({"content": t}, ensure_ascii=False) + "\n")
    (tmp_path / "neg").mkdir()
    for i, t in enumerate(neg):
        (tmp_path / "neg" / f"{i}.txt").write_text(t, encoding="utf-8")
    rc = cli_main(
        [
            "train-classifier",
            "--positive",
            str(tmp_path / "pos" / "*.jsonl"),
            "--negative",
            str(tmp_path / "neg" / "*.txt"),
            "--out",
            str(tmp_path / "model"),
            "--text-field",
            "content",
            "--dim",
            str(1 << 18),
        ]
    )
    assert rc == 0
    cfg = json.loads((tmp_path / "model" / "config.json").read_text())
    assert cfg["dim"] == 1 << 18 and cfg["metrics"]["train_docs"] > 0

    step = QualityClassifier({"model": str(tmp_path / "model")})
    docs = [Document(id="good", text=zh_paragraphs[3]), Document(id="bad", text=spam_zh(random.Random(1)))]
    ctx = ShardContext()
    scored = list(step.run(docs, ctx))
    assert 0.0 <= scored[1].meta["quality"] < 0.5 < scored[0].meta["quality"] <= 1.0
    kept = [d.id for d in Select({"field": "quality", "min": 0.5}).run(scored, ctx)]
    assert kept == ["good"]


def test_cli_errors_are_actionable(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"body": "x"}\n', encoding="utf-8")
    assert (
        cli_main(
            [
                "train-classifier",
                "--positive",
                str(tmp_path / "p.jsonl"),
                "--negative",
                str(tmp_path / "none*.txt"),
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 1
    )
    with pytest.raises(MixkitError, match=r"expected model\.npz"):
        LinearClassifier.load(tmp_path / "missing")
