"""Read what a run left in its workdir into plain data for the report, tolerating anything that is missing.

Every reader returns ``None`` when its inputs are absent (the section then says "not run") and records problems
with files it could not parse in ``Collected.problems`` instead of failing: a report of a half-finished or
crashed run is exactly when a user needs one.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import json
import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xxhash

from mixkit.pipeline.layout import Workdir

log = logging.getLogger("mixkit.report")


@dataclass
class Collected:
    """Everything the report shows, section by section (``None`` = the stage did not run)."""

    title: str
    workdir: Path
    ledger: dict[str, Any] | None = None
    curation: dict[str, Any] | None = None
    dropped_samples: dict[str, Any] | None = None
    quarantine_samples: dict[str, Any] | None = None
    dedup: dict[str, Any] | None = None
    mix: dict[str, Any] | None = None
    tokens: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_json(path: Path, problems: list[str]) -> Any:
    """The parsed JSON at ``path``, or ``None`` if absent; a corrupt file is noted in ``problems``."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: could not read ({exc}); the section using it is incomplete")
        return None


def _json_dir(folder: Path, problems: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = read_json(path, problems)
        if isinstance(data, dict):
            out.append((path, data))
    return out


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _ordered(names: list[str], preferred: list[str]) -> list[str]:
    """``names`` in the recipe's order first (``preferred``), then the rest in their given order."""
    first = [n for n in dict.fromkeys(preferred) if n in names]
    return first + [n for n in names if n not in first]


# --------------------------------------------------------------------------------------------- stages
def collect_stages(wd: Workdir, problems: list[str]) -> list[dict[str, Any]]:
    """Which stages left outputs, and the time and fingerprint ``mixkit run`` recorded for each
    (``markers/stages/<stage>.json``)."""
    outputs = {
        "curate": any(wd.stats("curate").glob("*.json")) if wd.stats("curate").is_dir() else False,
        "dedup": any(wd.stats("dedup").glob("*.json")) if wd.stats("dedup").is_dir() else False,
        "pack": (wd.tokens / "stats.json").is_file(),
        "mix": wd.plan.is_file(),
        "train": (wd.train / "metrics.jsonl").is_file(),
    }
    rows = []
    for stage, present in outputs.items():
        marker = read_json(wd.markers("stages") / f"{stage}.json", problems)
        marker = marker if isinstance(marker, dict) else {}
        rows.append(
            {
                "stage": stage,
                "outputs": present,
                "seconds": marker.get("seconds"),
                "fingerprint": marker.get("fingerprint"),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------- curation funnel
def collect_curation(
    wd: Workdir, curate_steps: list[str], dedup_steps: list[str], problems: list[str]
) -> dict[str, Any] | None:
    """Per channel: records remaining after reading and after every curate and dedup step, and why they left.

    Built from the per-shard ``stats/curate/*.json`` and per-channel ``stats/dedup/*.json`` files (the same
    files the ledger is built from), so the funnel shows steps per channel, which the ledger aggregates away.
    """
    curate = _json_dir(wd.stats("curate"), problems)
    dedup = _json_dir(wd.stats("dedup"), problems)
    if not curate and not dedup:
        return None
    chans: dict[str, dict[str, Any]] = {}

    def chan(name: str) -> dict[str, Any]:
        return chans.setdefault(
            name,
            {
                "input": 0,
                "quarantined": Counter(),
                "kept": 0,
                "steps": {},
                "dedup_input": None,
                "dedup_kept": None,
            },
        )

    def add_step(c: dict[str, Any], key: str, stage: str, st: dict[str, Any]) -> None:
        agg = c["steps"].setdefault(key, {"stage": stage, "docs_in": 0, "docs_out": 0, "dropped": Counter()})
        agg["docs_in"] += _int(st.get("docs_in"))
        agg["docs_out"] += _int(st.get("docs_out"))
        agg["dropped"].update({r: _int(n) for r, n in (st.get("dropped") or {}).items()})

    reasons: Counter = Counter()  # (stage, step, reason, channel) -> n
    for _path, st in curate:
        c = chan(str(st.get("channel", "?")))
        c["input"] += _int(st.get("input"))
        c["kept"] += _int(st.get("kept"))
        c["quarantined"].update({r: _int(n) for r, n in (st.get("quarantined") or {}).items()})
        for name, s in (st.get("steps") or {}).items():
            add_step(c, name, "curate", s)
        for step, rs in (st.get("dropped") or {}).items():
            for reason, n in rs.items():
                reasons[("curate", step, reason, st.get("channel", "?"))] += _int(n)
    dedup_order: list[str] = []
    for _path, st in dedup:
        dedup_order += [str(k) for k in st.get("order") or [] if str(k) not in dedup_order]
        c = chan(str(st.get("channel", "?")))
        c["dedup_input"] = (c["dedup_input"] or 0) + _int(st.get("input"))
        c["dedup_kept"] = (c["dedup_kept"] or 0) + _int(st.get("kept"))
        for name, s in (st.get("steps") or {}).items():
            add_step(c, f"dedup.{name}", "dedup", s)
        for step, rs in (st.get("dropped") or {}).items():
            for reason, n in rs.items():
                reasons[("dedup", step, reason, st.get("channel", "?"))] += _int(n)

    # Stats files store steps with sorted keys, so the order comes from the recipe (the executor's order); steps
    # the recipe does not name follow by decreasing input summed over channels (a funnel only narrows), one
    # order for every channel so the funnel plot's x axis means the same step for all of them.
    totals: dict[str, list[int]] = {}
    for c in chans.values():
        for k, v in c["steps"].items():
            t = totals.setdefault(k, [0, 0, 0 if v["stage"] == "curate" else 1])
            t[0] += v["docs_in"]
            t[1] += v["docs_out"]
    by_input = sorted(totals, key=lambda k: (totals[k][2], -totals[k][0], -totals[k][1], k))
    order = _ordered([k for k in by_input if totals[k][2] == 0], curate_steps) + _ordered(
        [k for k in by_input if totals[k][2] == 1], [f"dedup.{s}" for s in [*dedup_order, *dedup_steps]]
    )

    channels: dict[str, Any] = {}
    for name in sorted(chans):
        c = chans[name]
        q = sum(c["quarantined"].values())
        funnel = [{"label": "input", "stage": "read", "remaining": c["input"], "removed": 0}]
        if c["input"] or q:
            funnel.append(
                {
                    "label": "readable (not quarantined)",
                    "stage": "read",
                    "remaining": c["input"] - q,
                    "removed": q,
                }
            )
        for key in order:
            if key not in c["steps"]:
                continue
            s = c["steps"][key]
            funnel.append(
                {
                    "label": key,
                    "stage": s["stage"],
                    "remaining": s["docs_out"],
                    "removed": sum(s["dropped"].values()),
                    "docs_in": s["docs_in"],
                }
            )
        kept = c["dedup_kept"] if c["dedup_kept"] is not None else c["kept"]
        channels[name] = {
            "input": c["input"],
            "quarantined": q,
            "quarantine_reasons": dict(sorted(c["quarantined"].items())),
            "curated": c["kept"],
            "kept": kept,
            "funnel": funnel,
        }
    reason_rows: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for (stage, step, reason, ch), n in sorted(reasons.items()):
        reason_rows[(stage, step, reason)][ch] = n
    return {
        "channels": channels,
        "reasons": [
            {"stage": stage, "step": step, "reason": reason, "by_channel": per, "total": sum(per.values())}
            for (stage, step, reason), per in sorted(
                reason_rows.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])
            )
        ],
        "quarantine": dict(
            sorted(sum((Counter(c["quarantine_reasons"]) for c in channels.values()), Counter()).items())
        ),
    }


# --------------------------------------------------------------------------------------------- samples
def _rank(seed: int, key: str) -> int:
    """Deterministic pseudo-random rank of a record: the same sample whatever the file or worker order."""
    return xxhash.xxh64_intdigest(f"{seed}:{key}".encode())


def _clip(text: str, chars: int) -> tuple[str, int]:
    return (text if len(text) <= chars else text[:chars]), len(text)


def sample_dropped(
    folder: Path, per_reason: int, chars: int, seed: int, problems: list[str]
) -> dict[str, Any] | None:
    """Up to ``per_reason`` dropped documents per (step, reason), chosen by a seeded hash of their id.

    Two passes keep it cheap on large runs: the first reads only the small columns (id, step, reason) of every
    row group to pick the winners (a bounded heap per reason), the second reads text only for the row groups
    that hold a winner.
    """
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    import pyarrow.parquet as pq

    heaps: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)  # max-heap via -rank
    counts: Counter = Counter()
    for fi, path in enumerate(files):
        try:
            pf = pq.ParquetFile(path)
            cols = [c for c in ("id", "step", "reason") if c in pf.schema_arrow.names]
            if len(cols) < 3:
                problems.append(f"{path}: missing columns {sorted({'id', 'step', 'reason'} - set(cols))}")
                continue
            # mixkit.dedup writes its drops to dropped/dedup-<channel>.parquet: label them as the funnel does
            prefix = "dedup." if path.name.startswith("dedup-") else ""
            for rg in range(pf.num_row_groups):
                t = pf.read_row_group(rg, columns=cols).to_pydict()
                for row, (doc_id, step, reason) in enumerate(
                    zip(t["id"], t["step"], t["reason"], strict=True)
                ):
                    label = str(step) if str(step).startswith(prefix) else f"{prefix}{step}"
                    key = (label, str(reason))
                    counts[key] += 1
                    if per_reason <= 0:
                        continue
                    item = (-_rank(seed, f"{doc_id}"), fi, rg, row)
                    heap = heaps[key]
                    if len(heap) < per_reason:
                        heapq.heappush(heap, item)
                    elif item > heap[0]:
                        heapq.heapreplace(heap, item)
        except Exception as exc:  # a corrupt dropped shard must not sink the whole report
            problems.append(f"{path}: could not read dropped documents ({exc})")
    wanted: dict[tuple[int, int], list[tuple[tuple[str, str], int, int]]] = defaultdict(list)
    for key, heap in heaps.items():
        for neg, fi, rg, row in heap:
            wanted[(fi, rg)].append((key, row, -neg))
    picked: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for (fi, rg), rows in sorted(wanted.items()):
        pf = pq.ParquetFile(files[fi])
        names = [c for c in ("id", "text", "channel", "source", "meta") if c in pf.schema_arrow.names]
        t = pf.read_row_group(rg, columns=names).to_pydict()
        for key, row, rank in rows:
            text, n = _clip(str(t.get("text", [""] * (row + 1))[row] or ""), chars)
            picked[key].append(
                {
                    "rank": rank,
                    "id": t["id"][row],
                    "channel": t.get("channel", [None] * (row + 1))[row],
                    "source": t.get("source", [None] * (row + 1))[row],
                    "text": text,
                    "chars": n,
                    "file": files[fi].name,
                }
            )
    groups = []
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        docs = sorted(picked.get(key, []), key=lambda d: (d["rank"], d["id"]))
        for d in docs:
            d.pop("rank")
        groups.append({"step": key[0], "reason": key[1], "count": counts[key], "samples": docs})
    return {"groups": groups, "files": len(files), "total": sum(counts.values())}


