"""Recipe section ``train:`` (continual pretraining with channel loss).

Example::

    train:
      model: {config: {architecture: llama, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4}}
      micro_batch_size: 8
      grad_accum: 1
      max_steps: 300
      lr: 1.0e-3
      schedule: {name: wsd, warmup_steps: 20, decay_fraction: 0.2, decay_on_stage: anneal}
      log_every: 10
      val_every: 50
      save_every: 100
      reweight: {method: ppl_trend, every: 50, step_size: 0.2}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    """The model to train: a local Hugging Face checkpoint folder, or a config for a random-initialised model.

    ``config`` holds ``architecture`` (a transformers ``model_type`` such as ``llama``, ``qwen2``, ``mistral``)
    plus any keyword of that architecture's config class (``hidden_size``, ``num_hidden_layers`` ...);
    ``vocab_size`` defaults to the recipe tokenizer's vocabulary.
    """

    path: str | None = Field(
        default=None, description="local checkpoint folder (relative to the recipe) or hub id"
    )
    config: dict[str, Any] | None = Field(
        default=None, description="architecture + config kwargs (random init)"
    )
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2", "flex_attention"] = Field(
        default="sdpa",
        description="attention kernel; all of them keep packed documents apart when position_ids reset",
    )
    gradient_checkpointing: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ModelSpec:
        if (self.path is None) == (self.config is None):
            raise ValueError(
                "give exactly one of model.path (a checkpoint folder) or model.config "
                "(e.g. {architecture: llama, hidden_size: 64, num_hidden_layers: 2})"
            )
        if self.config is not None and "architecture" not in self.config:
            raise ValueError("model.config needs 'architecture' (a transformers model_type such as 'llama')")
        return self


class ScheduleConfig(_Strict):
    """Learning-rate schedule, as a multiplier of ``lr`` per optimizer step (see ``mixkit.train.schedules``)."""

    name: Literal["cosine", "wsd", "rewarm", "constant"] = "cosine"
    warmup_steps: int = Field(default=0, ge=0, description="linear warmup length, in optimizer steps")
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1, description="final lr as a fraction of lr")
    start_lr_ratio: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="lr at step 0 as a fraction of lr (rewarm starts from the old lr)",
    )
    decay_fraction: float = Field(
        default=0.1, gt=0, le=1, description="wsd: fraction of max_steps spent decaying (MiniCPM: ~10%)"
    )
    decay_steps: int | None = Field(default=None, ge=1, description="wsd: decay length in steps (overrides)")
    decay_shape: Literal["cosine", "linear", "exp", "1-sqrt"] = Field(
        default="1-sqrt", description="wsd decay curve (MiniCPM: exp; Hägele et al. 2024: 1-sqrt)"
    )
    decay_on_stage: str | None = Field(
        default=None, description="wsd: start the decay when the mix plan enters this stage (e.g. anneal)"
    )


class ReweightConfig(BaseModel):
    """Dynamic reweighting: ``method`` (registered under kind ``reweight``), ``every`` (steps), and the
    method's own parameters as further keys (checked against the method's ``Params``)."""

    model_config = ConfigDict(extra="allow")

    method: str
    every: int = Field(default=100, ge=1, description="optimizer steps between weight updates")

    @model_validator(mode="after")
    def _check_method(self) -> ReweightConfig:
        from mixkit import registry

        try:
            cls = registry.get("reweight", self.method)
        except registry.UnknownNameError as exc:  # a KeyError: turn it into a schema error on this key
            raise ValueError(str(exc)) from None
        cls.Params(**self.params)
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The method-specific keys (everything except ``method`` and ``every``)."""
        return dict(self.model_extra or {})


