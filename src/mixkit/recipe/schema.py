"""The pydantic schema of a recipe: one YAML file describing a whole run.

Every model forbids unknown keys, so a typo fails with a did-you-mean (see ``recipe.load``). Paths are relative to
the recipe file; ``Recipe.resolve`` turns them into absolute paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from mixkit.dedup.config import DedupConfig
from mixkit.mix.config import MixConfig
from mixkit.pack.config import PackConfig
from mixkit.report.config import ReportConfig
from mixkit.train.config import TrainConfig
from mixkit.utils import parse_bytes


class StrictModel(BaseModel):
    """Base for every recipe section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


ByteSize = int | str

SourceFormat = Literal["auto", "jsonl", "parquet", "text", "html", "hf"]


class SourceConfig(StrictModel):
    """One input: a glob (or list of globs) of files, or a local Hugging Face ``datasets`` folder."""

    name: str = Field(description="unique name of the source, used in ids, stats and file names")
    path: str | list[str] = Field(description="glob(s) relative to the recipe, or a datasets folder")
    channel: str = Field(description="mixture channel (en, zh, code, domain, replay ...)")
    format: SourceFormat = "auto"
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = None
    meta_fields: list[str] = Field(default_factory=list, description="extra fields copied into meta")
    split: str | None = Field(default=None, description="split of a datasets folder (default: all)")

    @field_validator("name", "channel")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c in "_-." for c in v):
            raise ValueError(f"{v!r} must be non-empty and use only letters, digits, '_', '-' and '.'")
        return v

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)


class CurateConfig(StrictModel):
    """The per-document pass: every source is read in shards and runs through ``steps`` in order."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    workers: int = Field(default=1, ge=1, description="worker processes")
    executor: Literal["local"] = "local"
    shard_size: ByteSize = Field(default="64MB", description="target bytes per shard inside large files")
    max_record_bytes: ByteSize = Field(default="10MB", description="records larger than this are quarantined")
    quarantine_raw_bytes: ByteSize = Field(
        default="1MB", description="raw content kept per quarantined record (the rest is cut, its size noted)"
    )
    write_dropped: bool = Field(default=True, description="write dropped documents with their reason")
    write_jsonl: bool = Field(default=False, description="also write curated shards as JSONL")
    steps: list[str | dict[str, dict[str, Any] | None]] = Field(default_factory=list)

    @field_validator("shard_size", "max_record_bytes", "quarantine_raw_bytes")
    @classmethod
    def _bytes(cls, v: ByteSize) -> int:
        n = parse_bytes(v)
        if n <= 0:
            raise ValueError("must be a positive byte size")
        return n


class Recipe(StrictModel):
    """A whole run: sources and channels, then any of the stages curate, dedup, mix, pack, train, report."""

    name: str
    workdir: str | None = Field(default=None, description="output folder (default: runs/<name>)")
    seed: int = 1234
    sources: list[SourceConfig] = Field(min_length=1)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    dedup: DedupConfig | None = None
    tokenizer: str | None = Field(
        default=None, description="local HF tokenizer folder, tokenizer.json or hub id"
    )
    mix: MixConfig | None = None
    pack: PackConfig | None = None
    train: TrainConfig | None = None
    report: ReportConfig = Field(default_factory=ReportConfig)

    _base: Path = PrivateAttr(default_factory=Path.cwd)
    _file: Path | None = PrivateAttr(default=None)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in v:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice; names must be unique")
            seen.add(s.name)
        return v

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the recipe are resolved against (the recipe file's folder)."""
        return self._base

    @property
    def file(self) -> Path | None:
        return self._file

    def resolve(self, path: str | Path) -> Path:
        """Resolve a recipe-relative path to an absolute one."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self._base / p).resolve()

    @property
    def workdir_path(self) -> Path:
        return self.resolve(self.workdir or f"runs/{self.name}").resolve()

    @property
    def channels(self) -> list[str]:
        """Channel names in order of first appearance among the sources."""
        return list(dict.fromkeys(s.channel for s in self.sources))