def sample_quarantine(
    folder: Path, per_reason: int, chars: int, seed: int, problems: list[str]
) -> dict[str, Any] | None:
    """Up to ``per_reason`` quarantined records per reason (``quarantine/*.jsonl``), raw content cut to ``chars``."""
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        return None
    heaps: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    counts: Counter = Counter()
    for path in files:
        try:
            with open(path, "rb") as fh:
                for n, line in enumerate(fh):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        problems.append(f"{path}:{n + 1}: unreadable quarantine record")
                        continue
                    reason = str(rec.get("reason", "unknown"))
                    counts[reason] += 1
                    if per_reason <= 0:
                        continue
                    key = f"{rec.get('file')}:{rec.get('line')}:{path.name}:{n}"
                    raw = rec.get("raw")
                    raw = raw if isinstance(raw, str) else json.dumps(raw)
                    if rec.get("raw_encoding") == "base64":
                        # bytes that are not UTF-8: show them decoded, invalid sequences as U+FFFD
                        with contextlib.suppress(ValueError):
                            raw = base64.b64decode(raw).decode("utf-8", errors="replace")
                    raw, size = _clip(raw, chars)
                    item = (
                        -_rank(seed, key),
                        key,
                        {
                            "file": rec.get("file"),
                            "line": rec.get("line"),
                            "source": rec.get("source"),
                            "detail": rec.get("detail"),
                            "raw": raw,
                            "chars": size,
                            "raw_bytes": rec.get("raw_bytes"),
                            "raw_truncated": rec.get("raw_truncated"),
                        },
                    )
                    heap = heaps[reason]
                    if len(heap) < per_reason:
                        heapq.heappush(heap, item)
                    elif item[:2] > heap[0][:2]:
                        heapq.heapreplace(heap, item)
        except OSError as exc:
            problems.append(f"{path}: could not read ({exc})")
    groups = []
    for reason in sorted(counts, key=lambda r: (-counts[r], r)):
        items = sorted(heaps.get(reason, []), key=lambda it: (-it[0], it[1]))
        groups.append({"reason": reason, "count": counts[reason], "samples": [it[2] for it in items]})
    return {"groups": groups, "total": sum(counts.values())}


