"""Recipe section ``pack:`` (tokenize and write Megatron-compatible token shards)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PackConfig(BaseModel):
    """How curated documents become token shards."""

    model_config = ConfigDict(extra="forbid")
