"""Recipe section ``pack:`` (tokenize and write Megatron-compatible token shards)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PackConfig(BaseModel):
    """How curated documents become token shards (``tokens/<channel>.bin/.idx``)."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(
        default=2, ge=1, description="tokenizer threads (the tokenizers library's thread pool)"
    )
    batch_docs: int = Field(default=1024, ge=1, description="documents per encode_batch call")
    val_docs: int | float = Field(
        default=0,
        ge=0,
        description="held-out documents per channel for validation: a count (32) or a "
        "fraction of the channel's documents (0.01); chosen by a seeded hash of the document id",
    )
    append_eos: bool = Field(default=True, description="append the tokenizer's EOS token to every document")
    eos_token: str | None = Field(
        default=None, description="EOS token (default: the tokenizer's, else <|endoftext|>)"
    )

    @field_validator("val_docs")
    @classmethod
    def _val(cls, v: int | float) -> int | float:
        if isinstance(v, float) and not v.is_integer() and v >= 1:
            raise ValueError("val_docs is a count (32) or a fraction below 1 (0.01)")
        if isinstance(v, float) and v >= 1:
            return int(v)
        return v
