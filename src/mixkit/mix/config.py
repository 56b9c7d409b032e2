"""Recipe section ``mix:`` (token-exact mixture plans).

Ratios are fractions of *tokens* (never of documents), per stage. A stage's budget is an absolute token count
(``100M``, ``2_000_000``) or a share of ``total_tokens`` (``5%``); at most one stage may leave it out and takes
what is left. Instead of fixed ratios a stage (or the whole section) can use temperature sampling,
p_c ∝ n_c^(1/T) over channel token counts n_c (Arivazhagan et al. 2019, "Massively Multilingual NMT", §4.2).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_TOKENS = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgtb]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12}


def parse_tokens(value: int | float | str) -> int:
    """Parse a token count such as ``2_000_000``, ``500M``, ``2B`` or ``1.5e9`` (decimal units)."""
    if isinstance(value, bool):
        raise ValueError(f"not a token count: {value!r}")
    if isinstance(value, int | float):
        if value < 0 or value != int(value):
            raise ValueError(f"not a token count: {value!r} (use a whole, non-negative number)")
        return int(value)
    text = str(value).replace("_", "").replace(",", "")
    try:
        return parse_tokens(float(text)) if "e" in text.lower() else _parse_unit(text)
    except ValueError:
        raise ValueError(f"not a token count: {value!r} (use e.g. 2_000_000, 500M or 2B)") from None


def _parse_unit(text: str) -> int:
    m = _TOKENS.match(text)
    if not m:
        raise ValueError(text)
    return round(float(m.group(1)) * _SCALE[m.group(2).lower()])


class StageConfig(BaseModel):
    """One curriculum stage: its token budget and its target ratios (in tokens) per channel."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="stage name (warmup, main, anneal ...), shown in the plan and the logs")
    tokens: int | str | None = Field(
        default=None,
        description="token budget: absolute (100M) or a share of mix.total_tokens (5%); "
        "at most one stage may leave it out and gets the rest",
    )
    ratios: dict[str, float] | None = Field(
        default=None, description="target share of tokens per channel; normalised to sum 1"
    )
    temperature: float | None = Field(
        default=None, gt=0, description="instead of ratios: p ∝ n^(1/T) over channel token counts"
    )
    channels: list[str] | None = Field(
        default=None, description="channels the temperature applies to (default: every channel)"
    )

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("ratios is empty; give at least one channel, e.g. {en: 0.5, zh: 0.5}")
        bad = {k: r for k, r in v.items() if not (r >= 0)}
        if bad:
            raise ValueError(f"ratios must be >= 0, got {bad}")
        if sum(v.values()) <= 0:
            raise ValueError("ratios sum to 0; give at least one positive ratio")
        return v

    @field_validator("tokens")
    @classmethod
    def _tokens(cls, v: int | str | None) -> int | str | None:
        if v is None or (isinstance(v, str) and v.strip().endswith("%")):
            if isinstance(v, str):
                share = float(v.strip()[:-1])
                if not 0 < share <= 100:
                    raise ValueError(f"a stage share must be in (0%, 100%], got {v!r}")
            return v
        return parse_tokens(v)

    @model_validator(mode="after")
    def _one_rule(self) -> StageConfig:
        if self.ratios is not None and self.temperature is not None:
            raise ValueError(f"stage {self.name!r}: give ratios or temperature, not both")
        return self


class MixConfig(BaseModel):
    """Target ratios in tokens per stage, a budget and repetition caps.

    The plan is exact: every channel's realised tokens stay within one sequence (seq_len tokens) of the planned
    tokens at every prefix of the stream, and with ``global_batch`` set, inside every global batch too (see
    docs/mix.md).
    """

    model_config = ConfigDict(extra="forbid")

    seq_len: int = Field(default=4096, ge=8, description="tokens per packed training sequence")
    total_tokens: int | str | None = Field(
        default=None,
        description="token budget of all stages together (2B, 2_000_000_000); optional when "
        "every stage gives an absolute budget",
    )
    max_epochs: float = Field(default=4.0, gt=0, description="repetition cap: passes over a source's tokens")
    temperature: float | None = Field(
        default=None, gt=0, description="default temperature for stages without ratios (p ∝ n^(1/T))"
    )
    period: int = Field(
        default=65536,
        ge=1,
        description="sequences per scheduling period: ratios are quantised to 1/period "
        "so that the stream index is periodic and O(1) to address",
    )
    global_batch: int | None = Field(
        default=None,
        ge=1,
        description="sequences per optimizer step (micro_batch_size x grad_accum x data-parallel ranks): "
        "when set, every global batch holds each channel's share to within one sequence and stages "
        "start and end on batch boundaries",
    )
    stages: list[StageConfig] = Field(min_length=1)

    @field_validator("total_tokens")
    @classmethod
    def _total(cls, v: int | str | None) -> int | None:
        return None if v is None else parse_tokens(v)

    @model_validator(mode="after")
    def _stages(self) -> MixConfig:
        names = [s.name for s in self.stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique, repeated: {dupes}")
        open_ = [s.name for s in self.stages if s.tokens is None]
        if len(open_) > 1:
            raise ValueError(
                f"stages {open_} have no tokens; at most one stage may take the rest of total_tokens"
            )
        if self.total_tokens is None and (open_ or any(isinstance(s.tokens, str) for s in self.stages)):
            raise ValueError("set mix.total_tokens: a stage uses a share (%) or takes the rest")
        for s in self.stages:
            if s.ratios is None and s.temperature is None and self.temperature is None:
                raise ValueError(f"stage {s.name!r} has no ratios; give ratios or a temperature")
        return self