class TrainConfig(_Strict):
    """Model, batch, optimizer, schedule, logging, checkpoints and reweighting of a CPT run."""

    model: ModelSpec
    seq_len: int | None = Field(default=None, ge=8, description="tokens per sequence (default: pack.seq_len)")
    micro_batch_size: int = Field(default=8, ge=1, description="sequences per device per forward")
    grad_accum: int = Field(default=1, ge=1, description="micro-batches per optimizer step")
    max_steps: int = Field(default=1000, ge=1, description="optimizer steps")
    lr: float = Field(default=3e-4, gt=0)
    weight_decay: float = Field(default=0.1, ge=0)
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    grad_clip: float | None = Field(default=1.0, description="max global grad norm; null disables clipping")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    seed: int | None = Field(default=None, description="default: the recipe seed")
    log_every: int = Field(
        default=10, ge=1, description="steps between metrics records (one all-reduce each)"
    )
    val_every: int = Field(default=0, ge=0, description="steps between held-out evaluations (0: off)")
    val_batches: int = Field(default=4, ge=1, description="held-out micro-batches per channel per evaluation")
    save_every: int = Field(default=0, ge=0, description="steps between checkpoints (0: only at end/SIGTERM)")
    keep_checkpoints: int = Field(default=2, ge=1, description="most recent checkpoints kept")
    save_final: bool = Field(default=True, description="write the final model as a HF folder train/final/")
    deterministic: bool = Field(
        default=False, description="torch.use_deterministic_algorithms(True): bitwise-reproducible on CPU"
    )
    threads: int | None = Field(
        default=None, ge=1, description="torch CPU threads (fix it for bitwise resume)"
    )
    tensorboard: bool = True
    reweight: ReweightConfig | None = None

    @field_validator("betas")
    @classmethod
    def _betas(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= b < 1 for b in v):
            raise ValueError("betas must be in [0, 1)")
        return v


def check_train(recipe) -> list[str]:
    """Semantic checks of ``train:`` against the rest of the recipe (run by ``mixkit validate``)."""
    cfg = recipe.train
    if cfg is None:
        return []
    issues = []
    sched = cfg.schedule
    if sched.decay_on_stage is not None:
        if sched.name != "wsd":
            issues.append(
                f"train.schedule.decay_on_stage: only the wsd schedule has a decay to trigger (name is "
                f"{sched.name!r}); set name: wsd or remove decay_on_stage"
            )
        stages = [s.name for s in recipe.mix.stages] if recipe.mix is not None else []
        if sched.decay_on_stage not in stages:
            issues.append(
                f"train.schedule.decay_on_stage: {sched.decay_on_stage!r} is not a mix stage (stages: "
                f"{', '.join(stages) or 'none, the recipe has no mix:'}); the decay would never start"
            )
    if cfg.seq_len is not None and recipe.mix is not None and cfg.seq_len != recipe.mix.seq_len:
        issues.append(
            f"train.seq_len ({cfg.seq_len}) differs from mix.seq_len ({recipe.mix.seq_len}); remove train.seq_len "
            "(the plan's is used)"
        )
    batch = recipe.mix.global_batch if recipe.mix is not None else None
    per_rank = cfg.micro_batch_size * cfg.grad_accum
    if batch is not None and batch % per_rank:
        issues.append(
            f"mix.global_batch ({batch}) is not a multiple of train.micro_batch_size x train.grad_accum "
            f"({cfg.micro_batch_size} x {cfg.grad_accum} = {per_rank}); one optimizer step reads that times the "
            f"number of processes, so set mix.global_batch to {per_rank} x processes (e.g. {per_rank})"
        )
    if cfg.model.path is not None:
        local = recipe.resolve(cfg.model.path)
        looks_local = cfg.model.path.startswith((".", "/", "~")) or cfg.model.path.count("/") > 1
        if looks_local and not (local / "config.json").is_file():
            issues.append(f"train.model.path: {local} has no config.json; point it at a HF checkpoint folder")
    if cfg.reweight is not None and cfg.reweight.method == "doremi":
        ref = cfg.reweight.params.get("reference")
        if ref and not recipe.resolve(ref).is_file():
            issues.append(
                f"train.reweight.reference: {recipe.resolve(ref)} not found; point it at the metrics.jsonl of a "
                "finished reference run"
            )
    return issues
