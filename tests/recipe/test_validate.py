"""Acceptance: `mixkit validate` reports every problem at once, with key paths and a did-you-mean."""

from __future__ import annotations

import subprocess
import sys

from mixkit.recipe import validate_recipe


def _bad_recipe(tmp_path, recipe_file):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.jsonl").write_text('{"text": "hello"}\n')
    return recipe_file(
        tmp_path,
        {
            "name": "bad",
            "sources": [
                {"name": "ok", "path": "data/*.jsonl", "channel": "en"},
                {"name": "gone", "path": "nowhere/*.jsonl", "channel": "en"},  # missing input path
            ],
            "curate": {"wokers": 2, "shard_size": "64MB", "steps": []},  # typo of 'workers'
            "seed": "not-a-number",  # wrong type
        },
    )


def test_validate_reports_all_three_problems(tmp_path, recipe_file):
    recipe, issues = validate_recipe(_bad_recipe(tmp_path, recipe_file))
    assert recipe is None
    text = "\n".join(issues)
    assert "curate.wokers: unknown key. Did you mean 'workers'?" in text
    assert any(i.startswith("seed:") and "integer" in i for i in issues)
    assert any(i.startswith("sources[1].path:") and "matches no file" in i for i in issues)
    assert len(issues) == 3


def test_validate_cli_exit_code_and_output(tmp_path, recipe_file):
    path = _bad_recipe(tmp_path, recipe_file)
    proc = subprocess.run(
        [sys.executable, "-m", "mixkit.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert proc.returncode == 1
    assert "Did you mean 'workers'" in proc.stderr
    assert "3 problem(s)" in proc.stderr


def test_unknown_step_name_did_you_mean(tmp_path, recipe_file):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    path = recipe_file(
        tmp_path,
        {
            "name": "steps",
            "sources": [{"name": "s", "path": "a.jsonl", "channel": "en"}],
            "curate": {"steps": [{"selct": {}}, {"select": {"no_such_param": 1}}]},
        },
    )
    _, issues = validate_recipe(path)
    assert any("curate.steps[0]" in i and "Did you mean 'select'" in i for i in issues)
    assert any(i.startswith("curate.steps[1].select.") and "unknown key" in i for i in issues)


def test_valid_recipe_has_no_issues(tmp_path, recipe_file):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    path = recipe_file(
        tmp_path, {"name": "fine", "sources": [{"name": "s", "path": "a.jsonl", "channel": "en"}]}
    )
    recipe, issues = validate_recipe(path)
    assert issues == [] and recipe is not None
    assert recipe.workdir_path == (tmp_path / "runs" / "fine").resolve()
