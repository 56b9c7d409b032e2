"""Recipe section ``mix:`` (token-exact mixture plans)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MixConfig(BaseModel):
    """Target ratios in tokens per stage, a budget and repetition caps."""

    model_config = ConfigDict(extra="forbid")
