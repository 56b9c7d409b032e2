"""The planner: from target ratios in tokens per stage, a token budget, repetition caps and the real token
counts per channel (``tokens/stats.json``), compute how many sequences each channel gets in each stage, the
epochs each source is seen, and the segments of the exact interleaving (``mixkit.mix.plan``).

Units: ratios are shares of tokens; budgets and counts are tokens; a stage is a whole number of sequences of
``seq_len`` tokens (its budget is rounded down to a multiple of seq_len). Because every sequence has exactly
``seq_len`` tokens, a share of sequences *is* a share of tokens: a source with 3× longer documents does not get
3× its share, unlike per-example sampling.

Repetition cap: ``max_epochs`` (default 4) follows Muennighoff et al. 2023, "Scaling Data-Constrained Language
Models" (NeurIPS), §5: up to ~4 epochs of repeated data are almost as good as fresh data, returns fall fast
after. Temperature sampling p_c ∝ n_c^(1/T) follows Arivazhagan et al. 2019 (arXiv:1907.05019), §4.2.
"""

from __future__ import annotations

import logging

import numpy as np

from mixkit.mix.config import MixConfig
from mixkit.mix.plan import MixError, Plan, Segment, stage_segments

log = logging.getLogger("mixkit.mix")


def fmt_tokens(n: float) -> str:
    """Human token count: 1.23B, 45.6M, 7.8K."""
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def _pct(x: float) -> str:
    return f"{x * 100:.3g}%"


def stage_budgets(cfg: MixConfig) -> list[int]:
    """Tokens per stage: absolute budgets, shares of ``total_tokens``, and the rest for the open stage."""
    fixed: list[int | None] = []
    for s in cfg.stages:
        if s.tokens is None:
            fixed.append(None)
        elif isinstance(s.tokens, str):
            fixed.append(round(float(s.tokens.strip()[:-1]) / 100 * (cfg.total_tokens or 0)))
        else:
            fixed.append(int(s.tokens))
    known = sum(t for t in fixed if t is not None)
    if None in fixed:
        rest = (cfg.total_tokens or 0) - known
        if rest <= 0:
            name = cfg.stages[fixed.index(None)].name
            raise MixError(
                f"mix: stage {name!r} takes the rest of total_tokens ({fmt_tokens(cfg.total_tokens or 0)}), but "
                f"the other stages already use {fmt_tokens(known)}; raise mix.total_tokens or shrink the stages"
            )
        fixed[fixed.index(None)] = rest
    elif cfg.total_tokens is not None and known != cfg.total_tokens:
        log.warning(
            "mix: stage budgets add up to %s, not total_tokens %s; using the stage budgets",
            fmt_tokens(known),
            fmt_tokens(cfg.total_tokens),
        )
    return [int(t) for t in fixed]  # type: ignore[arg-type]


def stage_ratios(cfg: MixConfig, channels: list[str], channel_tokens: list[int]) -> list[np.ndarray]:
    """Normalised token shares per stage (one float array over ``channels`` per stage)."""
    out = []
    for s in cfg.stages:
        if s.ratios is not None:
            unknown = sorted(set(s.ratios) - set(channels))
            if unknown:
                raise MixError(
                    f"mix.stages[{s.name}].ratios: unknown channel(s) {unknown}; "
                    f"the recipe's channels are {channels}"
                )
            w = np.array([float(s.ratios.get(c, 0.0)) for c in channels])
        else:
            temp = s.temperature or cfg.temperature
            chosen = s.channels or channels
            unknown = sorted(set(chosen) - set(channels))
            if unknown:
                raise MixError(
                    f"mix.stages[{s.name}].channels: unknown channel(s) {unknown}; "
                    f"the recipe's channels are {channels}"
                )
            n = np.array(
                [float(t) if c in chosen else 0.0 for c, t in zip(channels, channel_tokens, strict=True)]
            )
            w = np.where(n > 0, n, 0.0) ** (1.0 / float(temp))  # type: ignore[arg-type]
            if w.sum() <= 0:
                raise MixError(f"mix.stages[{s.name}]: temperature sampling over channels with no tokens")
        out.append(w / w.sum())
    return out


def feasibility(cfg: MixConfig, channels: list[str], channel_tokens: list[int]) -> list[str]:
    """Every reason the recipe cannot be planned within the caps, each with the numbers and the options."""
    issues: list[str] = []
    try:
        budgets = stage_budgets(cfg)
        ratios = stage_ratios(cfg, channels, channel_tokens)
    except MixError as exc:
        return [str(exc)]
    for ci, c in enumerate(channels):
        need = sum(b * r[ci] for b, r in zip(budgets, ratios, strict=True))
        have = channel_tokens[ci]
        if need <= 0:
            continue
        used = [(s.name, r[ci]) for s, r in zip(cfg.stages, ratios, strict=True) if r[ci] > 0]
        at = ", ".join(f"{_pct(r)} of {name}" for name, r in used)
        if have <= 0:
            issues.append(
                f"mix: channel {c} has no tokens but is asked for {fmt_tokens(need)} ({at}); "
                f"set its ratio to 0 or add data to the channel"
            )
            continue
        epochs = need / have
        if epochs > cfg.max_epochs + 1e-9:
            scale = cfg.max_epochs / epochs
            lower = ", ".join(f"{_pct(r * scale)} in {name}" for name, r in used)
            issues.append(
                f"mix: {c} needs {epochs:.1f} epochs at {at} ({fmt_tokens(need)} tokens from "
                f"{fmt_tokens(have)}); cap {cfg.max_epochs:g} -> lower the ratio to {lower}, or raise "
                f"mix.max_epochs to {np.ceil(epochs * 10) / 10:g}, or add {fmt_tokens(need / cfg.max_epochs - have)} "
                f"tokens of {c} data"
            )
    return issues


