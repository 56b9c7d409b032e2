"""mixkit plan: parameters, training memory per GPU, FLOPs, time and Chinchilla tokens of an architecture."""

from __future__ import annotations

import argparse
import re
import sys

HELP = "estimate parameters, memory per GPU (ZeRO 0-3), FLOPs (6ND), time and Chinchilla tokens of a model"

EPILOG = """\
formulas (units: parameters, bytes, FLOPs):
  parameters   V*H embeddings + V*H output (0 if tied) + (2L+1)*H norms
               + L*(2*H*n_h*d + 2*H*n_kv*d) attention (= 4*L*H^2 without GQA) + 3*L*H*H' MLP (+ biases)
  model states per GPU, bf16 weights + grads and fp32 Adam (Rajbhandari et al. 2020, ZeRO):
               ZeRO-0 16P, ZeRO-1 4P + 12P/N, ZeRO-2 2P + 14P/N, ZeRO-3 16P/N   (P params, N GPUs)
  activations per GPU (Korthikanti et al. 2022), s seq, b micro-batch, h hidden, a heads, L layers, v vocab:
               no recomputation  L*s*b*h*(34 + 5*a*s/h)
               selective         L*34*s*b*h        full  L*2*s*b*h
               + 5*s*b*h + 4*s*b*v for the embedding and output layer (fp32 logits)
  compute      C = 6*N*D FLOPs (Kaplan et al. 2020); time = C / (GPUs * peak * MFU)
  tokens       Chinchilla-optimal D = 20*N (Hoffmann et al. 2022)

examples:
  mixkit plan --vocab 32000 --layers 32 --hidden 4096 --intermediate 11008
  mixkit plan --config path/to/config.json --gpus 64 --tokens 100B --mfu 0.4 --json
"""

_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_count(value: str) -> float:
    """Parse a token count such as ``100B``, ``1.5T``, ``2e9`` or ``1_000_000`` (decimal suffixes)."""
    m = _COUNT.match(value.replace("_", ""))
    if not m:
        raise argparse.ArgumentTypeError(f"not a count: {value!r} (use e.g. 100B, 1.5T, 2e9)")
    return float(m.group(1)) * _SCALE[m.group(2).lower()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    g = p.add_argument_group("architecture (either --config, or --vocab/--layers/--hidden/--intermediate)")
    g.add_argument(
        "--config", metavar="PATH", help="local Hugging Face config.json (llama, mistral, qwen2, qwen3)"
    )
    g.add_argument("--vocab", type=int, metavar="V", help="vocabulary size")
    g.add_argument("--layers", type=int, metavar="L", help="transformer blocks")
    g.add_argument("--hidden", type=int, metavar="H", help="model width")
    g.add_argument("--intermediate", type=int, metavar="H'", help="MLP inner width (SwiGLU)")
    g.add_argument("--heads", type=int, help="attention heads (needed for GQA and the activation estimate)")
    g.add_argument("--kv-heads", type=int, help="key/value heads (grouped-query attention)")
    g.add_argument("--head-dim", type=int, help="width of one head (default hidden/heads)")
    g.add_argument(
        "--tie-embeddings", action="store_true", help="the output head shares the embedding matrix"
    )
    g.add_argument("--qkv-bias", action="store_true", help="q/k/v projections have biases (Qwen2)")
    t = p.add_argument_group("training")
    t.add_argument("--gpus", type=int, default=8, help="data-parallel GPUs (default 8)")
    t.add_argument("--seq-len", type=int, default=4096, help="tokens per sequence (default 4096)")
    t.add_argument("--micro-batch", type=int, default=1, help="sequences per GPU per step (default 1)")
    t.add_argument("--tokens", type=parse_count, help="training tokens, e.g. 100B (default: Chinchilla 20N)")
    t.add_argument(
        "--peak-tflops",
        type=float,
        default=989.0,
        help="peak dense bf16 TFLOP/s per GPU (default 989, H100 SXM)",
    )
    t.add_argument("--mfu", type=float, default=0.40, help="model FLOPs utilisation (default 0.40)")
    t.add_argument(
        "--throughput",
        type=parse_count,
        help="measured job throughput in tokens/s; gives the MFU instead of --mfu",
    )
    t.add_argument(
        "--zero", type=int, choices=[0, 1, 2, 3], default=1, help="ZeRO stage of the headline (default 1)"
    )
    t.add_argument(
        "--recompute",
        choices=["none", "selective", "full"],
        default="selective",
        help="activation recomputation of the headline (default selective)",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON on stdout instead of tables")


def main(args: argparse.Namespace) -> int:
    from mixkit.plan import Architecture, PlanError, TrainingSetup, estimate

    dims = {k: getattr(args, k) for k in ("vocab", "layers", "hidden", "intermediate")}
    if args.config:
        given = [f"--{k}" for k, v in dims.items() if v is not None]
        if given:
            raise PlanError(
                f"--config and {', '.join(given)} both given; use one way to name the architecture"
            )
        arch = Architecture.from_json(args.config)
    else:
        missing = [f"--{k}" for k, v in dims.items() if v is None]
        if missing:
            raise PlanError(
                f"missing {', '.join(missing)}: give all of --vocab --layers --hidden --intermediate, "
                "or --config config.json"
            )
        arch = Architecture(
            **dims,
            heads=args.heads,
            kv_heads=args.kv_heads,
            head_dim=args.head_dim,
            tie_embeddings=args.tie_embeddings,
            qkv_bias=args.qkv_bias,
        )
    setup = TrainingSetup(
        gpus=args.gpus,
        seq_len=args.seq_len,
        micro_batch=args.micro_batch,
        tokens=args.tokens,
        peak_tflops=args.peak_tflops,
        mfu=args.mfu,
        throughput=args.throughput,
        recompute=args.recompute,
        zero=args.zero,
    )
    plan = estimate(arch, setup)
    if args.json:
        from mixkit.utils import dumps

        sys.stdout.write(dumps(plan.to_dict()).decode() + "\n")
    else:
        from mixkit.plan.table import print_plan

        print_plan(plan)
    return 0
