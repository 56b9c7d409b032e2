"""The mix plan: a file (``<workdir>/plan.json``) that fixes which channel every packed sequence comes from.

A plan is a list of *segments* covering global sequence positions [0, total_sequences). Segment s starts at
``start``, has ``length`` sequences and a Pfair pattern of period P = sum(counts) (``mixkit.mix.schedule``):
sequence ``start + j`` comes from channel ``pattern[j % P]``. Stages are one or two segments each (a body of
whole periods and a tail); a reweighting adds segments from a position on. The j-th sequence *of a channel* is
always the same tokens (``mixkit.mix.stream``), so whatever the segments, no document is repeated or skipped
when weights change: the channel simply continues where it was.

Everything here is a pure function of the plan's JSON, so every rank, every restart and every world size sees
the same stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mixkit.errors import MixkitError
from mixkit.mix.schedule import (
    ScheduleError,
    apportion,
    batch_pfair_pattern,
    pattern_ranks,
    pfair_pattern,
)
from mixkit.utils import loads, write_json

PLAN_VERSION = 1


class MixError(MixkitError):
    """A mix cannot be planned (infeasible ratios, missing token counts); the message says how to fix it."""


@dataclass
class Segment:
    """Positions [start, start+length) follow a Pfair pattern with ``counts[c]`` sequences of channel c per
    period of ``sum(counts)`` sequences. With ``batch`` > 0 (the global batch; the segment then starts on a batch
    boundary and its period is a multiple of it) every batch also holds each channel's share ± < 1 sequence."""

    stage: str
    start: int
    length: int
    counts: list[int]
    batch: int = 0

    @property
    def period(self) -> int:
        return int(sum(self.counts))

    def __getstate__(self) -> dict[str, Any]:
        # only the definition travels (e.g. to DataLoader workers); patterns are rebuilt on first use
        return {
            "stage": self.stage,
            "start": self.start,
            "length": self.length,
            "counts": self.counts,
            "batch": self.batch,
        }

    @property
    def end(self) -> int:
        return self.start + self.length

    @cached_property
    def pattern(self) -> np.ndarray:
        if self.batch > 1:
            try:
                return batch_pfair_pattern(self.counts, self.batch)
            except ScheduleError as exc:
                raise MixError(
                    f"stage {self.stage}: {exc}; set mix.period to another multiple of mix.global_batch"
                ) from None
        return pfair_pattern(self.counts)

    @cached_property
    def _ranks(self) -> np.ndarray:
        return pattern_ranks(self.pattern, len(self.counts))

    def channel_counts(self, upto: int) -> np.ndarray:
        """Sequences per channel among the first ``upto`` positions of the segment (int64[n])."""
        upto = max(0, min(upto, self.length))
        q, r = divmod(upto, self.period)
        head = np.bincount(self.pattern[:r], minlength=len(self.counts)).astype(np.int64)
        return q * np.asarray(self.counts, dtype=np.int64) + head

    @cached_property
    def _lut(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pattern slot: its channel's count per period, and its rank among that channel's slots."""
        counts = np.asarray(self.counts, dtype=np.int64)
        return counts[self.pattern.astype(np.int64)], self._ranks

    def locate(
        self, j: np.ndarray, base: np.ndarray | None = None, increasing: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(channel, index among the segment's sequences of that channel) of segment offsets ``j``; ``base``
        (sequences per channel before the segment) is added to the index when given. ``increasing`` tells that
        ``j`` is strictly increasing (then a contiguous run is computed by tiling the pattern)."""
        n = j.size
        if increasing and n >= 4 * self.period and int(j[-1]) - int(j[0]) == n - 1:
            return self.locate_range(int(j[0]), n, base)
        per_period, rank = self._lut
        if base is not None:
            rank = rank + base[self.pattern]
        q, r = np.divmod(j, self.period)
        idx = per_period[r]
        idx *= q
        idx += rank[r]
        return self.pattern[r], idx

    def locate_range(self, j0: int, n: int, base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``locate`` of the offsets j0, j0+1, ..., j0+n-1: whole periods are tiles of the pattern."""
        per_period, rank = self._lut
        if base is not None:
            rank = rank + base[self.pattern]
        q0, r0 = divmod(j0, self.period)
        m = -(-(r0 + n) // self.period)
        ch = np.tile(self.pattern, m)[r0 : r0 + n]
        q = np.arange(q0, q0 + m, dtype=np.int64)[:, None]
        idx = (q * per_period[None, :] + rank[None, :]).reshape(-1)[r0 : r0 + n]
        return ch, idx

    def to_json(self) -> dict[str, Any]:
        out = {"stage": self.stage, "start": self.start, "length": self.length, "counts": list(self.counts)}
        if self.batch:
            out["batch"] = self.batch
        return out


def stage_segments(
    stage: str, start: int, n: int, weights: np.ndarray, period: int, batch: int = 0
) -> list[Segment]:
    """Segments for ``n`` sequences from ``start`` at token shares ``weights``: a body of whole periods of
    P = min(n, period) sequences with counts apportion(P·w), and a tail apportion(r·w) for the r = n mod P left.

    Every segment ends with each channel exactly at its planned count (zero lag), so the next segment starts
    clean. With a global ``batch``, ``start``, ``n`` and ``period`` must be multiples of it (the caller rounds).
    """
    p = min(n, period)
    q, r = divmod(n, p)
    out = [Segment(stage, start, q * p, apportion(weights, p).tolist(), batch)]
    if r:
        out.append(Segment(stage, start + q * p, r, apportion(weights, r).tolist(), batch))
    return out


def _water_fill(w: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Shares min(λ·w_c, room_c) summing to 1 (λ by bisection); when the weighted channels cannot take it all,
    the rest goes to the other channels in proportion to their room. Assumes room.sum() >= 1."""
    if np.minimum(w * 1e18, room).sum() < 1:
        extra = np.where(w > 0, 0.0, room)
        base = np.minimum(w * 1e18, room)
        return base + extra * (1 - base.sum()) / extra.sum()
    lo, hi = 0.0, 1.0
    while np.minimum(hi * w, room).sum() < 1:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.minimum(mid * w, room).sum() < 1 else (lo, mid)
    out = np.minimum(hi * w, room)
    return out / out.sum()


@dataclass
class Plan:
    """A mix plan: channels, sequence length, seed, segments, plus the report (targets, epochs, warnings)."""

    channels: list[str]
    seq_len: int
    seed: int
    channel_tokens: list[int]  # training tokens per channel (one epoch)
    segments: list[Segment]
    report: dict[str, Any] = field(default_factory=dict)

    # ---- addressing -------------------------------------------------------------------------------------
    @property
    def total_sequences(self) -> int:
        return self.segments[-1].end if self.segments else 0

    @property
    def total_tokens(self) -> int:
        return self.total_sequences * self.seq_len

    @property
    def global_batch(self) -> int:
        """Sequences per global batch the plan is exact for (0: no batch guarantee, only the prefix bound)."""
        return self.segments[0].batch if self.segments else 0

    def check_patterns(self) -> None:
        """Build every batch-exact pattern now: a search that fails raises MixError here, at plan time, rather
        than in a training run (plain Pfair patterns cannot fail and stay lazy)."""
        for s in self.segments:
            if s.batch > 1:
                _ = s.pattern

    @cached_property
    def _starts(self) -> np.ndarray:
        return np.array([s.start for s in self.segments], dtype=np.int64)

    @cached_property
    def _before(self) -> np.ndarray:
        """Sequences per channel before each segment (int64[segments, n])."""
        out = np.zeros((len(self.segments), len(self.channels)), dtype=np.int64)
        acc = np.zeros(len(self.channels), dtype=np.int64)
        for i, s in enumerate(self.segments):
            out[i] = acc
            acc = acc + s.channel_counts(s.length)
        return out

    def segment_at(self, position: int) -> Segment:
        if not 0 <= position < self.total_sequences:
            raise IndexError(f"position {position} is outside the plan (0..{self.total_sequences - 1})")
        return self.segments[int(np.searchsorted(self._starts, position, side="right")) - 1]

    def stage_at(self, position: int) -> str:
        """Name of the stage sequence ``position`` belongs to."""
        return self.segment_at(position).stage

    def locate(self, positions: np.ndarray | list[int] | int) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised: (channel id, channel-local sequence index) of global positions.

        The channel-local index k means "the k-th sequence of this channel's token stream", which is the same
        tokens in every plan over the same shards (so reweighting never repeats or skips).
        """
        pos = np.atleast_1d(np.asarray(positions, dtype=np.int64))
        if pos.size and (pos.min() < 0 or pos.max() >= self.total_sequences):
            raise IndexError(f"positions outside the plan (0..{self.total_sequences - 1})")
        ch = np.empty(pos.size, dtype=np.int64)
        idx = np.empty(pos.size, dtype=np.int64)
        step = np.diff(pos)
        increasing = bool((step > 0).all())
        if pos.size > 1 and (increasing or (step >= 0).all()):  # sorted (the usual case): segments are slices
            bounds = [*np.searchsorted(pos, self._starts, side="left").tolist(), pos.size]
            parts = [
                (i, slice(bounds[i], bounds[i + 1]))
                for i in range(len(self.segments))
                if bounds[i] < bounds[i + 1]
            ]
        else:
            increasing = False
            seg = np.searchsorted(self._starts, pos, side="right") - 1
            parts = [(int(i), np.flatnonzero(seg == i)) for i in np.unique(seg)]
        for i, sel in parts:
            segment = self.segments[i]
            ch[sel], idx[sel] = segment.locate(pos[sel] - segment.start, self._before[i], increasing)
        return ch, idx

    def locate_range(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``locate(np.arange(start, stop))`` without building the positions (the fast path of index builds)."""
        if not 0 <= start <= stop <= self.total_sequences:
            raise IndexError(f"range {start}:{stop} is outside the plan (0..{self.total_sequences})")
        ch = np.empty(stop - start, dtype=np.int64)
        idx = np.empty(stop - start, dtype=np.int64)
        first = (
            int(np.searchsorted(self._starts, start, side="right")) - 1
            if stop > start
            else len(self.segments)
        )
        for i in range(max(first, 0), len(self.segments)):
            s = self.segments[i]
            if s.start >= stop:
                break
            a, b = max(start, s.start), min(stop, s.end)
            ch[a - start : b - start], idx[a - start : b - start] = s.locate_range(
                a - s.start, b - a, self._before[i]
            )
        return ch, idx

    def channel_sequences(self, position: int) -> np.ndarray:
        """Sequences per channel consumed before global ``position`` (int64[n])."""
        position = max(0, min(position, self.total_sequences))
        if position == 0 or not self.segments:
            return np.zeros(len(self.channels), dtype=np.int64)
        if position == self.total_sequences:
            i = len(self.segments) - 1
        else:
            i = int(np.searchsorted(self._starts, position, side="right")) - 1
        s = self.segments[i]
        return self._before[i] + s.channel_counts(position - s.start)

    def channel_tokens_at(self, position: int) -> dict[str, int]:
        """Tokens per channel consumed before global ``position``."""
        seqs = self.channel_sequences(position)
        return {c: int(n) * self.seq_len for c, n in zip(self.channels, seqs, strict=True)}

    def target_sequences(self, position: int) -> np.ndarray:
        """The planned (ideal, fractional) sequences per channel before ``position``: within each segment the
        channel's share grows linearly at ``counts[c] / period`` per sequence. Realised counts stay within one
        sequence of this at every position (the Pfair lag bound)."""
        out = np.zeros(len(self.channels), dtype=np.float64)
        for s in self.segments:
            if position <= s.start:
                break
            n = min(position, s.end) - s.start
            out += n * np.asarray(s.counts, dtype=np.float64) / s.period
        return out

    def weights_at(self, position: int) -> dict[str, float]:
        """The planned token shares per channel at ``position``."""
        s = self.segment_at(min(position, self.total_sequences - 1))
        return {c: m / s.period for c, m in zip(self.channels, s.counts, strict=True)}

    def epochs(self) -> dict[str, float]:
        """Passes over each channel's training tokens the whole plan takes."""
        seqs = self.channel_sequences(self.total_sequences)
        return {
            c: (int(n) * self.seq_len / t if t else 0.0)
            for c, n, t in zip(self.channels, seqs, self.channel_tokens, strict=True)
        }

    # ---- dynamic reweighting --------------------------------------------------------------------------------
    def reweight(
        self,
        at: int,
        ratios: dict[str, float],
        until: int | None = None,
        max_epochs: float | None = None,
        period: int = 65536,
        on_cap: str = "raise",
    ) -> Plan:
        """A new plan, identical before position ``at``, with token shares ``ratios`` on [at, until)
        (default: to the end of the stage containing ``at``); later segments are kept as they were.

        When a channel would pass ``max_epochs``: ``on_cap="raise"`` raises MixError; ``on_cap="clip"`` lowers
        that channel's share to what its cap allows and gives the rest to the other channels in proportion to
        their weights (water-filling), which is what a training loop wants from automatic reweighting.
        The applied weights are in ``plan.weights_at(at)``.
        """
        unknown = sorted(set(ratios) - set(self.channels))
        if unknown:
            raise MixError(f"reweight: unknown channel(s) {unknown}; channels are {self.channels}")
        if not 0 <= at < self.total_sequences:
            raise MixError(f"reweight: position {at} is outside the plan (0..{self.total_sequences - 1})")
        if on_cap not in ("raise", "clip"):
            raise MixError(f"reweight: on_cap must be 'raise' or 'clip', got {on_cap!r}")
        if until is None:
            stage = self.stage_at(at)
            until = max(s.end for s in self.segments if s.stage == stage)
        until = min(until, self.total_sequences)
        if until <= at:
            raise MixError(f"reweight: until ({until}) must be after at ({at})")
        batch = self.global_batch
        if batch > 1 and (at % batch or (until % batch and until != self.total_sequences)):
            bad = at if at % batch else until
            raise MixError(
                f"reweight: position {bad} is not on a global-batch boundary (the plan is exact per global batch "
                f"of {batch} sequences); use a multiple of {batch}, e.g. {-(-bad // batch) * batch}"
            )
        w = np.array([max(0.0, float(ratios.get(c, 0.0))) for c in self.channels])
        if w.sum() <= 0:
            raise MixError("reweight: all weights are 0; give at least one positive weight")
        w = w / w.sum()
        plan = self._with_segment(at, until, w, period)
        if max_epochs is None:
            return plan
        n = until - at
        cap_seqs = np.floor(max_epochs * np.asarray(self.channel_tokens, dtype=np.float64) / self.seq_len)
        # rounding to whole sequences per period can pass a cap by up to n/P + 1 sequences: keep that margin
        slack = -(-n // min(n, period)) + 1
        for attempt in range(8):
            used = plan.channel_sequences(plan.total_sequences)
            over = used > cap_seqs
            if not over.any():
                return plan
            if on_cap == "raise":
                epochs = plan.epochs()
                raise MixError(
                    "reweight: "
                    + "; ".join(
                        f"{c} would need {epochs[c]:.2f} epochs (cap {max_epochs:g}); lower its weight"
                        for c, o in zip(self.channels, over, strict=True)
                        if o
                    )
                )
            inside = plan.channel_sequences(until) - plan.channel_sequences(at)
            allowed = (
                cap_seqs - (used - inside) - attempt * slack
            )  # sequences each channel may take in [at, until)
            room = np.maximum(0.0, allowed) / n
            if room.sum() < 1:
                raise MixError(
                    f"reweight: the channels' epoch caps ({max_epochs:g}) leave too little data for the "
                    f"{n} sequences from position {at}; raise mix.max_epochs or add data"
                )
            w = _water_fill(w, room)
            plan = self._with_segment(at, until, w, period)
        raise MixError("reweight: could not fit the weights under the epoch caps")  # pragma: no cover

    def _with_segment(self, at: int, until: int, w: np.ndarray, period: int) -> Plan:
        """This plan with positions [at, until) replaced by one segment of shares ``w``."""
        new: list[Segment] = []
        for s in self.segments:
            if s.end <= at or s.start >= until:
                new.append(s)
                continue
            if s.start < at:
                new.append(Segment(s.stage, s.start, at - s.start, list(s.counts), s.batch))
            if s.start <= at:
                p = period
                if s.batch > 1:
                    p = -(-period // s.batch) * s.batch
                new.extend(stage_segments(s.stage, at, until - at, w, p, s.batch))
            if s.end > until:
                new.append(Segment(s.stage, until, s.end - until, list(s.counts), s.batch))
        report = {**self.report, "reweighted_at": [*self.report.get("reweighted_at", []), at]}
        return Plan(self.channels, self.seq_len, self.seed, self.channel_tokens, new, report)

    # ---- files ------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "channels": self.channels,
            "seq_len": self.seq_len,
            "seed": self.seed,
            "channel_tokens": self.channel_tokens,
            "total_sequences": self.total_sequences,
            "total_tokens": self.total_tokens,
            "segments": [s.to_json() for s in self.segments],
            **self.report,
        }

    def save(self, path: str | Path) -> Path:
        write_json(path, self.to_json())
        return Path(path)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        if data.get("version") != PLAN_VERSION:
            raise MixError(f"plan version {data.get('version')} is not supported; rerun `mixkit mix`")
        segs = [
            Segment(
                s["stage"],
                int(s["start"]),
                int(s["length"]),
                [int(x) for x in s["counts"]],
                int(s.get("batch", 0)),
            )
            for s in data["segments"]
        ]
        fixed = {
            "version",
            "channels",
            "seq_len",
            "seed",
            "channel_tokens",
            "total_sequences",
            "total_tokens",
            "segments",
        }
        return cls(
            list(data["channels"]),
            int(data["seq_len"]),
            int(data["seed"]),
            [int(x) for x in data["channel_tokens"]],
            segs,
            {k: v for k, v in data.items() if k not in fixed},
        )

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        path = Path(path)
        if not path.is_file():
            raise MixError(f"mix plan {path} not found; run `mixkit mix RECIPE` first")
        return cls.from_json(loads(path.read_bytes()))

    @classmethod
    def load_recipe(cls, recipe: Any) -> Plan:
        from mixkit.pipeline.layout import Workdir

        return cls.load(Workdir.of(recipe).plan)
