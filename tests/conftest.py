"""Shared fixtures: write recipes and corpora into a temporary folder and load them as users would."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml


def write_recipe(folder: Path, data: dict[str, Any], name: str = "recipe.yaml") -> Path:
    """Write ``data`` as a YAML recipe into ``folder`` and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def tree_digest(
    root: Path,
    folders: tuple[str, ...] = ("curated", "quarantine", "dropped"),
    files: tuple[str, ...] = ("ledger.json",),
) -> dict[str, str]:
    """sha256 of every output file under the given folders of a workdir (relative path -> digest)."""
    out = {}
    for folder in folders:
        for p in sorted((root / folder).rglob("*")):
            if p.is_file():
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    for name in files:
        p = root / name
        if p.exists():
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def recipe_file():
    """Factory: recipe_file(folder, data) -> path of a recipe YAML written there."""
    return write_recipe
