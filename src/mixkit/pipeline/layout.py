"""Where every stage reads and writes inside a run's workdir. Later stages and checks rely on this layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workdir:
    """Paths of one run. Every stage writes only below ``root``.

    Layout::

        curated/<channel>/<source>-<shard>.parquet    curate output (id, text, channel, source, meta-as-JSON)
        deduped/<channel>/*.parquet                   dedup output, same schema (only when the recipe has dedup:)
        quarantine/<source>-<shard>.jsonl             records that could not be read: reason, file, line, raw
        dropped/<source>-<shard>.parquet              dropped documents with step and reason
        stats/<stage>/*.json                          per-shard / per-pass counters, merged into ledger.json
        ledger.json                                   input == kept + dropped + quarantined, with breakdowns
        markers/<stage>/*.done                        completion markers (resume)
        plan.json, tokens/, train/, report.html       later stages
        logs/                                         one log file per command
    """

    root: Path
    has_dedup: bool = False

    @classmethod
    def of(cls, recipe) -> Workdir:
        """The workdir of a recipe (``recipe.workdir``, default ``runs/<name>``, relative to the recipe file)."""
        return cls(recipe.workdir_path, has_dedup=bool(recipe.dedup and recipe.dedup.steps))

    @property
    def curated(self) -> Path:
        return self.root / "curated"

    @property
    def deduped(self) -> Path:
        return self.root / "deduped"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def dropped(self) -> Path:
        return self.root / "dropped"

    def stats(self, stage: str) -> Path:
        return self.root / "stats" / stage

    def markers(self, stage: str) -> Path:
        return self.root / "markers" / stage

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def plan(self) -> Path:
        return self.root / "plan.json"

    @property
    def tokens(self) -> Path:
        return self.root / "tokens"

    @property
    def train(self) -> Path:
        return self.root / "train"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def dedup_state(self) -> Path:
        return self.root / "dedup_state"

    def final_docs(self) -> Path:
        """The folder holding the documents later stages (mix, pack) read: deduped/ when the recipe dedups."""
        return self.deduped if self.has_dedup else self.curated

    def channel_files(self, channel: str | None = None) -> list[Path]:
        """Final document shards (sorted, so every consumer sees one order), of one channel or all."""
        base = self.final_docs()
        pattern = f"{channel}/*.parquet" if channel else "*/*.parquet"
        return sorted(base.glob(pattern))
