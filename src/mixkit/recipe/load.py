"""Load a YAML recipe and collect every problem in it, each with its key path and a fix.

Three layers of checks, all reported together: YAML syntax, the pydantic schema (types, unknown keys with a
did-you-mean), and semantic checks (registered step names and their parameters, input paths that match nothing,
section checks such as an infeasible mix).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mixkit.errors import RecipeError
from mixkit.recipe.schema import Recipe

# Semantic checks run after the schema passes: "module:function", each (recipe) -> list of problems.
# Sections add their own here (e.g. the mix planner's feasibility check).
SEMANTIC_CHECKS: list[str] = [
    "mixkit.recipe.checks:check_sources",
    "mixkit.recipe.checks:check_steps",
    "mixkit.mix.stage:check_mix",
    "mixkit.train.config:check_train",
]


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Walk the schema along ``loc`` to the model whose field is at the end of it (for did-you-mean)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap_model(field.annotation, typing)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_model(annotation: Any, typing: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg, typing)
        if found is not None:
            return found
    return None


def schema_issues(exc: ValidationError, model: type[BaseModel] = Recipe) -> list[str]:
    """Turn pydantic errors into 'key.path: what (got X); fix' lines, with did-you-mean for unknown keys."""
    issues = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _fmt_loc(loc)
        if err["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1]) if len(loc) > 1 else model
            known = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            valid = f" Valid keys here: {', '.join(known)}." if known else ""
            issues.append(f"{where}: unknown key.{hint}{valid}")
        elif err["type"] == "missing":
            issues.append(f"{where}: required key is missing; add it")
        else:
            got = err.get("input")
            shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
            if len(shown) > 60:
                shown = shown[:57] + "..."
            issues.append(f"{where}: {err['msg']} (got {shown})")
    return issues


def _run_checks(recipe: Recipe) -> list[str]:
    issues: list[str] = []
    for target in SEMANTIC_CHECKS:
        module, _, attr = target.partition(":")
        check: Callable[[Recipe], list[str]] = getattr(importlib.import_module(module), attr)
        issues.extend(check(recipe))
    return issues


def validate_recipe(path: str | Path, *, check_inputs: bool = True) -> tuple[Recipe | None, list[str]]:
    """Load ``path`` and return (recipe or None, every problem found). Never raises for a bad recipe."""
    path = Path(path)
    if not path.is_file():
        return None, [f"{path}: recipe file not found; check the path"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        return None, [f"{path}: YAML syntax error at {where}: {getattr(exc, 'problem', exc)}"]
    except UnicodeDecodeError as exc:
        return None, [f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the recipe as UTF-8"]
    if not isinstance(data, dict):
        return None, [f"{path}: a recipe is a YAML mapping (name:, sources:, ...), got {type(data).__name__}"]
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        issues = schema_issues(exc)
        # Still check what can be checked (e.g. step names) on the raw data, so all errors come at once.
        from mixkit.recipe.checks import raw_checks

        issues.extend(raw_checks(data, path.parent.resolve(), check_inputs=check_inputs))
        return None, issues
    recipe._base = path.parent.resolve()
    recipe._file = path.resolve()
    issues = _run_checks(recipe) if check_inputs else []
    if not check_inputs:
        from mixkit.recipe.checks import check_steps

        issues = check_steps(recipe)
    return recipe, issues


def load_recipe(path: str | Path, *, check_inputs: bool = True) -> Recipe:
    """Load and validate a recipe; raise RecipeError listing every problem if there is any."""
    recipe, issues = validate_recipe(path, check_inputs=check_inputs)
    if issues or recipe is None:
        raise RecipeError(issues, str(path))
    return recipe
