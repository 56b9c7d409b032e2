"""Shared fixtures: write recipes and corpora into a temporary folder and load them as users would."""

from __future__ import annotations

import pytest

from helpers import write_recipe


@pytest.fixture
def recipe_file():
    """Factory: recipe_file(folder, data) -> path of a recipe YAML written there."""
    return write_recipe