def build_plan(
    cfg: MixConfig,
    channels: list[str],
    channel_tokens: list[int],
    seed: int,
    source_tokens: dict[str, dict[str, int]] | None = None,
) -> Plan:
    """Plan the stream: per stage, sequences per channel and the Pfair segments; raise MixError if infeasible.

    Per stage of N sequences (budget // seq_len): when N <= ``cfg.period`` the counts are the largest-remainder
    apportionment of N·p and the stage is one period (exact totals). Longer stages repeat a period of P =
    ``cfg.period`` sequences with counts apportion(P·p) and end with a tail period apportion(r·p), r = N mod P,
    so every ratio is quantised to a multiple of 1/P (|error| < 1/P per channel, reported as planned vs target).
    With ``cfg.global_batch`` = B, N is rounded down to a multiple of B (stages start and end on batch
    boundaries), P is rounded up to one, and the patterns are batch-exact (``batch_pfair_pattern``).
    """
    issues = feasibility(cfg, channels, channel_tokens)
    if issues:
        raise MixError("the mix is infeasible:\n" + "\n".join(f"  - {i}" for i in issues))
    budgets = stage_budgets(cfg)
    ratios = stage_ratios(cfg, channels, channel_tokens)
    L = cfg.seq_len
    segments: list[Segment] = []
    stages_report = []
    warnings: list[str] = []
    pos = 0
    batch = cfg.global_batch or 0
    period_cap = -(-cfg.period // batch) * batch if batch else cfg.period
    for s, budget, p in zip(cfg.stages, budgets, ratios, strict=True):
        n = budget // L
        if budget % L:
            warnings.append(
                f"stage {s.name}: budget {budget} is not a multiple of seq_len {L}; "
                f"{budget % L} tokens dropped"
            )
        if batch:
            if n < batch:
                raise MixError(
                    f"mix: stage {s.name!r} has {n} sequences of {L} tokens, fewer than one global batch of "
                    f"{batch}; give it at least {fmt_tokens(batch * L)} tokens or lower mix.global_batch"
                )
            if n % batch:
                warnings.append(
                    f"stage {s.name}: {n % batch} sequences ({(n % batch) * L} tokens) dropped so that the stage "
                    f"ends on a global-batch boundary ({batch} sequences)"
                )
                n -= n % batch
        if n == 0:
            raise MixError(
                f"mix: stage {s.name!r} has {budget} tokens, less than one sequence of {L}; "
                "give it more tokens or lower mix.seq_len"
            )
        stage_segs = stage_segments(s.name, pos, n, p, period_cap, batch)
        segments.extend(stage_segs)
        planned = np.zeros(len(channels), dtype=np.int64)
        for seg in stage_segs:
            planned += seg.channel_counts(seg.length)
        for ci, c in enumerate(channels):
            if p[ci] > 0 and planned[ci] == 0:
                warnings.append(
                    f"stage {s.name}: {c} at {_pct(p[ci])} rounds to 0 sequences of {L} tokens; "
                    "raise its ratio or the stage budget"
                )
        stages_report.append(
            {
                "name": s.name,
                "start": pos,
                "end": pos + n,
                "sequences": n,
                "tokens": n * L,
                "target_ratio": {c: float(p[ci]) for ci, c in enumerate(channels)},
                "planned_ratio": {c: float(planned[ci] / n) for ci, c in enumerate(channels)},
                "target_tokens": {c: float(p[ci] * n * L) for ci, c in enumerate(channels)},
                "planned_tokens": {c: int(planned[ci]) * L for ci, c in enumerate(channels)},
                "epochs": {
                    c: (int(planned[ci]) * L / channel_tokens[ci] if channel_tokens[ci] else 0.0)
                    for ci, c in enumerate(channels)
                },
            }
        )
        pos += n
    plan = Plan(channels, L, seed, [int(t) for t in channel_tokens], segments)
    plan.check_patterns()
    epochs = plan.epochs()
    for c, e in epochs.items():
        if e > cfg.max_epochs + 1e-9:  # only possible through rounding of tiny channels
            warnings.append(f"{c}: {e:.3f} planned epochs exceed the cap {cfg.max_epochs:g} by rounding")
        elif e > 1:
            warnings.append(f"{c}: repeated {e:.2f} times (cap {cfg.max_epochs:g})")
    sources = {}
    for c, per_source in (source_tokens or {}).items():
        total = sum(per_source.values())
        for src, t in per_source.items():
            sources[src] = {
                "channel": c,
                "tokens": t,
                "epochs": epochs.get(c, 0.0),
                "planned_tokens": epochs.get(c, 0.0) * t,
                "share_of_channel": t / total if total else 0,
            }
    plan.report = {
        "max_epochs": cfg.max_epochs,
        "global_batch": batch or None,
        "stages": stages_report,
        "epochs": epochs,
        "sources": sources,
        "warnings": warnings,
    }
    return plan
