"""The one registry: every pluggable piece (curate step, dedup step, reweighting method ...) by kind and name.

Targets are ``"module:attr"`` strings imported on first use, so importing mixkit stays cheap and a step's heavy
dependencies load only when a recipe names it. Names are declared here, in one place, never by import side effect.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

# kind -> name -> "module:attr". Keep each table sorted by name.
_TARGETS: dict[str, dict[str, str]] = {
    # Per-document steps of the `curate:` section (filters, annotators, normalizers). Each is a pipeline.Step.
    "step": {
        "c4": "mixkit.curate.heuristics:C4",
        "fineweb": "mixkit.curate.heuristics:FineWeb",
        "flagged_words": "mixkit.curate.words:FlaggedWords",
        "gopher_quality": "mixkit.curate.heuristics:GopherQuality",
        "gopher_repetition": "mixkit.curate.heuristics:GopherRepetition",
        "language": "mixkit.curate.language:Language",
        "normalize": "mixkit.curate.normalize:Normalize",
        "perplexity": "mixkit.curate.perplexity:Perplexity",
        "pii": "mixkit.curate.pii:PII",
        "quality_classifier": "mixkit.curate.classifier:QualityClassifier",
        "select": "mixkit.curate.select:Select",
        "url_filter": "mixkit.curate.words:URLFilter",
    },
    # Global passes of the `dedup:` section (exact, minhash, lines, decontaminate).
    "dedup": {
        "decontaminate": "mixkit.decontam.decontaminate:Decontaminate",
        "exact": "mixkit.dedup.exact:Exact",
        "lines": "mixkit.dedup.lines:Lines",
        "minhash": "mixkit.dedup.minhash:MinHash",
    },
    # Dynamic reweighting methods of `train.reweight`.
    "reweight": {"doremi": "mixkit.train.reweight:DoReMi", "ppl_trend": "mixkit.train.reweight:PplTrend"},
    # Model merge methods.
    "merge": {},
}


class UnknownNameError(KeyError):
    """A name that is not registered; the message lists close matches and the valid names."""

    def __init__(self, kind: str, name: str, choices: list[str]) -> None:
        close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        self.message = f"unknown {kind} '{name}'.{hint} Valid names: {', '.join(sorted(choices)) or '(none)'}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def names(kind: str) -> list[str]:
    """All registered names of one kind, sorted."""
    return sorted(_TARGETS[kind])


def target(kind: str, name: str) -> str:
    """The ``"module:attr"`` target of a registered name (without importing it)."""
    if kind not in _TARGETS:
        raise UnknownNameError("registry kind", kind, list(_TARGETS))
    table = _TARGETS[kind]
    if name not in table:
        raise UnknownNameError(kind, name, list(table))
    return table[name]


def get(kind: str, name: str) -> Any:
    """Import and return the object registered as ``name`` under ``kind``."""
    module_name, _, attr = target(kind, name).partition(":")
    return getattr(importlib.import_module(module_name), attr)


def register(kind: str, name: str, target_path: str) -> None:
    """Register a plug-in from user code (e.g. a custom filter). Duplicate names are an error."""
    table = _TARGETS.setdefault(kind, {})
    if name in table:
        raise ValueError(f"{kind} '{name}' is already registered as {table[name]}; pick another name")
    if ":" not in target_path:
        raise ValueError(f"target must look like 'package.module:Class', got {target_path!r}")
    table[name] = target_path
