"""The train: section: schema errors with did-you-mean, and semantic checks in `mixkit validate`."""

from __future__ import annotations

import yaml

from mixkit.recipe import validate_recipe


def _recipe(tmp_path, train: dict, mix: dict | None = None) -> list[str]:
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    data = {"name": "t", "sources": [{"name": "s", "path": "a.jsonl", "channel": "en"}], "train": train}
    if mix:
        data["mix"] = mix
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    return validate_recipe(tmp_path / "r.yaml")[1]


MODEL = {"config": {"architecture": "llama", "hidden_size": 64}}


def test_valid_train_section(tmp_path):
    assert _recipe(tmp_path, {"model": MODEL, "reweight": {"method": "ppl_trend", "every": 10}}) == []


def test_typos_and_bad_values_are_reported_together(tmp_path):
    issues = _recipe(
        tmp_path,
        {
            "model": MODEL,
            "lr": -1,
            "max_step": 10,
            "reweight": {"method": "ppl_trnd"},
            "schedule": {"name": "cosin"},
        },
    )
    text = "\n".join(issues)
    assert "train.max_step: unknown key. Did you mean 'max_steps'?" in text
    assert "train.lr" in text
    assert "Did you mean 'ppl_trend'?" in text
    assert "train.schedule.name" in text


def test_model_needs_exactly_one_source(tmp_path):
    issues = _recipe(tmp_path, {"model": {}})
    assert any("exactly one of model.path" in i for i in issues)
    issues = _recipe(tmp_path, {"model": {"config": {"hidden_size": 64}}})
    assert any("needs 'architecture'" in i for i in issues)


def test_reweight_params_are_checked(tmp_path):
    issues = _recipe(tmp_path, {"model": MODEL, "reweight": {"method": "ppl_trend", "stepsize": 0.1}})
    assert any("stepsize" in i for i in issues)
    issues = _recipe(tmp_path, {"model": MODEL, "reweight": {"method": "doremi", "reference": "nope.jsonl"}})
    assert any("train.reweight.reference" in i and "not found" in i for i in issues)


def test_decay_on_stage_must_name_a_mix_stage(tmp_path):
    mix = {"seq_len": 64, "total_tokens": 1000, "stages": [{"name": "main", "ratios": {"en": 1}}]}
    issues = _recipe(tmp_path, {"model": MODEL, "schedule": {"name": "wsd", "decay_on_stage": "anneal"}}, mix)
    assert any("'anneal' is not a mix stage (stages: main)" in i for i in issues)
    issues = _recipe(
        tmp_path, {"model": MODEL, "schedule": {"name": "cosine", "decay_on_stage": "main"}}, mix
    )
    assert any("only the wsd schedule" in i for i in issues)


def test_global_batch_must_be_whole_optimizer_steps(tmp_path):
    """mix.global_batch is micro_batch_size x grad_accum x processes: 12 cannot be made from 8 x 1."""
    mix = {
        "seq_len": 64,
        "total_tokens": 6400,
        "global_batch": 12,
        "stages": [{"name": "main", "ratios": {"en": 1}}],
    }
    issues = _recipe(tmp_path, {"model": MODEL, "micro_batch_size": 8}, mix)
    assert any("mix.global_batch (12) is not a multiple of" in i and "(8 x 1 = 8)" in i for i in issues)
    mix["global_batch"] = 16  # 8 x 1 x 2 processes
    assert _recipe(tmp_path, {"model": MODEL, "micro_batch_size": 8}, mix) == []
