"""The report's plots: matplotlib figures rendered off-screen (Agg) to PNG bytes, inlined as base64 by html.py.

``matplotlib.figure.Figure`` is used directly, never ``pyplot``: no global figure state and no GUI backend, so
rendering works in worker processes, on servers without a display and in tests. PNGs are written without the
``Software`` tag and with fixed size and DPI, so the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

# One colour per channel, stable across all plots of a report (matplotlib's tab10, colour-blind friendlier
# than the default cycle's later entries).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
DPI = 100


def colors_for(names: list[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(set(names)))}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def to_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _short(label: str, n: int = 28) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def funnel(curation: dict[str, Any]) -> bytes:
    """Share of each channel's input records remaining after reading and after every curate and dedup step."""
    channels = curation["channels"]
    colors = colors_for(list(channels))
    labels: list[str] = []
    for c in channels.values():
        for row in c["funnel"]:
            if row["label"] not in labels:
                labels.append(row["label"])
    fig = _figure(10, 3.2 + 0.12 * len(labels))
    ax = fig.subplots()
    lowest = 100.0
    for name, c in channels.items():
        base = c["input"] or 1
        xs, ys = [], []
        for row in c["funnel"]:
            xs.append(labels.index(row["label"]))
            ys.append(100.0 * row["remaining"] / base)
        lowest = min([lowest, *ys])
        label = f"{name} ({c['input']:,} in, {c['kept']:,} kept)"
        ax.plot(xs, ys, marker="o", color=colors[name], label=label)
        ax.annotate(f" {ys[-1]:.1f}%", (xs[-1], ys[-1]), color=colors[name], fontsize="small", va="center")
    ax.set_xticks(range(len(labels)), [_short(x) for x in labels], rotation=30, ha="right")
    ax.set_xlim(-0.3, len(labels) - 0.4)
    ax.set_ylabel("records remaining (% of input)")
    # Zoom in when little was removed (otherwise a 0.5 % drop is invisible); the axis label keeps it honest.
    ax.set_ylim(max(0.0, math.floor(lowest / 10.0) * 10.0 - 5.0), 101.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title("Curation funnel per channel")
    return to_png(fig)


def reasons_bar(rows: list[dict[str, Any]], channels: list[str], title: str, top: int = 15) -> bytes:
    """Horizontal bars of the most frequent drop reasons, stacked by channel."""
    rows = rows[:top]
    colors = colors_for(channels)
    fig = _figure(10, 1.2 + 0.32 * max(len(rows), 1))
    ax = fig.subplots()
    labels = [_short(f"{r['step']}: {r['reason']}", 48) for r in rows][::-1]
    left = [0.0] * len(rows)
    for ch in sorted(set(channels)):
        vals = [float(r["by_channel"].get(ch, 0)) for r in rows][::-1]
        if any(vals):
            ax.barh(range(len(rows)), vals, left=left, color=colors[ch], label=ch)
            left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(range(len(rows)), labels, fontsize="small")
    ax.set_xlabel("documents dropped")
    ax.legend(fontsize="small", loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    return to_png(fig)


def cluster_histogram(sizes: dict[int, int]) -> bytes:
    """Duplicate clusters by size (documents per cluster), log-scaled counts; sizes over 16 binned by powers of 2."""
    bins: dict[str, int] = {}
    for size, n in sorted(sizes.items()):
        if size <= 16:
            key = str(size)
        else:
            lo = 2 ** int(math.log2(size))
            key = f"{lo}-{2 * lo - 1}"
        bins[key] = bins.get(key, 0) + n
    fig = _figure(10, 3.4)
    ax = fig.subplots()
    ax.bar(range(len(bins)), list(bins.values()), color=PALETTE[0])
    ax.set_xticks(range(len(bins)), list(bins), rotation=45 if len(bins) > 12 else 0)
    ax.set_yscale("log")
    ax.set_xlabel("cluster size (documents sharing a near-duplicate cluster)")
    ax.set_ylabel("clusters")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Dedup cluster sizes")
    return to_png(fig)


def decontam_bar(hits: dict[str, int]) -> bytes:
    names = list(hits)[::-1]
    fig = _figure(10, 1.2 + 0.32 * max(len(names), 1))
    ax = fig.subplots()
    ax.barh(range(len(names)), [hits[n] for n in names], color=PALETTE[3])
    ax.set_yticks(range(len(names)), [_short(n, 40) for n in names])
    ax.set_xlabel("training documents overlapping the benchmark")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Decontamination hits per benchmark")
    return to_png(fig)


def mix_bars(stages: list[dict[str, Any]]) -> bytes:
    """Per stage: target vs realised share (%) of each channel or source, side by side."""
    stages = [s for s in stages if s["target"] and s["realised"]]
    fig = _figure(10, 0.6 + 2.6 * len(stages))
    axes = fig.subplots(len(stages), 1, squeeze=False)[:, 0]
    for ax, st in zip(axes, stages, strict=True):
        names = sorted(set(st["target"]) | set(st["realised"]))
        tsum = sum(st["target"].values()) or 1.0
        rsum = sum(st["realised"].values()) or 1.0
        t = [100.0 * st["target"].get(n, 0.0) / tsum for n in names]
        r = [100.0 * st["realised"].get(n, 0.0) / rsum for n in names]
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], t, width=0.4, label=f"target ({st['target_key']})", color=PALETTE[7])
        ax.bar(
            [x + 0.2 for x in xs], r, width=0.4, label=f"realised ({st['realised_key']})", color=PALETTE[0]
        )
        ax.set_xticks(list(xs), [_short(n, 20) for n in names])
        ax.set_ylabel("% of stage")
        ax.set_title(f"stage {st['name']}", fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize="small")
    return to_png(fig)


