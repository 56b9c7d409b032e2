"""``mixkit mix``: plan the mixture from the packed token counts and write ``<workdir>/plan.json``.

Runs after ``mixkit.pack.stage.run_pack`` (it needs ``tokens/stats.json``). Prints the plan as a table (target
vs planned tokens and epochs per channel and source, per stage) and the Megatron-LM ``--data-path`` blend
string of every stage (weights are shares of samples, which equal shares of tokens for fixed-length sequences).
"""

from __future__ import annotations

import logging
from typing import Any

from mixkit.errors import MixkitError
from mixkit.mix.plan import MixError, Plan
from mixkit.mix.planner import build_plan, feasibility, fmt_tokens
from mixkit.pipeline.layout import Workdir
from mixkit.utils import loads

log = logging.getLogger("mixkit.mix")


def token_counts(recipe: Any) -> tuple[list[str], list[int], dict[str, dict[str, int]]] | None:
    """(channels, training tokens per channel, tokens per source per channel) from tokens/stats.json."""
    path = Workdir.of(recipe).tokens / "stats.json"
    if not path.is_file():
        return None
    stats = loads(path.read_bytes())
    channels = list(stats["channels"])
    tokens = [int(stats["train"].get(c, {}).get("tokens", 0)) for c in channels]
    sources = {
        c: {s: int(v["tokens"]) for s, v in stats["train"].get(c, {}).get("sources", {}).items()}
        for c in channels
    }
    return channels, tokens, sources


def plan_recipe(recipe: Any) -> Plan:
    """Build (not save) the plan of a recipe from its packed token counts."""
    if recipe.mix is None:
        raise MixkitError("the recipe has no `mix:` section; add one (see docs/mix.md)")
    counts = token_counts(recipe)
    if counts is None:
        raise MixError(
            f"{Workdir.of(recipe).tokens / 'stats.json'} not found: the planner needs real token "
            "counts; run `mixkit pack RECIPE` first"
        )
    channels, tokens, sources = counts
    return build_plan(recipe.mix, channels, tokens, recipe.seed, sources)


def blend_strings(plan: Plan, tokens_dir: Any) -> dict[str, str]:
    """Megatron-LM ``--data-path`` value per stage: "w1 prefix1 w2 prefix2 ..." with planned token shares."""
    out = {}
    for st in plan.report.get("stages", []):
        parts = [
            f"{st['planned_ratio'][c]:.6g} {tokens_dir}/{c}"
            for c in plan.channels
            if st["planned_ratio"][c] > 0
        ]
        out[st["name"]] = " ".join(parts)
    return out


def print_plan(plan: Plan, tokens_dir: Any) -> None:
    """The plan as rich tables: per stage target vs planned tokens, epochs per channel and per source."""
    from rich.table import Table

    from mixkit.logs import console

    for st in plan.report.get("stages", []):
        table = Table(
            title=f"stage {st['name']}: sequences {st['start']:,}-{st['end']:,} "
            f"({fmt_tokens(st['tokens'])} tokens)"
        )
        for col in ("channel", "target ratio", "planned ratio", "target tokens", "planned tokens", "epochs"):
            table.add_column(col, justify="left" if col == "channel" else "right")
        for c in plan.channels:
            if st["target_ratio"][c] == 0 and st["planned_tokens"][c] == 0:
                continue
            table.add_row(
                c,
                f"{st['target_ratio'][c]:.4f}",
                f"{st['planned_ratio'][c]:.4f}",
                f"{st['target_tokens'][c]:,.0f}",
                f"{st['planned_tokens'][c]:,}",
                f"{st['epochs'][c]:.3f}",
            )
        console.print(table)
    sources = plan.report.get("sources", {})
    if sources:
        table = Table(title="sources over the whole plan")
        for col in ("source", "channel", "tokens", "planned tokens", "epochs"):
            table.add_column(col, justify="left" if col in ("source", "channel") else "right")
        for name, s in sources.items():
            table.add_row(
                name, s["channel"], f"{s['tokens']:,}", f"{s['planned_tokens']:,.0f}", f"{s['epochs']:.3f}"
            )
        console.print(table)
    for name, blend in blend_strings(plan, tokens_dir).items():
        console.print(f"megatron --data-path for stage {name}: {blend}", soft_wrap=True)
    for w in plan.report.get("warnings", []):
        log.warning("mix: %s", w)


def run_mix(recipe: Any, show: bool = True) -> dict[str, Any]:
    """Plan the mix of ``recipe`` (after ``run_pack``), write ``<workdir>/plan.json`` and return its report."""
    wd = Workdir.of(recipe)
    plan = plan_recipe(recipe)
    plan.report["blend"] = blend_strings(plan, wd.tokens)
    plan.save(wd.plan)
    if show:
        print_plan(plan, wd.tokens)
    log.info(
        "mix: %d sequences of %d tokens (%s tokens) in %d stage(s)%s -> %s",
        plan.total_sequences,
        plan.seq_len,
        fmt_tokens(plan.total_tokens),
        len(plan.report["stages"]),
        f", each global batch of {plan.global_batch} sequences within one sequence of its share per channel"
        if plan.global_batch
        else "",
        wd.plan,
    )
    return plan.to_json()


def check_mix(recipe: Any) -> list[str]:
    """Semantic recipe check (``mixkit validate``): ratio channel names, and feasibility within the epoch
    caps when token counts exist already (after ``mixkit pack``)."""
    if recipe.mix is None:
        return []
    issues = []
    channels = recipe.channels
    for i, s in enumerate(recipe.mix.stages):
        for key, names in (("ratios", list(s.ratios or {})), ("channels", s.channels or [])):
            unknown = sorted(set(names) - set(channels))
            if unknown:
                issues.append(
                    f"mix.stages[{i}].{key}: unknown channel(s) {unknown}; the recipe's channels are "
                    f"{channels}"
                )
    if issues:
        return issues
    counts = token_counts(recipe)
    if counts is None:
        return []
    have, tokens, _ = counts
    missing = [c for c in channels if c not in have]
    if missing:
        return [
            f"mix: channel(s) {missing} are not in tokens/stats.json (packed before they were added); "
            "rerun `mixkit pack`"
        ]
    by_name = dict(zip(have, tokens, strict=True))
    return feasibility(recipe.mix, channels, [by_name[c] for c in channels])