# --------------------------------------------------------------------------------------------- dedup
def _extra(extra: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every ``extra`` entry of one kind: ``key`` itself and ``key:<step>`` (when several steps report one)."""
    return [
        v for k, v in sorted(extra.items()) if (k == key or k.startswith(key + ":")) and isinstance(v, dict)
    ]


def collect_dedup(wd: Workdir, problems: list[str]) -> dict[str, Any] | None:
    """Removed per channel, duplicate-cluster sizes, decontamination hits per benchmark and the LSH settings.

    Reads ``stats/dedup/<channel>.json`` as ``mixkit.dedup.stage`` writes it: ``extra.cluster_sizes`` maps a
    cluster size (documents) to the number of clusters of that size, size 1 being the documents with no
    duplicate; ``extra.decontam`` maps a benchmark to the training documents that overlap it and
    ``extra.decontam_items`` to the benchmark items found; ``extra.lsh`` holds bands, rows and P(detect).
    """
    files = _json_dir(wd.stats("dedup"), problems) + _json_dir(wd.stats("decontam"), problems)
    if not files:
        return None
    clusters: Counter = Counter()
    by_channel_clusters: dict[str, Counter] = defaultdict(Counter)
    decontam: Counter = Counter()
    decontam_items: Counter = Counter()
    decontam_by_channel: dict[str, Counter] = defaultdict(Counter)
    channels: dict[str, dict[str, int]] = {}
    lsh: dict[str, Any] = {}
    for _path, st in files:
        ch = str(st.get("channel", "?"))
        extra = st.get("extra") or {}
        for sizes in _extra(extra, "cluster_sizes"):
            for size, n in sizes.items():
                if _int(size) > 0:
                    clusters[_int(size)] += _int(n)
                    by_channel_clusters[ch][_int(size)] += _int(n)
        for hits in _extra(extra, "decontam"):
            for bench, n in hits.items():
                decontam[str(bench)] += _int(n)
                decontam_by_channel[ch][str(bench)] += _int(n)
        for items in _extra(extra, "decontam_items"):
            for bench, n in items.items():
                decontam_items[str(bench)] += _int(n)
        for cfg in _extra(extra, "lsh"):
            lsh = lsh or cfg
        row = channels.setdefault(ch, {"input": 0, "kept": 0, "dropped": 0})
        row["input"] += _int(st.get("input"))
        row["kept"] += _int(st.get("kept"))
        row["dropped"] += sum(_int(n) for rs in (st.get("dropped") or {}).values() for n in rs.values())
    for bench in decontam_items:
        decontam.setdefault(bench, 0)
    return {
        "channels": dict(sorted(channels.items())),
        "cluster_sizes": dict(sorted(clusters.items())),
        "cluster_sizes_by_channel": {
            c: dict(sorted(v.items())) for c, v in sorted(by_channel_clusters.items())
        },
        "decontam": dict(sorted(decontam.items(), key=lambda kv: (-kv[1], kv[0]))),
        "decontam_items": dict(sorted(decontam_items.items())),
        "decontam_by_channel": {c: dict(sorted(v.items())) for c, v in sorted(decontam_by_channel.items())},
        "lsh": lsh,
    }


# --------------------------------------------------------------------------------------------- training
def collect_training(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """Loss, per-channel loss, validation perplexity, stage boundaries and reweighting from ``metrics.jsonl``.

    Records are told apart by ``kind`` (absent = ``train``): ``train`` (step, loss, lr, channel_loss, tokens,
    optional stage), ``val`` (step, val_loss per channel, optional val_ppl), ``reweight`` (step, weights) and
    ``stage`` (step, stage) and ``start`` (the initial mix weights). A stage boundary is also inferred where
    the ``stage`` field of train records changes.
    Perplexity = exp(mean loss in nats per token).
    """
    if not path.is_file():
        return None
    loss: list[tuple[int, float]] = []
    lr: list[tuple[int, float]] = []
    channel_loss: dict[str, list[tuple[int, float]]] = defaultdict(list)
    val_ppl: dict[str, list[tuple[int, float]]] = defaultdict(list)
    tokens: dict[str, float] = {}
    boundaries: list[dict[str, Any]] = []
    reweights: list[dict[str, Any]] = []
    last_stage: str | None = None
    initial: dict[str, float] = {}
    bad = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                step = int(rec.get("step", 0))
            except (ValueError, TypeError, AttributeError):
                bad += 1
                continue
            kind = rec.get("kind", "train")
            stage = rec.get("stage")
            # a "stage" record, or a train record whose stage differs from the previous one, starts a stage
            if kind in ("stage", "train") and stage is not None and stage != last_stage:
                boundaries.append({"step": step, "stage": str(stage)})
                last_stage = stage
            if kind == "train":
                if _finite(rec.get("loss")):
                    loss.append((step, float(rec["loss"])))
                if _finite(rec.get("lr")):
                    lr.append((step, float(rec["lr"])))
                for ch, v in (rec.get("channel_loss") or {}).items():
                    if _finite(v):
                        channel_loss[ch].append((step, float(v)))
                for ch, n in (rec.get("tokens") or {}).items():
                    if _finite(n):
                        tokens[ch] = float(n)  # cumulative or per window: the last record wins either way
            elif kind in ("val", "eval", "validation"):
                ppl = rec.get("val_ppl") or {}
                losses = rec.get("val_loss") or rec.get("channel_loss") or {}
                if isinstance(losses, dict):
                    for ch, v in losses.items():
                        if ch not in ppl and _finite(v):
                            ppl = {**ppl, ch: math.exp(min(float(v), 50.0))}
                for ch, v in ppl.items():
                    if _finite(v):
                        val_ppl[ch].append((step, float(v)))
            elif kind == "start" and isinstance(rec.get("weights"), dict):
                initial = {k: float(v) for k, v in rec["weights"].items() if _finite(v)}
            elif kind == "reweight":
                weights = rec.get("weights") or rec.get("new_weights") or {}
                reweights.append(
                    {
                        "step": step,
                        "weights": {k: float(v) for k, v in weights.items() if _finite(v)},
                        "method": rec.get("method"),
                    }
                )
    if bad:
        problems.append(f"{path}: {bad} unreadable line(s) skipped")
    if not (loss or channel_loss or val_ppl):
        return None
    return {
        "loss": loss,
        "lr": lr,
        "channel_loss": {c: v for c, v in sorted(channel_loss.items())},
        "val_ppl": {c: v for c, v in sorted(val_ppl.items())},
        "tokens": dict(sorted(tokens.items())),
        "boundaries": boundaries,
        "reweights": reweights,
        "initial_weights": initial,
        "steps": max((s for s, _ in loss), default=0),
    }


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


# --------------------------------------------------------------------------------------------- mix and tokens
# Fields of a stage report that are the target and the realised allocation (plan.json ``stages``, written by
# mixkit.mix.planner): ratios first, as they compare across stages of different sizes.
_TARGET_KEYS = ("target_ratio", "target_tokens", "ratios", "target")
_REALISED_KEYS = ("planned_ratio", "planned_tokens", "realised_tokens", "realized_tokens", "planned")


def _name_map(value: Any) -> dict[str, Any] | None:
    """A {name: number or dict} mapping (or a list of dicts with a name) as a dict, else None."""
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        return value
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        key = next((k for k in ("name", "channel", "source") if all(k in v for v in value)), None)
        if key:
            return {str(v[key]): {k: x for k, x in v.items() if k != key} for v in value}
    return None


def _numeric_columns(seg: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Fields of a stage that map names (channels) to numbers: the stage table's columns."""
    cols: dict[str, dict[str, float]] = {}
    for field_name, value in seg.items():
        m = _name_map(value)
        if m is not None and all(_finite(v) for v in m.values()):
            cols[field_name] = {k: float(v) for k, v in m.items()}
    return cols


def _records(value: Any) -> dict[str, dict[str, Any]]:
    """{name: {field: scalar}} from a mapping or list of per-name records (numbers and strings kept)."""
    out = {}
    for name, row in (_name_map(value) or {}).items():
        if isinstance(row, dict):
            out[name] = {k: v for k, v in row.items() if _finite(v) or isinstance(v, str)}
    return out


def collect_mix(wd: Workdir, problems: list[str]) -> dict[str, Any] | None:
    """The mix plan: per stage target vs planned ratios and tokens and epochs per channel, per-source tokens
    and epochs over the whole plan, planner warnings, and the Megatron ``--data-path`` blend of each stage.

    Reads ``plan.json`` as written by ``mixkit.mix`` (docs/mix.md): ``stages`` is the planner's report, one
    record per stage with name -> number fields (``target_ratio``, ``planned_ratio``, ``target_tokens``,
    ``planned_tokens``, ``epochs``); ``segments`` (the scheduling periods) are summarised by their stage names.
    """
    plan = read_json(wd.plan, problems)
    if not isinstance(plan, dict):
        return None
    raw_stages = plan.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        # no planner report: fall back to segment names and their sequence ranges
        raw_stages = [
            {k: v for k, v in seg.items() if k != "counts"}
            for seg in plan.get("segments") or []
            if isinstance(seg, dict)
        ]
    stages = []
    for i, st in enumerate(s for s in raw_stages if isinstance(s, dict)):
        cols = _numeric_columns(st)
        target_key = next((k for k in _TARGET_KEYS if k in cols), None)
        realised_key = next((k for k in _REALISED_KEYS if k in cols), None)
        stages.append(
            {
                "name": str(st.get("name") or st.get("stage") or f"stage {i + 1}"),
                "scalars": {
                    k: v
                    for k, v in st.items()
                    if isinstance(v, str | int | float)
                    and not isinstance(v, bool)
                    and k not in ("name", "stage")
                },
                "columns": cols,
                "target": cols.get(target_key) if target_key else None,
                "realised": cols.get(realised_key) if realised_key else None,
                "target_key": target_key,
                "realised_key": realised_key,
                "warnings": [str(w) for w in st.get("warnings") or []],
            }
        )
    chans = plan.get("channels")
    chans = [str(x) for x in chans] if isinstance(chans, list) else list(_name_map(chans) or {})
    epochs = _name_map(plan.get("epochs")) or {}
    blend = plan.get("blend") if isinstance(plan.get("blend"), dict) else {}
    scalars = {
        k: v
        for k, v in plan.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool) and k != "version"
    }
    channel_tokens = plan.get("channel_tokens")
    if isinstance(channel_tokens, list) and len(channel_tokens) == len(chans):
        channel_tokens = dict(zip(chans, channel_tokens, strict=True))
    return {
        "scalars": scalars,
        "channels": chans,
        "stages": stages,
        "epochs": {k: float(v) for k, v in epochs.items() if _finite(v)},
        "channel_tokens": channel_tokens if isinstance(channel_tokens, dict) else {},
        "sources": _records(plan.get("sources")),
        "warnings": [str(w) for w in plan.get("warnings") or []],
        "blend": {str(k): str(v) for k, v in blend.items()},
        "reweighted_at": [int(x) for x in plan.get("reweighted_at") or [] if _finite(x)],
    }


