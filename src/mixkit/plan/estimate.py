"""Training memory, compute, time and token budgets for an :class:`~mixkit.plan.arch.Architecture`.

Formulas (units in brackets):

* Model states per GPU, mixed-precision Adam (Rajbhandari et al. 2020, "ZeRO", §3.1 and Fig. 1) [bytes]:
  16-bit weights 2Ψ, 16-bit gradients 2Ψ, fp32 optimizer states 12Ψ (master weights, momentum, variance,
  4 bytes each), Ψ = parameters. Over N data-parallel GPUs, ZeRO stage 1 partitions the optimizer states
  (2Ψ + 2Ψ + 12Ψ/N), stage 2 also the gradients (2Ψ + 14Ψ/N), stage 3 also the weights (16Ψ/N); stage 0 keeps
  all 16Ψ on every GPU.
* Activations per GPU (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
  §4.1 Eq. 1, §5 and §4.3) [bytes], sequence s, micro-batch b, width h, heads a, layers L, vocabulary v, 16-bit
  activations, no tensor/sequence parallelism:
  no recomputation  L·s·b·h·(34 + 5·a·s/h);
  selective         L·s·b·h·34      (attention scores recomputed; also what FlashAttention stores);
  full              L·2·s·b·h       (only each layer's input kept);
  plus, in every mode, the embedding dropout mask and output layer: 5·s·b·h + 4·s·b·v (fp32 logits).
  The 34 is the paper's count for a GPT block with a 4h MLP and dropout; a SwiGLU block without dropout
  stores a similar amount, so treat it as an estimate (±20 %), not an exact figure.
* Training compute C = 6·N·D (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1: 2N FLOPs
  per token forward, 4N backward) [FLOPs], N = total parameters, D = training tokens.
* Time = C / (GPUs · peak FLOP/s · MFU) [s]; MFU = model FLOPs utilisation (Chowdhery et al. 2022, "PaLM",
  App. B): achieved 6N·(tokens/s) over peak.
* Compute-optimal tokens D ≈ 20·N (Hoffmann et al. 2022, "Chinchilla", Table 3: ~20 tokens per parameter).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mixkit.plan.arch import Architecture, PlanError

# Bytes per parameter under mixed-precision Adam (ZeRO §3.1): 16-bit weights, 16-bit gradients, K = 12 bytes of
# fp32 optimizer state (master copy, Adam momentum, Adam variance).
WEIGHT_BYTES = 2
GRAD_BYTES = 2
OPTIMIZER_BYTES = 12
# Chinchilla (Hoffmann et al. 2022, Table 3): compute-optimal training uses ~20 tokens per parameter.
CHINCHILLA_TOKENS_PER_PARAM = 20.0
# Dense BF16 peak of an H100 SXM (NVIDIA H100 datasheet, without sparsity) [TFLOP/s].
DEFAULT_PEAK_TFLOPS = 989.0
# A typical well-tuned dense-LM MFU on H100s (PaLM reports 46 % on TPUv4; 35-45 % is common in practice).
DEFAULT_MFU = 0.40

Recompute = Literal["none", "selective", "full"]
RECOMPUTE_MODES: tuple[Recompute, ...] = ("none", "selective", "full")


@dataclass(frozen=True)
class TrainingSetup:
    """How the model is trained: what the memory, FLOPs and time estimates depend on.

    Args:
        gpus: data-parallel GPUs N (ZeRO partitions over these; time divides by them).
        seq_len: tokens per sequence s.
        micro_batch: sequences per GPU per forward pass b.
        tokens: training tokens D; ``None`` uses the Chinchilla-optimal 20·N.
        peak_tflops: peak dense 16-bit TFLOP/s of one GPU.
        mfu: model FLOPs utilisation in (0, 1]; ignored when ``throughput`` is given.
        throughput: measured training throughput of the whole job [tokens/s]; gives the MFU.
        recompute: activation recomputation used for the headline total.
        zero: ZeRO stage used for the headline total.
    """

    gpus: int = 8
    seq_len: int = 4096
    micro_batch: int = 1
    tokens: float | None = None
    peak_tflops: float = DEFAULT_PEAK_TFLOPS
    mfu: float = DEFAULT_MFU
    throughput: float | None = None
    recompute: Recompute = "selective"
    zero: int = 1

    def __post_init__(self) -> None:
        for name in ("gpus", "seq_len", "micro_batch"):
            if getattr(self, name) < 1:
                raise PlanError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.tokens is not None and self.tokens <= 0:
            raise PlanError(f"tokens must be positive, got {self.tokens}")
        if self.peak_tflops <= 0:
            raise PlanError(f"peak TFLOP/s must be positive, got {self.peak_tflops}")
        if not 0 < self.mfu <= 1:
            raise PlanError(f"MFU is a fraction in (0, 1], got {self.mfu} (e.g. 0.4 for 40 %)")
        if self.throughput is not None and self.throughput <= 0:
            raise PlanError(f"throughput must be positive tokens/s, got {self.throughput}")
        if self.recompute not in RECOMPUTE_MODES:
            raise PlanError(f"recompute must be one of {', '.join(RECOMPUTE_MODES)}, got {self.recompute!r}")
        if self.zero not in (0, 1, 2, 3):
            raise PlanError(f"ZeRO stage must be 0, 1, 2 or 3, got {self.zero}")


def model_state_bytes(params: int, gpus: int, zero: int) -> dict[str, float]:
    """Bytes per GPU of weights, gradients and Adam states under ZeRO stage ``zero`` over ``gpus`` (ZeRO §5)."""
    n = gpus
    weights = WEIGHT_BYTES * params / (n if zero >= 3 else 1)
    grads = GRAD_BYTES * params / (n if zero >= 2 else 1)
    optimizer = OPTIMIZER_BYTES * params / (n if zero >= 1 else 1)
    return {
        "weights": weights,
        "gradients": grads,
        "optimizer": optimizer,
        "total": weights + grads + optimizer,
    }


# Head width assumed when the number of heads is unknown (LLaMA, Mistral, Qwen2 7B all use 128).
ASSUMED_HEAD_DIM = 128


def activation_heads(arch: Architecture) -> int:
    """Heads a in the attention-score term 5·a·s/h; H / 128 when the architecture does not say."""
    return arch.heads if arch.heads is not None else max(1, arch.hidden // ASSUMED_HEAD_DIM)


def activation_bytes(
    arch: Architecture, seq_len: int, micro_batch: int, recompute: Recompute
) -> dict[str, float]:
    """Activation memory of one GPU's micro-batch (Korthikanti et al. 2022; see the module docstring)."""
    s, b, h, a, L, v = seq_len, micro_batch, arch.hidden, activation_heads(arch), arch.layers, arch.vocab
    if recompute == "none":
        per_layer = s * b * h * (34 + 5 * a * s / h)
    elif recompute == "selective":
        per_layer = 34 * s * b * h
    elif recompute == "full":
        per_layer = 2 * s * b * h
    else:
        raise PlanError(f"recompute must be one of {', '.join(RECOMPUTE_MODES)}, got {recompute!r}")
    # §4.3: embedding dropout mask (s·b·h), final norm + output projection inputs (4·s·b·h), fp32 logits (4·s·b·v).
    outside = 5 * s * b * h + 4 * s * b * v
    return {
        "per_layer": per_layer,
        "layers": L * per_layer,
        "embedding_output": outside,
        "total": L * per_layer + outside,
    }


