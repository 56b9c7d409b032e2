"""The ledger: every input record ends in exactly one of kept, dropped (step, reason) or quarantined (reason).

It is rebuilt from the per-shard and per-pass stats files of every stage (``stats/<stage>/*.json``), checks
``input == kept + dropped + quarantined`` overall and per channel, and is written to ``<workdir>/ledger.json``
without timings (those stay in ``stats/``), so identical runs give an identical ledger.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from mixkit.errors import MixkitError
from mixkit.logs import console
from mixkit.pipeline.layout import Workdir
from mixkit.utils import write_json

log = logging.getLogger("mixkit.ledger")

# Stages in data-flow order; a later stage's input per channel is the previous stage's kept.
STAGES = ("curate", "dedup")


class LedgerImbalance(MixkitError):
    """The ledger does not balance: some records were lost or counted twice (a bug; please report it)."""


def _load(folder: Path) -> list[dict[str, Any]]:
    return [orjson.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def build_ledger(recipe, write: bool = True, show: bool = True) -> dict[str, Any]:
    """Aggregate every stage's stats into the ledger, check that it balances, write and print it."""
    wd = Workdir.of(recipe)
    curate = _load(wd.stats("curate"))
    channels = {c: Counter() for c in recipe.channels}
    by_source: dict[str, Counter] = defaultdict(Counter)
    by_step: dict[str, dict[str, Any]] = {}
    dropped_reasons: Counter = Counter()
    quarantine_reasons: Counter = Counter()
    counters: dict[str, Counter] = defaultdict(Counter)
    kept_after: dict[str, dict[str, int]] = {}

    def add_steps(stage: str, stats: dict[str, Any]) -> None:
        for name, st in stats.get("steps", {}).items():
            key = f"{stage}.{name}" if stage != "curate" else name
            agg = by_step.setdefault(key, {"stage": stage, "docs_in": 0, "docs_out": 0, "dropped": Counter()})
            agg["docs_in"] += st.get("docs_in", 0)
            agg["docs_out"] += st.get("docs_out", 0)
            agg["dropped"].update(st.get("dropped", {}))
            # counters starting with "_" describe the execution (e.g. workers used), not the data: they stay in
            # stats/ so that the ledger is identical whatever the worker count
            counters[key].update({k: v for k, v in st.get("counters", {}).items() if not k.startswith("_")})

    for st in curate:
        ch = st["channel"]
        c = channels.setdefault(ch, Counter())
        q = sum(st["quarantined"].values())
        d = sum(sum(r.values()) for r in st["dropped"].values())
        c.update(input=st["input"], quarantined=q, dropped=d)
        by_source[st["source"]].update(input=st["input"], quarantined=q, dropped=d, kept=st["kept"])
        quarantine_reasons.update(st["quarantined"])
        for step, reasons in st["dropped"].items():
            for reason, n in reasons.items():
                dropped_reasons[f"{step}:{reason}"] += n
        kept_after.setdefault("curate", Counter())[ch] += st["kept"]
        add_steps("curate", st)

    problems: list[str] = []
    stages_run = ["curate"] if curate else []
    for stage in STAGES[1:]:
        rows = _load(wd.stats(stage))
        if not rows:
            continue
        stages_run.append(stage)
        prev = kept_after[stages_run[-2]] if len(stages_run) > 1 else Counter()
        for st in rows:
            ch = st["channel"]
            if st["input"] != prev.get(ch, 0):
                problems.append(
                    f"{stage}/{ch}: input {st['input']} != kept after {stages_run[-2]} "
                    f"({prev.get(ch, 0)}); rerun `mixkit {stage}` on the current curated data"
                )
            d = sum(sum(r.values()) for r in st.get("dropped", {}).values())
            channels.setdefault(ch, Counter()).update(dropped=d)
            for step, reasons in st.get("dropped", {}).items():
                for reason, n in reasons.items():
                    dropped_reasons[f"{stage}.{step}:{reason}"] += n
            kept_after.setdefault(stage, Counter())[ch] += st["kept"]
            add_steps(stage, st)

    final = kept_after[stages_run[-1]] if stages_run else Counter()
    by_channel: dict[str, dict[str, int]] = {}
    for ch, c in channels.items():
        row = {
            "input": c["input"],
            "kept": final.get(ch, 0),
            "dropped": c["dropped"],
            "quarantined": c["quarantined"],
        }
        if row["input"] != row["kept"] + row["dropped"] + row["quarantined"]:
            problems.append(
                f"channel {ch}: input {row['input']} != kept {row['kept']} + dropped {row['dropped']} "
                f"+ quarantined {row['quarantined']}"
            )
        by_channel[ch] = row
    totals = {k: sum(r[k] for r in by_channel.values()) for k in ("input", "kept", "dropped", "quarantined")}
    ledger = {
        **totals,
        "balanced": not problems
        and totals["input"] == totals["kept"] + totals["dropped"] + totals["quarantined"],
        "stages": stages_run,
        "by_channel": by_channel,
        "by_source": {s: dict(sorted(c.items())) for s, c in sorted(by_source.items())},
        "by_step": {k: {**v, "dropped": dict(sorted(v["dropped"].items()))} for k, v in by_step.items()},
        "by_reason": {
            "dropped": dict(sorted(dropped_reasons.items())),
            "quarantined": dict(sorted(quarantine_reasons.items())),
        },
        "counters": {k: dict(sorted(v.items())) for k, v in counters.items() if v},
        "kept_after": {stage: dict(sorted(v.items())) for stage, v in kept_after.items()},
        "problems": problems,
    }
    if write:
        write_json(wd.ledger, ledger)
    if show:
        print_ledger(ledger)
    if problems:
        raise LedgerImbalance("the ledger does not balance:\n  " + "\n  ".join(problems))
    return ledger


def print_ledger(ledger: dict[str, Any]) -> None:
    """Print the summary tables: per channel, per step, and the drop and quarantine reasons."""
    t = Table(title="ledger: every input record is kept, dropped or quarantined", title_justify="left")
    for col in ("channel", "input", "kept", "dropped", "quarantined"):
        t.add_column(col, justify="left" if col == "channel" else "right")
    for ch, r in ledger["by_channel"].items():
        t.add_row(ch, *(f"{r[k]:,}" for k in ("input", "kept", "dropped", "quarantined")))
    t.add_row("total", *(f"{ledger[k]:,}" for k in ("input", "kept", "dropped", "quarantined")), style="bold")
    console.print(t)
    if ledger["by_step"]:
        s = Table(title="steps", title_justify="left")
        for col in ("step", "in", "out", "dropped", "top reasons"):
            s.add_column(col, justify="left" if col in ("step", "top reasons") else "right")
        for name, st in ledger["by_step"].items():
            top = sorted(st["dropped"].items(), key=lambda kv: -kv[1])[:3]
            s.add_row(
                name,
                f"{st['docs_in']:,}",
                f"{st['docs_out']:,}",
                f"{sum(st['dropped'].values()):,}",
                ", ".join(f"{r} {n:,}" for r, n in top),
            )
        console.print(s)
    if ledger["by_reason"]["quarantined"]:
        q = Table(title="quarantine", title_justify="left")
        q.add_column("reason")
        q.add_column("records", justify="right")
        for reason, n in ledger["by_reason"]["quarantined"].items():
            q.add_row(reason, f"{n:,}")
        console.print(q)
    status = "balanced" if ledger["balanced"] else "NOT balanced"
    console.print(
        f"input {ledger['input']:,} = kept {ledger['kept']:,} + dropped {ledger['dropped']:,} + "
        f"quarantined {ledger['quarantined']:,}: {status}"
    )