def collect_tokens(wd: Workdir, problems: list[str]) -> dict[str, Any] | None:
    """Documents, tokens, characters and chars/token per channel and per source from ``tokens/stats.json``.

    ``mixkit pack`` writes ``train`` and ``val`` maps of channel -> {docs, tokens, chars, chars_per_token,
    sources: {source: {...}}}; chars/token is recomputed from chars and tokens when absent.
    """
    stats = read_json(wd.tokens / "stats.json", problems)
    if not isinstance(stats, dict):
        return None

    def row(r: dict[str, Any]) -> dict[str, float]:
        out = {k: float(v) for k, v in r.items() if _finite(v)}
        if "chars_per_token" not in out and out.get("tokens"):
            out["chars_per_token"] = out.get("chars", 0.0) / out["tokens"]
        return out

    split = stats.get("train") if isinstance(stats.get("train"), dict) else stats.get("channels")
    channels: dict[str, dict[str, float]] = {}
    sources: dict[str, dict[str, Any]] = {}
    for ch, r in (_name_map(split) or {}).items():
        if not isinstance(r, dict):
            continue
        channels[ch] = row(r)
        for src, sr in (r.get("sources") or {}).items():
            if isinstance(sr, dict):
                sources[src] = {"channel": ch, **row(sr)}
    val = stats.get("val") if isinstance(stats.get("val"), dict) else {}
    for ch, r in val.items():
        if ch in channels and isinstance(r, dict):
            if _finite(r.get("docs")):
                channels[ch]["val_docs"] = float(r["docs"])
            if _finite(r.get("tokens")):
                channels[ch]["val_tokens"] = float(r["tokens"])
    if not channels:
        return None
    info = {k: stats[k] for k in ("tokenizer", "vocab_size", "eos_token", "dtype") if k in stats}
    return {
        "channels": dict(sorted(channels.items())),
        "sources": dict(sorted(sources.items())),
        "info": info,
    }
