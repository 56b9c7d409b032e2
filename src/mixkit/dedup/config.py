"""Recipe section ``dedup:`` (global passes over the curated shards)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DedupConfig(BaseModel):
    """Global dedup and decontamination passes, run in order over the curated shards of each channel.

    ``steps`` entries are a name or ``{name: {params}}`` (names: exact, minhash, lines, decontaminate).
    """

    model_config = ConfigDict(extra="forbid")

    steps: list[str | dict[str, dict[str, Any] | None]] = Field(default_factory=list)
    workers: int | None = Field(default=None, ge=1, description="worker processes (default: curate.workers)")
    index_in: str | None = Field(
        default=None,
        description="folder of an index written by an earlier run (index_out); new data is deduped "
        "against it without reprocessing the old data",
    )
    index_out: str | None = Field(default=None, description="folder to write this run's dedup index to")
    write_dropped: bool = Field(
        default=True, description="write dropped documents to dropped/dedup-<channel>"
    )
