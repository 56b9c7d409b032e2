"""``select``: keep documents by thresholds on any ``meta`` field ("tag, then select").

Scorers (``quality_classifier``, ``perplexity``, ``language``) only write numbers into ``meta``; ``select``
applies the thresholds. Changing a threshold then reruns only this cheap step, not the scorer — the split used by
FineWeb-Edu (Penedo et al. 2024, Sec. 4: annotate with a classifier, then threshold at 3) and by DataComp-LM
(Li et al. 2024, Sec. 4.4: score, then keep the top fraction).

Recipe examples::

    - select: {field: quality, min: 0.5}
    - select: {field: lang, in: [en, zh]}
    - select: {field: perplexity, max: 1000, missing: keep}
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from mixkit.pipeline.step import Filter, ShardContext, StepParams
from mixkit.records import Document


class Select(Filter):
    """Keep a document iff ``meta[field]`` satisfies every given bound.

    ``min``/``max`` are inclusive bounds on a number (unit: the field's own); ``in``/``not_in`` test membership.
    Drop reasons: ``below_min_<field>``, ``above_max_<field>``, ``not_in_<field>``, ``excluded_<field>``,
    ``missing_meta_<field>`` (field absent, when ``missing: drop``), ``not_numeric_<field>``.
    """

    name = "select"

    class Params(StepParams):
        model_config = ConfigDict(extra="forbid", populate_by_name=True)

        field: str = Field(
            description="meta key to test, e.g. quality; dotted paths reach nested dicts (a.b)"
        )
        min: float | None = Field(None, description="keep if value >= min")
        max: float | None = Field(None, description="keep if value <= max")
        in_: list[Any] | None = Field(None, alias="in", description="keep if value is one of these")
        not_in: list[Any] | None = Field(None, description="drop if value is one of these")
        missing: str = Field(
            "drop", pattern="^(keep|drop)$", description="what to do when the field is absent"
        )

        @model_validator(mode="after")
        def _some_bound(self) -> Select.Params:
            if self.min is None and self.max is None and self.in_ is None and self.not_in is None:
                raise ValueError("select needs at least one of min, max, in, not_in")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"select: min ({self.min}) is greater than max ({self.max})")
            return self

    def _value(self, meta: dict[str, Any]) -> tuple[bool, Any]:
        cur: Any = meta
        for part in self.params.field.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return False, None
            cur = cur[part]
        return True, cur

    def keep(self, doc: Document, ctx: ShardContext) -> bool | str:
        p = self.params
        found, value = self._value(doc.meta)
        if not found or value is None:
            return True if p.missing == "keep" else f"missing_meta_{p.field}"
        if p.in_ is not None and value not in p.in_:
            return f"not_in_{p.field}"
        if p.not_in is not None and value in p.not_in:
            return f"excluded_{p.field}"
        if p.min is not None or p.max is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"not_numeric_{p.field}"
            if p.min is not None and value < p.min:
                return f"below_min_{p.field}"
            if p.max is not None and value > p.max:
                return f"above_max_{p.field}"
        return True
