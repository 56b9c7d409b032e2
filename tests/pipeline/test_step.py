"""The step bases: filters account for every drop, annotators drop nothing, steps pickle with params only."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from mixkit import registry
from mixkit.pipeline.step import Annotator, Filter, ShardContext, StepParams
from mixkit.records import Document


class MinChars(Filter):
    name = "min_chars"

    class Params(StepParams):
        min_chars: int = 5

    def keep(self, doc, ctx):
        return True if len(doc.text) >= self.params.min_chars else "too_short"


class Length(Annotator):
    name = "length"

    def setup(self):
        self.calls = 0

    def annotate(self, doc, ctx):
        self.calls += 1
        doc.meta["chars"] = len(doc.text)


def _docs():
    return [Document(str(i), t, "en", "s") for i, t in enumerate(["hello world", "hi", "another one", ""])]


def test_filter_reports_drops_with_reason():
    ctx = ShardContext()
    kept = list(MinChars({"min_chars": 5}).run(_docs(), ctx))
    assert [d.id for d in kept] == ["0", "2"]
    assert ctx.stats["min_chars"].dropped == {"too_short": 2}
    assert [(s, r, d.id) for s, r, d in ctx.dropped_docs] == [
        ("min_chars", "too_short", "1"),
        ("min_chars", "too_short", "3"),
    ]


def test_annotator_tags_and_keeps_everything():
    step = Length()
    out = list(step.run(_docs(), ShardContext()))
    assert [d.meta["chars"] for d in out] == [11, 2, 11, 0]
    assert step.calls == 4


def test_params_are_strict():
    with pytest.raises(ValidationError, match="min_char"):
        MinChars({"min_char": 3})


def test_step_pickles_with_params_only():
    step = Length()
    list(step.run(_docs(), ShardContext()))
    clone = pickle.loads(pickle.dumps(step))
    assert clone.name == "length" and not hasattr(clone, "calls")
    list(clone.run(_docs(), ShardContext()))
    assert clone.calls == 4


def test_registry_did_you_mean_and_duplicates():
    with pytest.raises(KeyError, match="Did you mean 'select'"):
        registry.target("step", "selct")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("step", "select", "x.y:Z")


def test_channels_param_limits_a_step():
    docs = [Document("a", "hi", "en", "s"), Document("b", "hi", "code", "s")]
    ctx = ShardContext()
    kept = list(MinChars({"min_chars": 5, "channels": ["en"]}).run(docs, ctx))
    assert [d.id for d in kept] == ["b"]
    tagged = list(Length({"channels": ["code"]}).run(docs, ShardContext()))
    assert "chars" not in tagged[0].meta and tagged[1].meta["chars"] == 2
