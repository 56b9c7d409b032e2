"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_fixtures import build_workdir

from mixkit.recipe import load_recipe


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """(recipe, expectations) of a complete synthetic run in a temporary folder."""
    expect = build_workdir(tmp_path)
    recipe = load_recipe(tmp_path / "recipe.yaml", check_inputs=False)
    return recipe, expect