def chars_per_token(channels: dict[str, dict[str, float]]) -> bytes:
    names = [n for n, r in channels.items() if "chars_per_token" in r]
    colors = colors_for(names)
    fig = _figure(8, 3.0)
    ax = fig.subplots()
    ax.bar(
        range(len(names)), [channels[n]["chars_per_token"] for n in names], color=[colors[n] for n in names]
    )
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("characters per token")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Tokenizer compression per channel")
    return to_png(fig)


def _mark_events(ax, training: dict[str, Any]) -> None:
    """Stage boundaries as dashed lines with their name, reweighting steps as dotted lines; every training
    plot spans the same steps (0 to the last logged step) so their events line up."""
    ax.set_xlim(0, max(training["steps"], 1) * 1.02)
    for i, b in enumerate(training["boundaries"]):
        if i:  # the first stage starts with the run: name it without drawing a boundary
            ax.axvline(b["step"], color="#444444", linestyle="--", linewidth=1)
        ax.annotate(
            f" {b['stage']}",
            (b["step"], 1.0),
            xycoords=("data", "axes fraction"),
            annotation_clip=True,
            va="top",
            fontsize="small",
            color="#444444",
        )
    for i, rw in enumerate(training["reweights"]):
        ax.axvline(
            rw["step"],
            color="#9467bd",
            linestyle=":",
            linewidth=1,
            label="weights changed" if i == 0 else None,
        )


def loss_curves(training: dict[str, Any], colors: dict[str, str]) -> bytes:
    """Training loss (all tokens) and per-channel loss against optimizer steps."""
    fig = _figure(10, 4.2)
    ax = fig.subplots()
    if training["loss"]:
        xs, ys = zip(*training["loss"], strict=True)
        ax.plot(xs, ys, color="black", linewidth=1.5, label="all tokens")
    for ch, pts in training["channel_loss"].items():
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, color=colors.get(ch, "#7f7f7f"), linewidth=1, label=ch)
    _mark_events(ax, training)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    ax.set_title("Training loss per channel")
    return to_png(fig)


def val_perplexity(training: dict[str, Any], colors: dict[str, str]) -> bytes:
    fig = _figure(10, 4.0)
    ax = fig.subplots()
    for ch, pts in training["val_ppl"].items():
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, marker="o", markersize=3, color=colors.get(ch, "#7f7f7f"), label=ch)
    _mark_events(ax, training)
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("validation perplexity (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", loc="upper right")
    ax.set_title("Validation perplexity per channel")
    return to_png(fig)


def weights_over_time(training: dict[str, Any], colors: dict[str, str]) -> bytes:
    """Mix weights after every reweighting event (a step plot: weights hold until the next change)."""
    events = training["reweights"]
    if training.get("initial_weights"):
        events = [{"step": 0, "weights": training["initial_weights"]}, *events]
    names = sorted({c for e in events for c in e["weights"]})
    last = max(training["steps"], events[-1]["step"])
    fig = _figure(10, 3.2)
    ax = fig.subplots()
    for ch in names:
        xs = [e["step"] for e in events] + [last]
        ys = [e["weights"].get(ch, 0.0) for e in events]
        ys.append(ys[-1])
        ax.step(xs, ys, where="post", color=colors.get(ch, "#7f7f7f"), label=ch)
    ax.set_xlim(0, max(last, 1) * 1.02)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("mix weight")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    ax.set_title("Mix weights after each reweighting")
    return to_png(fig)
