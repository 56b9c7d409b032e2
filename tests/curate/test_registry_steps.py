"""Every curate step is registered by name, validates its params, pickles, and runs on en + zh documents."""

from __future__ import annotations

import pickle

import pytest

from mixkit import registry
from mixkit.pipeline.step import ShardContext, Step, build_step
from mixkit.records import Document

STEPS = {
    "normalize": {},
    "language": {"keep": ["en", "zh"]},
    "gopher_repetition": {},
    "gopher_quality": {},
    "c4": {},
    "fineweb": {},
    "flagged_words": {},
    "url_filter": {"domains": ["spam.example"]},
    "pii": {},
    "select": {"field": "lang", "in": ["en", "zh"]},
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_build_pickle_run(name, zh_paragraphs):
    step = build_step("step", name, STEPS[name])
    assert isinstance(step, Step) and step.name == name
    clone = pickle.loads(pickle.dumps(step))
    assert clone.params == step.params
    en = (
        "The library opens at nine in the morning and closes at six in the evening. Visitors can borrow up to "
        "five books at a time, and they can keep them for three weeks. The reading room on the second floor is "
        "quiet, and it has good light for most of the day. Children have their own section with picture books "
        "and games. Staff are happy to help anyone who is looking for a particular title or topic."
    )
    docs = [
        Document(id="en", text=en, meta={"lang": "en"}),
        Document(id="zh", text=zh_paragraphs[1], meta={"lang": "zh"}),
    ]
    ctx = ShardContext()
    out = list(clone.run(docs, ctx))
    assert [d.id for d in out] == ["en", "zh"], ctx.stats[name].dropped


def test_all_issue_steps_registered():
    expected = {
        "normalize",
        "language",
        "gopher_repetition",
        "gopher_quality",
        "c4",
        "fineweb",
        "flagged_words",
        "url_filter",
        "pii",
        "quality_classifier",
        "select",
        "perplexity",
    }
    assert expected <= set(registry.names("step"))
    for name in expected:
        registry.get("step", name)  # imports cleanly


def test_typo_in_params_fails():
    with pytest.raises(ValueError):
        build_step("step", "gopher_quality", {"min_doc_word": 10})
