"""Recipe section ``train:`` (continual pretraining with channel loss)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TrainConfig(BaseModel):
    """Model, schedule, checkpoints and reweighting of a CPT run."""

    model_config = ConfigDict(extra="forbid")
