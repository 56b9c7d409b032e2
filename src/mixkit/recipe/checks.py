"""Semantic recipe checks that the schema cannot express: step names and params, input paths."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mixkit import registry
from mixkit.recipe.schema import Recipe


def step_entries(entries: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Normalise recipe step entries (``name`` or ``{name: params}``) into (name, params) pairs."""
    out = []
    for entry in entries:
        if isinstance(entry, str):
            out.append((entry, {}))
        else:
            ((name, params),) = entry.items()
            out.append((name, params or {}))
    return out


def _check_step_list(entries: Any, kind: str, where: str) -> list[str]:
    from mixkit.recipe.load import schema_issues

    issues: list[str] = []
    if not isinstance(entries, list):
        return issues
    for i, entry in enumerate(entries):
        loc = f"{where}[{i}]"
        if isinstance(entry, dict) and len(entry) != 1:
            issues.append(
                f"{loc}: a step is one key (its name) mapping to its parameters, got keys {list(entry)}"
            )
            continue
        if not isinstance(entry, str | dict):
            issues.append(f"{loc}: a step is a name or {{name: {{params}}}}, got {type(entry).__name__}")
            continue
        name, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        try:
            cls = registry.get(kind, name)
        except registry.UnknownNameError as exc:
            issues.append(f"{loc}: {exc}")
            continue
        except ImportError as exc:
            issues.append(
                f"{loc}: step '{name}' cannot load ({exc}); install mixkit with its extras: "
                "pip install 'mixkit[all]'"
            )
            continue
        if params is not None and not isinstance(params, dict):
            issues.append(f"{loc}.{name}: parameters must be a mapping, got {type(params).__name__}")
            continue
        try:
            cls.Params(**(params or {}))
        except ValidationError as exc:
            issues.extend(f"{loc}.{name}.{line}" for line in schema_issues(exc, cls.Params))
    return issues


def check_steps(recipe: Recipe) -> list[str]:
    issues = _check_step_list(recipe.curate.steps, "step", "curate.steps")
    if recipe.dedup is not None:
        issues += _check_step_list(recipe.dedup.steps, "dedup", "dedup.steps")
    return issues


def _missing_inputs(name: str, paths: list[str], base: Path, loc: str) -> list[str]:
    issues = []
    for j, pattern in enumerate(paths):
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        if not glob.glob(full, recursive=True):
            where = loc if len(paths) == 1 else f"{loc}[{j}]"
            issues.append(
                f"{where}: source '{name}' matches no file ({full}); fix the path (relative to the recipe) "
                "or build the data first"
            )
    return issues


def check_sources(recipe: Recipe) -> list[str]:
    issues: list[str] = []
    for i, src in enumerate(recipe.sources):
        issues += _missing_inputs(src.name, src.paths, recipe.base_dir, f"sources[{i}].path")
    return issues


def raw_checks(data: dict[str, Any], base: Path, *, check_inputs: bool = True) -> list[str]:
    """The semantic checks that still make sense on a recipe whose schema failed."""
    issues: list[str] = []
    curate = data.get("curate")
    if isinstance(curate, dict):
        issues += _check_step_list(curate.get("steps"), "step", "curate.steps")
    dedup = data.get("dedup")
    if isinstance(dedup, dict):
        issues += _check_step_list(dedup.get("steps"), "dedup", "dedup.steps")
    sources = data.get("sources")
    if check_inputs and isinstance(sources, list):
        for i, src in enumerate(sources):
            if isinstance(src, dict) and isinstance(src.get("path"), str | list):
                paths = (
                    [src["path"]]
                    if isinstance(src["path"], str)
                    else [p for p in src["path"] if isinstance(p, str)]
                )
                issues += _missing_inputs(str(src.get("name", i)), paths, base, f"sources[{i}].path")
    return issues
