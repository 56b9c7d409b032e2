"""Exceptions that carry a message a user can act on (what, why, how to fix)."""

from __future__ import annotations


class MixkitError(Exception):
    """Base class for every error mixkit raises on purpose."""


class RecipeError(MixkitError):
    """A recipe is invalid; ``issues`` holds every problem found, each with its key path."""

    def __init__(self, issues: list[str], path: str | None = None) -> None:
        self.issues = list(issues)
        self.path = path
        head = f"recipe {path} is invalid" if path else "recipe is invalid"
        body = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"{head} ({len(self.issues)} problem(s)):\n{body}")


class MissingDependencyError(MixkitError, ImportError):
    """An optional dependency a step needs is not installed."""

    def __init__(self, package: str, extra: str, needed_by: str) -> None:
        super().__init__(
            f"{needed_by} needs the package '{package}', which is not installed. "
            f"Install it with: pip install 'mixkit[{extra}]'  (or: pip install {package})"
        )


def require(module: str, extra: str, needed_by: str, package: str | None = None):
    """Import ``module`` or raise a MissingDependencyError naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package or module, extra, needed_by) from exc
