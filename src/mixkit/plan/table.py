"""Terminal rendering of a :class:`~mixkit.plan.estimate.Plan` (rich tables)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table

from mixkit.plan.estimate import RECOMPUTE_MODES, Plan


def human(n: float, unit: str = "") -> str:
    """``6738415616`` -> ``6.74B``: three significant figures with K/M/B/T (decimal) suffixes."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}{unit}"
    return f"{n:.3g}{unit}"


def gib(n: float) -> str:
    """Bytes as GiB (binary, 2^30, the unit GPU memory is reported in), without the unit."""
    return f"{n / 2**30:,.1f}"


def duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def render(plan: Plan) -> Group:
    """The tables ``mixkit plan`` prints: parameters, memory per GPU, compute and time."""
    a, s, p, c = plan.architecture, plan.setup, plan.params, plan.compute
    arch = (
        f"{a['model_type']}: V={a['vocab']:,} L={a['layers']} H={a['hidden']:,} H'={a['intermediate']:,}"
        + (f" heads={a['heads']} kv={a['kv_heads']} d={a['head_dim']}" if a.get("heads") else "")
        + (" tied" if a["tie_embeddings"] else "")
    )
    params = Table(title=f"Parameters ({arch})", title_justify="left")
    params.add_column("component")
    params.add_column("parameters", justify="right")
    params.add_column("share", justify="right")
    for key in ("embeddings", "output", "norms", "attention", "mlp"):
        params.add_row(key, f"{p[key]:,}", f"{p[key] / p['total']:.1%}")
    params.add_row("[bold]total[/bold]", f"[bold]{p['total']:,} ({human(p['total'])})[/bold]", "100%")
    params.add_row("non-embedding", f"{p['non_embedding']:,}", f"{p['non_embedding'] / p['total']:.1%}")

    mem = Table(
        title=f"Memory per GPU in GiB: {s['gpus']} GPUs, seq {s['seq_len']}, micro-batch {s['micro_batch']}, "
        "bf16 + fp32 Adam",
        title_justify="left",
        caption="total = weights + grads + Adam states (ZeRO) + activations (recomputation mode); * = headline",
        caption_justify="left",
    )
    mem.add_column("ZeRO")
    for col in ("weights", "grads", "Adam", "no recomp.", "selective", "full"):
        mem.add_column(col, justify="right")
    acts = plan.memory["activations"]
    for z in range(4):
        st = plan.memory["model_states"][f"zero{z}"]
        tot = plan.memory["total"][f"zero{z}"]
        cells = [
            gib(tot[m]) + ("*" if (z, m) == (s["zero"], s["recompute"]) else "") for m in RECOMPUTE_MODES
        ]
        mem.add_row(str(z), gib(st["weights"]), gib(st["gradients"]), gib(st["optimizer"]), *cells)
    mem.add_row("activations", "", "", "", *(gib(acts[m]["total"]) for m in RECOMPUTE_MODES))

    comp = Table(title="Compute (C = 6ND)", title_justify="left")
    comp.add_column("quantity")
    comp.add_column("value", justify="right")
    comp.add_row(
        "training tokens D", f"{human(c['tokens'])} ({c['tokens_source']}, {c['tokens_per_param']:.1f}/param)"
    )
    comp.add_row("Chinchilla-optimal tokens (20N)", human(c["chinchilla_tokens"]))
    comp.add_row("training FLOPs", f"{c['flops']:.3e}")
    comp.add_row("peak per GPU", f"{s['peak_tflops']:g} TFLOP/s")
    comp.add_row("MFU", f"{c['mfu']:.1%} ({c['mfu_source']})")
    comp.add_row("throughput", f"{human(c['tokens_per_second'])} tokens/s")
    comp.add_row(f"time on {s['gpus']} GPUs", f"{duration(c['seconds'])} ({c['gpu_hours']:,.0f} GPU-hours)")
    parts: list = [params, mem, comp]
    parts.extend(f"[yellow]note:[/yellow] {note}" for note in plan.notes)
    return Group(*parts)


def print_plan(plan: Plan, console: Console | None = None) -> None:
    (console or Console()).print(render(plan))
