"""Recipe section ``report:`` (the HTML run report)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportConfig(BaseModel):
    """What the run report shows."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    dropped_samples: int = Field(default=3, ge=0, description="sampled dropped documents shown per reason")
