"""Helpers shared by tests: write recipes, digest output trees."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

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
