"""Recipe section ``report:`` (the HTML run report written to ``<workdir>/report.html``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mixkit.utils import parse_bytes


class ReportConfig(BaseModel):
    """What the run report shows and how much of it.

    Example::

        report:
          dropped_samples: 3        # dropped documents shown per (step, reason)
          sample_chars: 400         # each sample's text is cut to this many characters
          full_hash_limit: 256MB    # bigger input files are fingerprinted by size + first and last MiB
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="write report.html at the end of `mixkit run`")
    dropped_samples: int = Field(
        default=3, ge=0, le=100, description="sampled dropped documents shown per reason"
    )
    quarantine_samples: int = Field(
        default=3, ge=0, le=100, description="sampled quarantined records per reason"
    )
    sample_chars: int = Field(default=400, ge=20, description="characters of a sampled document's text shown")
    full_hash_limit: int | str = Field(
        default="256MB",
        validate_default=True,
        description="input files up to this size get a full sha256 in the manifest; larger ones a sha256 of "
        "their size and first and last MiB (marked 'partial')",
    )
    max_listed_files: int = Field(default=200, ge=1, description="input files listed in the manifest")

    @field_validator("full_hash_limit")
    @classmethod
    def _bytes(cls, v: int | str) -> int:
        n = parse_bytes(v)
        if n < 0:
            raise ValueError("must be a byte size >= 0")
        return n
