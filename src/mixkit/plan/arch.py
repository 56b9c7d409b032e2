"""Decoder-only transformer architectures and their exact parameter counts.

The count follows the LLaMA layout (Touvron et al. 2023, "LLaMA", §2.2: pre-norm RMSNorm, SwiGLU MLP, rotary
positions, no biases), which Mistral and Qwen2/Qwen3 share with small differences handled here:

    embeddings      V·H
    output (head)   V·H            (0 when tie_word_embeddings: the head reuses the embedding matrix)
    norms           (2L + 1)·H     (two RMSNorm weights per layer and a final one; Qwen3 adds 2·d_head per layer)
    attention       L·(2·H·n_h·d + 2·H·n_kv·d)   = 4·L·H² without GQA (n_kv = n_h, d = H / n_h)
    attention bias  L·(n_h + 2·n_kv)·d          (Qwen2 q/k/v; LLaMA ``attention_bias`` adds o_proj's H too)
    MLP             3·L·H·H'       (gate, up, down; ``mlp_bias`` adds L·(2H' + H))

Units: parameters (counts of scalars). Rotary embeddings have no parameters.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixkit.errors import MixkitError

log = logging.getLogger("mixkit.plan")

# model_type values whose config.json we read with the LLaMA layout above (with their quirks).
SUPPORTED_TYPES = ("llama", "mistral", "qwen2", "qwen3")


class PlanError(MixkitError):
    """An architecture cannot be planned (missing or inconsistent dimensions)."""


@dataclass(frozen=True)
class Architecture:
    """The dimensions that determine parameter count, memory and FLOPs of a decoder-only LM.

    Args:
        vocab: vocabulary size V (rows of the embedding matrix).
        layers: number of transformer blocks L.
        hidden: model width H.
        intermediate: MLP inner width H' (SwiGLU: three H×H' matrices per layer).
        heads: attention heads n_h; ``None`` means "unknown": attention is then counted as 4·H² per layer.
        kv_heads: key/value heads n_kv for grouped-query attention (Ainslie et al. 2023); ``None`` = ``heads``.
        head_dim: width of one head d; ``None`` = H / n_h.
        tie_embeddings: the output head shares the embedding matrix (no separate V·H).
        qkv_bias: q, k and v projections have biases (Qwen2).
        o_bias: the output projection has a bias (LLaMA ``attention_bias: true``).
        mlp_bias: the three MLP projections have biases (LLaMA ``mlp_bias: true``).
        qk_norm: per-head RMSNorm on queries and keys (Qwen3), 2·d parameters per layer.
        model_type: where the dimensions came from (``llama``, ``qwen2``, ... or ``custom``).
    """

    vocab: int
    layers: int
    hidden: int
    intermediate: int
    heads: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    tie_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    model_type: str = "custom"

    def __post_init__(self) -> None:
        for name in ("vocab", "layers", "hidden", "intermediate"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise PlanError(f"{name} must be a positive integer, got {value!r}")
        if self.heads is None and (self.kv_heads is not None or self.head_dim is not None):
            raise PlanError("kv_heads/head_dim need the number of attention heads: pass --heads too")
        if self.heads is not None:
            if self.heads <= 0:
                raise PlanError(f"heads must be a positive integer, got {self.heads}")
            if self.head_dim is None and self.hidden % self.heads:
                raise PlanError(
                    f"hidden ({self.hidden}) is not divisible by heads ({self.heads}); pass head_dim explicitly"
                )
            kv = self.kv_heads if self.kv_heads is not None else self.heads
            if kv <= 0 or self.heads % kv:
                raise PlanError(
                    f"kv_heads ({kv}) must be positive and divide heads ({self.heads}) (grouped-query attention)"
                )

    @property
    def n_heads(self) -> int:
        """Attention heads (H / 128 is not assumed: without ``heads`` attention is one H-wide block)."""
        return self.heads if self.heads is not None else 1

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads if self.kv_heads is not None else self.n_heads

    @property
    def d_head(self) -> int:
        if self.head_dim is not None:
            return self.head_dim
        return self.hidden // self.n_heads

    def param_breakdown(self) -> dict[str, int]:
        """Parameters per component (see the module docstring for the formulas); ``total`` is their sum."""
        V, L, H, F = self.vocab, self.layers, self.hidden, self.intermediate
        q_width = self.n_heads * self.d_head
        kv_width = self.n_kv_heads * self.d_head
        attention = L * (2 * H * q_width + 2 * H * kv_width)
        attention_bias = L * ((q_width + 2 * kv_width) * self.qkv_bias + H * self.o_bias)
        mlp = L * 3 * H * F + L * (2 * F + H) * self.mlp_bias
        norms = (2 * L + 1) * H + (2 * L * self.d_head if self.qk_norm else 0)
        parts = {
            "embeddings": V * H,
            "output": 0 if self.tie_embeddings else V * H,
            "norms": norms,
            "attention": attention + attention_bias,
            "mlp": mlp,
        }
        parts["total"] = sum(parts.values())
        # Kaplan et al. 2020 (§2.1) count N without embeddings; the output head is a matmul and costs FLOPs.
        parts["non_embedding"] = parts["total"] - parts["embeddings"]
        return parts

    @property
    def params(self) -> int:
        """Total parameter count N."""
        return self.param_breakdown()["total"]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            heads=self.heads,
            kv_heads=self.n_kv_heads if self.heads else None,
            head_dim=self.d_head if self.heads else None,
        )
        return d

    # ------------------------------------------------------------------ reading Hugging Face configs
    @classmethod
    def from_hf_config(cls, config: dict[str, Any], source: str = "config") -> Architecture:
        """Read the dimensions of a Hugging Face ``config.json`` dict (llama, mistral, qwen2, qwen3).

        Defaults for absent keys follow each architecture's ``transformers`` configuration class: ``head_dim`` is
        H / n_h (Qwen3: 128), ``num_key_value_heads`` is n_h, ``tie_word_embeddings`` is false. Other
        ``model_type`` values are read with the LLaMA layout and a warning (the count may be off, e.g. for MoE).
        """
        if "text_config" in config and "hidden_size" not in config:
            config = {**config["text_config"], "model_type": config["text_config"].get("model_type", "")}
        model_type = str(config.get("model_type", "") or "unknown")
        if model_type not in SUPPORTED_TYPES:
            log.warning(
                "%s: model_type %r is not one of %s; counting it with the LLaMA layout, which may be off",
                source,
                model_type,
                ", ".join(SUPPORTED_TYPES),
            )
        missing = [
            k
            for k in (
                "vocab_size",
                "num_hidden_layers",
                "hidden_size",
                "intermediate_size",
                "num_attention_heads",
            )
            if config.get(k) is None
        ]
        if missing:
            raise PlanError(f"{source}: missing {', '.join(missing)}; is this a decoder-only LM config.json?")
        if config.get("num_local_experts") or config.get("num_experts"):
            raise PlanError(f"{source}: mixture-of-experts configs are not supported by mixkit plan yet")
        heads = int(config["num_attention_heads"])
        head_dim = config.get("head_dim")
        if head_dim is None:
            head_dim = 128 if model_type == "qwen3" else int(config["hidden_size"]) // heads
        return cls(
            vocab=int(config["vocab_size"]),
            layers=int(config["num_hidden_layers"]),
            hidden=int(config["hidden_size"]),
            intermediate=int(config["intermediate_size"]),
            heads=heads,
            kv_heads=int(config.get("num_key_value_heads") or heads),
            head_dim=int(head_dim),
            tie_embeddings=bool(config.get("tie_word_embeddings", False)),
            qkv_bias=model_type == "qwen2"
            or (model_type in ("llama", "qwen3") and bool(config.get("attention_bias"))),
            o_bias=model_type in ("llama", "qwen3") and bool(config.get("attention_bias")),
            mlp_bias=model_type == "llama" and bool(config.get("mlp_bias")),
            qk_norm=model_type == "qwen3",
            model_type=model_type,
        )

    @classmethod
    def from_json(cls, path: str | Path) -> Architecture:
        """Read a local ``config.json`` (or a model folder containing one)."""
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        if not path.is_file():
            raise PlanError(f"{path}: no such file; pass a local Hugging Face config.json or its folder")
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PlanError(
                f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); is it a config.json?"
            ) from exc
        if not isinstance(config, dict):
            raise PlanError(f"{path}: a config.json is a JSON object, got {type(config).__name__}")
        return cls.from_hf_config(config, source=str(path))
