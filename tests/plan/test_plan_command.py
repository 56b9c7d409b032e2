"""``mixkit plan``: flags, --config, --json and the rich table."""

from __future__ import annotations

import argparse
import json

import pytest

from mixkit import cli
from mixkit.commands import plan as plan_cmd
from mixkit.plan import PlanError

LLAMA7B = ["--vocab", "32000", "--layers", "32", "--hidden", "4096", "--intermediate", "11008"]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mixkit plan")
    plan_cmd.add_arguments(parser)
    return plan_cmd.main(parser.parse_args(argv))


def test_registered_in_cli() -> None:
    assert cli.COMMANDS["plan"] == "plan"


def test_json_llama7b(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*LLAMA7B, "--json", "--gpus", "16", "--tokens", "100B"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["total"] == 6_738_415_616
    assert out["setup"]["gpus"] == 16
    assert out["compute"]["tokens"] == 100e9
    assert set(out["memory"]["total"]) == {"zero0", "zero1", "zero2", "zero3"}
    assert "Korthikanti" in out["formulas"]["activations"]


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*LLAMA7B, "--heads", "32"]) == 0
    out = capsys.readouterr().out
    assert "6,738,415,616 (6.74B)" in out
    assert "Chinchilla" in out and "ZeRO" in out


def test_config_flag(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {
        "model_type": "qwen2",
        "vocab_size": 151936,
        "hidden_size": 896,
        "num_hidden_layers": 24,
        "intermediate_size": 4864,
        "num_attention_heads": 14,
        "num_key_value_heads": 2,
        "tie_word_embeddings": True,
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert _run(["--config", str(tmp_path / "config.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["total"] == 494_032_768


def test_usage_errors() -> None:
    with pytest.raises(PlanError, match="missing --intermediate"):
        _run(["--vocab", "1", "--layers", "1", "--hidden", "8"])
    with pytest.raises(PlanError, match="both given"):
        _run(["--config", "x.json", "--vocab", "10"])


def test_help_states_formulas() -> None:
    parser = argparse.ArgumentParser(prog="mixkit plan")
    plan_cmd.add_arguments(parser)
    text = parser.format_help()
    assert "34 + 5*a*s/h" in text and "6*N*D" in text and "20*N" in text


@pytest.mark.parametrize(("text", "value"), [("100B", 1e11), ("1.5T", 1.5e12), ("2e9", 2e9), ("1_000", 1e3)])
def test_parse_count(text: str, value: float) -> None:
    assert plan_cmd.parse_count(text) == value
