"""The run report: one self-contained HTML file, ``<workdir>/report.html``, readable offline.

Plots are PNGs inlined as base64 ``data:`` URIs, the style sheet is inline, there is no script, no web font and no
external URL, so the file can be mailed, attached to an issue or opened from an air-gapped machine. Every section
reads its own inputs from the workdir and says "not run" when they are absent, so the report of a partial run
is still useful. The same workdir and recipe give the same bytes (no timestamps; sampled documents are chosen by a
seeded hash; PNGs carry no software tag).
"""

from __future__ import annotations

import html
import logging
import math
from pathlib import Path
from typing import Any

from mixkit.pipeline.layout import Workdir
from mixkit.report.collect import (
    Collected,
    collect_curation,
    collect_dedup,
    collect_mix,
    collect_stages,
    collect_tokens,
    collect_training,
    read_json,
    sample_dropped,
    sample_quarantine,
)
from mixkit.report.config import ReportConfig
from mixkit.utils import atomic_open

log = logging.getLogger("mixkit.report")

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
       margin: 0; color: #1d232a; background: #f6f7f9; line-height: 1.45; }
header { background: #1d2b3a; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 1.5em; }
header .sub { color: #c7d2de; font-size: 0.9em; word-break: break-all; }
nav { padding: 8px 32px; background: #e8ecf1; font-size: 0.9em; }
nav a { margin-right: 14px; color: #1d4f91; text-decoration: none; }
main { padding: 8px 32px 40px 32px; max-width: 1200px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 6px 20px 16px 20px;
          margin: 18px 0; }
h2 { border-bottom: 1px solid #dde2e8; padding-bottom: 4px; }
h3 { margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 12px 0; font-size: 0.88em; }
th, td { border: 1px solid #dde2e8; padding: 3px 8px; vertical-align: top; }
th { background: #f0f3f6; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; background: #fafbfc; }
figure { margin: 10px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eef0f3; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { background: #f0f3f6; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .v { font-size: 1.35em; font-weight: 600; }
.card .k { font-size: 0.8em; color: #5b6670; text-transform: uppercase; letter-spacing: 0.03em; }
.ok { color: #1a7f37; } .bad { color: #c62828; } .warn { color: #9a6700; }
.notrun { color: #5b6670; font-style: italic; background: #f6f7f9; padding: 8px 12px; border-radius: 4px; }
pre.sample { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; border: 1px solid #e4e8ec;
             padding: 6px 10px; margin: 4px 0 10px 0; font-size: 0.82em; max-height: 14em; overflow: auto; }
.meta { color: #5b6670; font-size: 0.82em; }
details { margin: 6px 0; } summary { cursor: pointer; }
code { background: #f0f3f6; padding: 0 3px; border-radius: 3px; }
ul.warnings li { color: #9a6700; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """Integers with thousands separators, floats with ``digits`` significant digits."""
    if isinstance(value, bool) or value is None:
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return esc(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.{digits}g}" if abs(value) < 1e3 else f"{value:,.0f}"
    return esc(value)


def table(
    headers: list[str] | None,
    rows: list[list[Any]],
    numeric: set[int] | None = None,
    total_last: bool = False,
) -> str:
    """An HTML table; cells are escaped (pass ``Raw`` for prepared HTML); ``numeric`` columns right-aligned."""
    numeric = numeric or set()
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers or [])
    )
    body = []
    for r, row in enumerate(rows):
        cls = ' class="total"' if total_last and r == len(rows) - 1 else ""
        cells = []
        for i, cell in enumerate(row):
            content = cell.html if isinstance(cell, Raw) else fmt(cell)
            cells.append(f'<td class="num">{content}</td>' if i in numeric else f"<td>{content}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


class Raw:
    """Already-escaped HTML for a table cell."""

    def __init__(self, html_text: str) -> None:
        self.html = html_text


# Sample groups (reasons) shown expanded; the rest are one click away.
OPEN_GROUPS = 4


def not_run(what: str) -> str:
    return f'<p class="notrun">Not run: {esc(what)}</p>'


class Figures:
    """Renders plots, tolerating a missing matplotlib or a failing plot (the report is written regardless)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.count = 0
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.available = False
            problems.append("plots are missing: matplotlib is not installed (pip install 'mixkit[report]')")
        else:
            self.available = True

    def img(self, fn: Any, *args: Any, alt: str) -> str:
        if not self.available:
            return ""
        from mixkit.report import plots

        try:
            png = fn(*args)
        except Exception as exc:  # a plot bug must not lose the whole report
            log.warning("report: plot %r failed: %s", alt, exc)
            self.problems.append(f"plot '{alt}' could not be drawn: {type(exc).__name__}: {exc}")
            return ""
        self.count += 1
        return f'<figure><img class="plot" src="{plots.data_uri(png)}" alt="{esc(alt)}"></figure>'


# ------------------------------------------------------------------------------------------------ sections
def _summary(c: Collected) -> str:
    led = c.ledger
    if not led and c.curation:
        chans = c.curation["channels"].values()
        led = {
            "input": sum(x["input"] for x in chans),
            "kept": sum(x["kept"] for x in chans),
            "quarantined": sum(x["quarantined"] for x in chans),
        }
        led["dropped"] = led["input"] - led["kept"] - led["quarantined"]
    stage_rows = [
        [
            st["stage"],
            Raw(
                '<span class="ok">outputs present</span>'
                if st["outputs"]
                else '<span class="meta">not run</span>'
            ),
            f"{st['seconds']:,.1f} s" if isinstance(st["seconds"], int | float) else "",
            Raw(f"<code>{esc(st['fingerprint'])}</code>") if st["fingerprint"] else "",
        ]
        for st in c.stages
    ]
    stage_table = (
        "<h3>Stages</h3>" + table(["stage", "status", "last run took", "fingerprint"], stage_rows, {2})
        if stage_rows
        else ""
    )
    if not led:
        return (
            not_run(
                "no ledger.json and no curate stats in the workdir (run `mixkit curate` or `mixkit run`)."
            )
            + stage_table
        )
    cards = []
    for key in ("input", "kept", "dropped", "quarantined"):
        v = led.get(key)
        cards.append(f'<div class="card"><div class="k">{key}</div><div class="v">{fmt(v)}</div></div>')
    if "balanced" in led:
        ok = bool(led.get("balanced"))
        mark = '<span class="ok">balanced</span>' if ok else '<span class="bad">NOT balanced</span>'
        cards.append(f'<div class="card"><div class="k">ledger</div><div class="v">{mark}</div></div>')
    extra = ""
    problems = led.get("problems") or []
    if problems:
        extra += "<ul>" + "".join(f'<li class="bad">{esc(p)}</li>' for p in problems) + "</ul>"
    return f'<div class="cards">{"".join(cards)}</div>{extra}{stage_table}'


def _curation(c: Collected, figs: Figures) -> str:
    cur, led = c.curation, c.ledger or {}
    if not cur and not led.get("by_channel"):
        return not_run("no curate stats (stats/curate/*.json) or ledger.json in the workdir.")
    out = []
    by_channel = led.get("by_channel") or {}
    if not by_channel and cur:
        by_channel = {
            n: {
                "input": x["input"],
                "kept": x["kept"],
                "quarantined": x["quarantined"],
                "dropped": x["input"] - x["kept"] - x["quarantined"],
            }
            for n, x in cur["channels"].items()
        }
    if by_channel:
        rows = []
        for name, r in by_channel.items():
            inp = r.get("input", 0) or 0
            rows.append(
                [
                    name,
                    r.get("input"),
                    r.get("kept"),
                    r.get("dropped"),
                    r.get("quarantined"),
                    f"{100.0 * (r.get('kept') or 0) / inp:.1f}%" if inp else "-",
                ]
            )
        tot = [
            sum((r.get(k) or 0) for r in by_channel.values())
            for k in ("input", "kept", "dropped", "quarantined")
        ]
        rows.append(["total", *tot, f"{100.0 * tot[1] / tot[0]:.1f}%" if tot[0] else "-"])
        out.append("<h3>Records per channel</h3>")
        out.append(
            table(
                ["channel", "input", "kept", "dropped", "quarantined", "kept %"],
                rows,
                {1, 2, 3, 4, 5},
                total_last=True,
            )
        )
    if cur:
        out.append(
            "<h3>Funnel</h3><p>Records remaining after reading (malformed records are quarantined) and "
            "after each curate and dedup step, per channel.</p>"
        )
        out.append(figs.img(_plots().funnel, cur, alt="curation funnel per channel"))
        for name, ch in cur["channels"].items():
            rows = [
                [
                    r["label"],
                    r["stage"],
                    r["remaining"],
                    r["removed"],
                    f"{100.0 * r['remaining'] / ch['input']:.1f}%" if ch["input"] else "-",
                ]
                for r in ch["funnel"]
            ]
            out.append(
                f"<details><summary>channel <b>{esc(name)}</b>: {fmt(ch['input'])} in, "
                f"{fmt(ch['kept'])} kept</summary>"
                + table(["after", "stage", "remaining", "removed here", "% of input"], rows, {2, 3, 4})
                + "</details>"
            )
        if cur["reasons"]:
            chans = list(cur["channels"])
            out.append("<h3>Drop reasons</h3>")
            out.append(
                figs.img(
                    _plots().reasons_bar,
                    cur["reasons"],
                    chans,
                    "Most frequent drop reasons",
                    alt="drop reasons by channel",
                )
            )
            rows = [
                [
                    r["stage"],
                    r["step"],
                    r["reason"],
                    *(r["by_channel"].get(ch, 0) for ch in chans),
                    r["total"],
                ]
                for r in cur["reasons"]
            ]
            out.append(
                table(["stage", "step", "reason", *chans, "total"], rows, set(range(3, 4 + len(chans))))
            )
    q = (cur or {}).get("quarantine") or (led.get("by_reason") or {}).get("quarantined") or {}
    out.append("<h3>Quarantine reasons</h3>")
    if q:
        per = {n: x["quarantine_reasons"] for n, x in (cur or {}).get("channels", {}).items()}
        chans = [n for n in per if per[n]]
        rows = [[reason, *(per[ch].get(reason, 0) for ch in chans), n] for reason, n in q.items()]
        out.append(table(["reason", *chans, "total"], rows, set(range(1, 2 + len(chans)))))
    else:
        out.append("<p>No record was quarantined: every input record was readable.</p>")
    return "".join(out)


def _samples(c: Collected) -> str:
    out = []
    d = c.dropped_samples
    out.append("<h3>Dropped documents</h3>")
    if not d:
        out.append(
            not_run("no dropped/*.parquet in the workdir (nothing dropped, or curate.write_dropped is off).")
        )
    else:
        if d["total"]:
            out.append(
                f"<p>{fmt(d['total'])} dropped documents in {fmt(d['files'])} file(s); a seeded sample per "
                "reason, texts cut to the configured length.</p>"
            )
        else:
            out.append("<p>No document was dropped.</p>")
        for i, g in enumerate(d["groups"]):
            items = []
            for s in g["samples"]:
                cut = (
                    f" (first {len(s['text']):,} of {s['chars']:,} chars)"
                    if s["chars"] > len(s["text"])
                    else ""
                )
                items.append(
                    f'<div class="meta">id <code>{esc(s["id"])}</code> · channel {esc(s["channel"])} · '
                    f"source {esc(s['source'])}{esc(cut)}</div>"
                    f'<pre class="sample">{esc(s["text"])}</pre>'
                )
            body = "".join(items) or "<p>(no samples requested)</p>"
            is_open = " open" if i < OPEN_GROUPS else ""
            out.append(
                f"<details{is_open}><summary><b>{esc(g['step'])}</b>: {esc(g['reason'])} — {fmt(g['count'])} "
                f"document(s)</summary>{body}</details>"
            )
    q = c.quarantine_samples
    out.append("<h3>Quarantined records</h3>")
    if not q:
        out.append("<p>No quarantine files: every input record was readable.</p>")
    else:
        for i, g in enumerate(q["groups"]):
            items = []
            for s in g["samples"]:
                where = f"{s['file']}:{s['line']}" if s.get("line") is not None else s.get("file")
                detail = f" · {s['detail']}" if s.get("detail") else ""
                items.append(
                    f'<div class="meta">{esc(where)} · source {esc(s.get("source"))}{esc(detail)}</div>'
                    f'<pre class="sample">{esc(s["raw"])}</pre>'
                )
            body = "".join(items) or "<p>(no samples requested)</p>"
            is_open = " open" if i < OPEN_GROUPS else ""
            out.append(
                f"<details{is_open}><summary><b>{esc(g['reason'])}</b> — {fmt(g['count'])} record(s)</summary>"
                f"{body}</details>"
            )
    return "".join(out)


def _dedup(c: Collected, figs: Figures) -> str:
    d = c.dedup
    if not d:
        return not_run(
            "no dedup stats (stats/dedup/*.json): the recipe has no dedup: section or it has not run."
        )
    out = []
    if d["channels"]:
        rows = [
            [
                ch,
                r["input"],
                r["kept"],
                r["dropped"],
                f"{100.0 * r['dropped'] / r['input']:.1f}%" if r["input"] else "-",
            ]
            for ch, r in d["channels"].items()
        ]
        out.append(table(["channel", "input", "kept", "removed", "removed %"], rows, {1, 2, 3, 4}))
    out.append("<h3>Cluster sizes</h3>")
    sizes = d["cluster_sizes"]
    dup = {k: n for k, n in sizes.items() if k >= 2}
    if dup:
        out.append(figs.img(_plots().cluster_histogram, dup, alt="dedup cluster-size histogram"))
        docs = sum(k * n for k, n in dup.items())
        out.append(
            f"<p>{fmt(sum(dup.values()))} clusters of near-duplicates hold {fmt(docs)} documents, of which one "
            f"per cluster is kept; the largest cluster has {fmt(max(dup))} documents."
            + (f" {fmt(sizes[1])} documents have no duplicate." if sizes.get(1) else "")
            + "</p>"
        )
    elif sizes:
        out.append(f"<p>No near-duplicate clusters: all {fmt(sizes.get(1, 0))} documents are unique.</p>")
    else:
        out.append("<p>No cluster sizes recorded (exact or line dedup only, or no MinHash step).</p>")
    lsh = d.get("lsh") or {}
    if lsh.get("bands"):
        curve = lsh.get("p_detect") or {}
        pts = ", ".join(f"{fmt(v)} at Jaccard {esc(k)}" for k, v in curve.items())
        out.append(
            f"<p class='meta'>MinHash LSH: {fmt(lsh.get('num_perm'))} permutations, {fmt(lsh['bands'])} bands × "
            f"{fmt(lsh.get('rows'))} rows; P(candidate pair): {pts}.</p>"
        )
    out.append("<h3>Decontamination</h3>")
    if d["decontam"]:
        out.append(figs.img(_plots().decontam_bar, d["decontam"], alt="decontamination hits per benchmark"))
        chans = list(d["decontam_by_channel"])
        items = d.get("decontam_items") or {}
        rows = [
            [b, *(d["decontam_by_channel"][ch].get(b, 0) for ch in chans), n, items.get(b, "")]
            for b, n in d["decontam"].items()
        ]
        out.append(
            table(
                ["benchmark", *chans, "documents (total)", "benchmark items hit"],
                rows,
                set(range(1, 3 + len(chans))),
            )
        )
    else:
        out.append("<p>No decontamination step ran, or no training document overlaps a benchmark.</p>")
    return "".join(out)


def _mix(c: Collected, figs: Figures) -> str:
    out = []
    m = c.mix
    out.append("<h3>Mix plan</h3>")
    if not m:
        out.append(
            not_run(
                "no plan.json in the workdir (the recipe has no mix: section or `mixkit mix` has not run)."
            )
        )
    else:
        if m["scalars"]:
            out.append(table(None, [[k, v] for k, v in m["scalars"].items()]))
        if any(s["target"] and s["realised"] for s in m["stages"]):
            out.append(
                figs.img(_plots().mix_bars, m["stages"], alt="token mix per stage, target vs realised")
            )
        for st in m["stages"]:
            out.append(f"<h4>stage {esc(st['name'])}</h4>")
            if st["scalars"]:
                out.append(
                    "<p class='meta'>"
                    + " · ".join(f"{esc(k)} {fmt(v)}" for k, v in st["scalars"].items())
                    + "</p>"
                )
            cols = st["columns"]
            names = [n for n in m["channels"] if any(n in col for col in cols.values())]
            names += sorted({n for col in cols.values() for n in col} - set(names))
            if names:
                keys = list(cols)
                rows = [[n, *(cols[k].get(n, "") for k in keys)] for n in names]
                out.append(table(["channel", *keys], rows, set(range(1, 1 + len(keys)))))
            if st["warnings"]:
                out.append(
                    '<ul class="warnings">' + "".join(f"<li>{esc(w)}</li>" for w in st["warnings"]) + "</ul>"
                )
        if m["epochs"]:
            out.append("<h4>Epochs per channel over the whole plan</h4>")
            rows = [[ch, m["channel_tokens"].get(ch, ""), e] for ch, e in m["epochs"].items()]
            out.append(table(["channel", "tokens (one epoch)", "epochs"], rows, {1, 2}))
        if m["sources"]:
            out.append("<h4>Sources over the whole plan</h4>")
            keys = sorted({k for r in m["sources"].values() for k in r}, key=lambda k: (k != "channel", k))
            rows = [[n, *(r.get(k, "") for k in keys)] for n, r in m["sources"].items()]
            out.append(table(["source", *keys], rows, {i + 1 for i, k in enumerate(keys) if k != "channel"}))
        if m["warnings"]:
            out.append(
                "<h4>Warnings</h4><ul class='warnings'>"
                + "".join(f"<li>{esc(w)}</li>" for w in m["warnings"])
                + "</ul>"
            )
        else:
            out.append("<p class='ok'>The planner raised no warnings.</p>")
        if m["blend"]:
            out.append("<h4>Megatron-LM <code>--data-path</code> per stage</h4>")
            out.append(
                table(["stage", "blend"], [[k, Raw(f"<code>{esc(v)}</code>")] for k, v in m["blend"].items()])
            )
    out.append("<h3>Characters per token</h3>")
    t = c.tokens
    if not t:
        out.append(not_run("no tokens/stats.json in the workdir (`mixkit pack` has not run)."))
    else:
        if t["info"]:
            out.append(
                "<p class='meta'>" + " · ".join(f"{esc(k)} {fmt(v)}" for k, v in t["info"].items()) + "</p>"
            )
        if any("chars_per_token" in r for r in t["channels"].values()):
            out.append(
                figs.img(_plots().chars_per_token, t["channels"], alt="characters per token per channel")
            )
        order = ("channel", "docs", "tokens", "chars", "chars_per_token", "val_docs", "val_tokens")
        for title, data in (("channel", t["channels"]), ("source", t["sources"])):
            if data:
                keys = sorted(
                    {k for r in data.values() for k in r},
                    key=lambda k: (order.index(k) if k in order else len(order), k),
                )
                rows = [[n, *(r.get(k, "") for k in keys)] for n, r in data.items()]
                out.append(table([title, *keys], rows, {i + 1 for i, k in enumerate(keys) if k != "channel"}))
    return "".join(out)


def _training(c: Collected, figs: Figures) -> str:
    t = c.training
    if not t:
        return not_run(
            "no train/metrics.jsonl in the workdir (the recipe has no train: section or it has not run)."
        )
    from mixkit.report.plots import colors_for

    names = list(t["channel_loss"]) + list(t["val_ppl"]) + [c for e in t["reweights"] for c in e["weights"]]
    colors = colors_for(names)
    out = [
        f"<p>{fmt(t['steps'])} optimizer steps logged. Dashed lines: stage boundaries; dotted: mix weights "
        "changed by reweighting.</p>"
    ]
    out.append(figs.img(_plots().loss_curves, t, colors, alt="training loss per channel"))
    if t["val_ppl"]:
        out.append(figs.img(_plots().val_perplexity, t, colors, alt="validation perplexity per channel"))
        rows = [[ch, pts[0][1], pts[-1][1], pts[-1][0]] for ch, pts in t["val_ppl"].items()]
        out.append(table(["channel", "first val ppl", "last val ppl", "at step"], rows, {1, 2, 3}))
    else:
        out.append('<p>No validation records (kind "val") in metrics.jsonl.</p>')
    if t["reweights"]:
        out.append(figs.img(_plots().weights_over_time, t, colors, alt="mix weights over training"))
        chans = sorted({c for e in t["reweights"] for c in e["weights"]})
        rows = [
            [e["step"], e.get("method") or "", *(e["weights"].get(ch, "") for ch in chans)]
            for e in t["reweights"]
        ]
        out.append(
            "<h4>Reweighting events</h4>"
            + table(["step", "method", *chans], rows, {0, *range(2, 2 + len(chans))})
        )
    if t["boundaries"]:
        out.append(
            "<h4>Stages</h4>"
            + table(["from step", "stage"], [[b["step"], b["stage"]] for b in t["boundaries"]], {0})
        )
    if t["tokens"]:
        # Tokens trained so far per channel against the plan's planned tokens (summed over its stages).
        planned: dict[str, float] = {}
        for st in (c.mix or {}).get("stages", []):
            for ch, n in st["columns"].get("planned_tokens", {}).items():
                planned[ch] = planned.get(ch, 0.0) + n
        total = sum(t["tokens"].values()) or 1.0
        rows = []
        for ch, n in t["tokens"].items():
            p = planned.get(ch)
            rows.append(
                [
                    ch,
                    n,
                    f"{100.0 * n / total:.1f}%",
                    p if p is not None else "",
                    f"{100.0 * n / p:.1f}%" if p else "",
                ]
            )
        out.append(
            "<h4>Tokens trained per channel (last train record)</h4>"
            + table(
                ["channel", "trained tokens", "share", "planned tokens (plan.json)", "% of plan"],
                rows,
                {1, 2, 3, 4},
            )
        )
    return "".join(out)


def _manifest(c: Collected) -> str:
    m = c.manifest
    if not m:
        return not_run("manifest unavailable.")
    r = m["recipe"]
    rows = [
        ["recipe", r.get("file") or r["name"]],
        ["recipe sha256", r.get("sha256", "(no file)")],
        ["recipe fingerprint (parsed)", r["fingerprint"]],
        ["seed", str(m["seed"])],
        ["workdir", m["workdir"]],
    ]
    for where, g in m["git"].items():
        rows.append([f"git ({where})", f"{g['commit']}{' (uncommitted changes)' if g['dirty'] else ''}"])
    if not m["git"]:
        rows.append(["git", "not a git checkout (or git not installed)"])
    out = [table(None, rows)]
    out.append("<h3>Versions</h3>")
    items = list(m["versions"].items())
    per_row = 3  # three package/version pairs per row keeps the table short
    flat = [x for kv in items for x in kv]
    rows = [flat[i : i + 2 * per_row] for i in range(0, len(flat), 2 * per_row)]
    rows[-1] += [""] * (2 * per_row - len(rows[-1]))
    out.append(table(["package", "version"] * per_row, rows))
    out.append("<h3>Input files</h3>")
    limit_mb = m["full_hash_limit"] / 1e6
    out.append(
        f"<p>sha256 of each file; files over {limit_mb:,.0f} MB are marked <b>partial</b>: their hash covers "
        "the size and the first and last MiB only.</p>"
    )
    listed = 0
    for src in m["inputs"]:
        out.append(
            f"<h4>{esc(src['source'])} <span class='meta'>(channel {esc(src['channel'])}, "
            f"{fmt(len(src['files']))} file(s), {fmt(src['bytes'])} bytes, digest "
            f"<code>{esc(src['digest'][:16])}</code>)</span></h4>"
        )
        rows = []
        for f in src["files"]:
            if listed >= m["max_listed_files"]:
                break
            listed += 1
            rows.append(
                [
                    f["path"],
                    f["size"],
                    Raw(f"<code>{esc(f['sha256'])}</code>"),
                    "partial" if f["partial"] else "full",
                ]
            )
        if rows:
            out.append(table(["file", "bytes", "sha256", "hash"], rows, {1}))
        elif not src["files"]:
            out.append("<p class='warn'>No file matches this source's paths.</p>")
    if listed < m["input_files"]:
        out.append(
            f"<p class='meta'>{fmt(m['input_files'] - listed)} more file(s) not listed "
            "(report.max_listed_files); they are covered by each source's digest.</p>"
        )
    return "".join(out)


def _plots():
    from mixkit.report import plots

    return plots


# ------------------------------------------------------------------------------------------------ assembly
def collect(recipe, cfg: ReportConfig | None = None) -> Collected:
    """Read every section's inputs from the recipe's workdir (missing ones become ``None``)."""
    from mixkit.recipe.checks import step_entries
    from mixkit.report.manifest import build_manifest

    cfg = cfg or recipe.report
    wd = Workdir.of(recipe)
    c = Collected(title=recipe.name, workdir=wd.root)
    c.ledger = current_ledger(recipe, wd, c.problems)
    curate_steps = [n for n, _ in step_entries(recipe.curate.steps)]
    dedup_steps = [n for n, _ in step_entries(recipe.dedup.steps)] if recipe.dedup else []
    c.curation = collect_curation(wd, curate_steps, dedup_steps, c.problems)
    c.dropped_samples = sample_dropped(
        wd.dropped, cfg.dropped_samples, cfg.sample_chars, recipe.seed, c.problems
    )
    c.quarantine_samples = sample_quarantine(
        wd.quarantine, cfg.quarantine_samples, cfg.sample_chars, recipe.seed, c.problems
    )
    c.dedup = collect_dedup(wd, c.problems)
    c.mix = collect_mix(wd, c.problems)
    c.tokens = collect_tokens(wd, c.problems)
    c.training = collect_training(wd.train / "metrics.jsonl", c.problems)
    c.stages = collect_stages(wd, c.problems)
    c.manifest = build_manifest(recipe, cfg.full_hash_limit, cfg.max_listed_files)
    return c


def current_ledger(recipe, wd: Workdir, problems: list[str]) -> dict[str, Any] | None:
    """The ledger rebuilt from every stage's stats files (``mixkit.pipeline.ledger.build_ledger``), so the report
    agrees with the funnel even when ``ledger.json`` was written before a later stage (dedup) ran; falls back to
    ``ledger.json`` when the stats are missing or do not balance (the imbalance is listed as a problem)."""
    saved = read_json(wd.ledger, problems)
    saved = saved if isinstance(saved, dict) else None
    if not wd.stats("curate").is_dir():
        return saved
    try:
        from mixkit.pipeline.ledger import build_ledger

        fresh = build_ledger(recipe, write=False, show=False)
    except Exception as exc:  # an imbalance or unreadable stats: show what was saved, and say why
        problems.append(f"ledger could not be rebuilt from stats/: {exc}")
        return saved
    if saved is not None and any(
        saved.get(k) != fresh.get(k) for k in ("input", "kept", "dropped", "quarantined")
    ):
        problems.append(
            f"{wd.ledger} is older than the stats of the last stage (stages {saved.get('stages')} vs "
            f"{fresh.get('stages')}); this report shows the ledger rebuilt from stats/"
        )
    return fresh


SECTIONS = (
    ("summary", "Summary"),
    ("curation", "Curation"),
    ("samples", "Dropped and quarantined samples"),
    ("dedup", "Dedup and decontamination"),
    ("mix", "Token mix"),
    ("training", "Training"),
    ("manifest", "Manifest"),
)


def render(c: Collected) -> str:
    """The report page for collected data (a complete HTML document)."""
    figs = Figures(c.problems)
    bodies = {
        "summary": _summary(c),
        "curation": _curation(c, figs),
        "samples": _samples(c),
        "dedup": _dedup(c, figs),
        "mix": _mix(c, figs),
        "training": _training(c, figs),
        "manifest": _manifest(c),
    }
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS)
    sections = "".join(
        f'<section id="{key}"><h2>{esc(title)}</h2>{bodies[key]}</section>' for key, title in SECTIONS
    )
    if c.problems:
        sections += (
            '<section id="problems"><h2>Problems while building this report</h2><ul>'
            + "".join(f"<li class='warn'>{esc(p)}</li>" for p in c.problems)
            + "</ul></section>"
        )
    version = (c.manifest or {}).get("versions", {}).get("mixkit", "")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mixkit report: {esc(c.title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>mixkit run report: {esc(c.title)}</h1>"
        f'<div class="sub">workdir {esc(c.workdir)} · mixkit {esc(version)} · {figs.count} plot(s)</div></header>'
        f"<nav>{nav}</nav><main>{sections}</main></body></html>\n"
    )


def write_report(recipe, path: str | Path | None = None) -> Path:
    """Write the run report of ``recipe`` to ``<workdir>/report.html`` (or ``path``) atomically; return its path.

    Called as the last step of ``mixkit run`` and by ``mixkit report``. Never fails because a stage's outputs are
    missing or partly unreadable: those sections say "not run" and the problems are listed at the end.
    """
    out = Path(path) if path else Workdir.of(recipe).report
    page = render(collect(recipe))
    with atomic_open(out, "wb") as fh:
        fh.write(page.encode("utf-8"))
    log.debug("report: %s", out)
    return out
