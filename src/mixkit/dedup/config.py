"""Recipe section ``dedup:`` (global passes over the curated shards)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DedupConfig(BaseModel):
    """Global dedup and decontamination passes, run in order over the curated shards."""

    model_config = ConfigDict(extra="forbid")

    steps: list[str | dict[str, dict[str, Any] | None]] = Field(default_factory=list)