@dataclass
class Plan:
    """Everything ``mixkit plan`` prints, as plain numbers (bytes, FLOPs, seconds, tokens)."""

    architecture: dict[str, Any]
    setup: dict[str, Any]
    params: dict[str, int]
    memory: dict[str, Any] = field(default_factory=dict)
    compute: dict[str, float] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FORMULAS = {
    "params": "V*H (embeddings) + V*H (output, 0 if tied) + (2L+1)*H (norms) + L*(2*H*n_h*d + 2*H*n_kv*d) "
    "(attention; 4*L*H^2 without GQA) + 3*L*H*H' (SwiGLU MLP) [+ biases]",
    "model_states": "bytes/GPU = 2*P/(N if ZeRO>=3) + 2*P/(N if ZeRO>=2) + 12*P/(N if ZeRO>=1) "
    "(Rajbhandari et al. 2020)",
    "activations": "bytes/GPU = L*s*b*h*(34 + 5*a*s/h) without recomputation, L*34*s*b*h selective, "
    "L*2*s*b*h full; + 5*s*b*h + 4*s*b*v for embedding and output layer (Korthikanti et al. 2022)",
    "flops": "C = 6*N*D (Kaplan et al. 2020)",
    "time": "C / (GPUs * peak FLOP/s * MFU)",
    "chinchilla": "D_opt = 20*N (Hoffmann et al. 2022)",
}


def estimate(arch: Architecture, setup: TrainingSetup | None = None) -> Plan:
    """Compute parameter counts, memory per GPU for every ZeRO stage and recomputation mode, FLOPs and time."""
    setup = setup or TrainingSetup()
    breakdown = arch.param_breakdown()
    n = breakdown["total"]
    states = {f"zero{z}": model_state_bytes(n, setup.gpus, z) for z in (0, 1, 2, 3)}
    acts = {mode: activation_bytes(arch, setup.seq_len, setup.micro_batch, mode) for mode in RECOMPUTE_MODES}
    totals = {
        f"zero{z}": {mode: states[f"zero{z}"]["total"] + acts[mode]["total"] for mode in RECOMPUTE_MODES}
        for z in (0, 1, 2, 3)
    }
    chinchilla = CHINCHILLA_TOKENS_PER_PARAM * n
    tokens = float(setup.tokens) if setup.tokens is not None else chinchilla
    flops = 6.0 * n * tokens
    peak = setup.peak_tflops * 1e12
    mfu = (6.0 * n * setup.throughput) / (setup.gpus * peak) if setup.throughput else setup.mfu
    seconds = flops / (setup.gpus * peak * mfu)
    compute = {
        "tokens": tokens,
        "tokens_source": "given" if setup.tokens is not None else "chinchilla",
        "flops": flops,
        "flops_per_token": 6.0 * n,
        "mfu": mfu,
        "mfu_source": "throughput" if setup.throughput else "given",
        "tokens_per_second": setup.gpus * peak * mfu / (6.0 * n),
        "seconds": seconds,
        "gpu_hours": seconds * setup.gpus / 3600.0,
        "chinchilla_tokens": chinchilla,
        "tokens_per_param": tokens / n,
    }
    memory = {
        "model_states": states,
        "activations": acts,
        "total": totals,
        "headline": totals[f"zero{setup.zero}"][setup.recompute],
    }
    notes = []
    if arch.heads is None:
        notes.append(
            f"heads not given: attention counted as 4*L*H^2 and the activation estimate assumes "
            f"{activation_heads(arch)} heads of width {ASSUMED_HEAD_DIM}; pass --heads for exact figures"
        )
    if setup.tokens is None:
        notes.append("tokens not given: D is the Chinchilla-optimal 20 tokens per parameter")
    return Plan(
        architecture=arch.to_dict(),
        setup=asdict(setup),
        params=breakdown,
        memory=memory,
        compute=compute,
        formulas=dict(FORMULAS),
        notes=notes,
    )
