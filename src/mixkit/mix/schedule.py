"""Exact interleaving of channels: which channel each packed sequence comes from.

The stream is cut into segments; inside a segment the channel of sequence j is ``pattern[j % P]``, where the
pattern of length P holds channel c exactly ``counts[c]`` times and is a *proportionally fair* (Pfair) schedule
(Baruah, Cohen, Plaxton, Varvel 1996, "Proportionate progress: a notion of fairness in resource allocation",
Algorithmica 15): at every prefix t of the pattern, channel c has had ``floor`` or ``ceil`` of ``t·counts[c]/P``
sequences, i.e. its lag |t·counts[c]/P − realised| is < 1 sequence. The pattern is built by earliest pseudo-
deadline first: item k of channel c is released at slot ⌊k·P/m⌋ and due by slot ⌈(k+1)·P/m⌉ (m = counts[c]);
at each slot the released item with the earliest deadline goes next, which on one processor meets every
deadline (Baruah et al. §3, and EDF optimality for unit jobs; Liu & Layland 1973). This is the "source furthest
behind its target goes next" rule with the lag bound made exact (plain largest-deficit greedy, as in
Megatron-LM's ``build_blending_indices``, can fall more than one sequence behind with many channels).

Because the pattern repeats exactly (every channel is at zero lag at each period boundary), the channel and the
channel-local index of any position are computed in O(1) with numpy, for millions of positions at once.
"""

from __future__ import annotations

import heapq

import numpy as np


def apportion(weights: np.ndarray | list[float], total: int) -> np.ndarray:
    """Integer counts summing to ``total`` with |count_c − total·w_c| < 1: largest remainder method
    (Hamilton; Balinski & Young 1982, "Fair Representation", ch. 2). Ties go to the lower index."""
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() <= 0:
        return np.zeros(w.size, dtype=np.int64)
    ideal = w / w.sum() * total
    base = np.floor(ideal).astype(np.int64)
    base = np.minimum(base, total)
    left = total - int(base.sum())
    if left > 0:
        frac = ideal - base
        order = np.lexsort((np.arange(w.size), -frac))
        base[order[:left]] += 1
    elif left < 0:  # float rounding pushed floors over the total: take back from the smallest remainders
        frac = ideal - base
        order = np.lexsort((np.arange(w.size), frac))
        order = order[base[order] > 0]
        base[order[:-left]] -= 1
    return base


def pfair_pattern(counts: np.ndarray | list[int]) -> np.ndarray:
    """The period of a Pfair schedule: channel per slot (int16), channel c appearing ``counts[c]`` times.

    Earliest pseudo-deadline first with the exact integer windows [⌊kP/m⌋, ⌈(k+1)P/m⌉); ties go to the lower
    channel index, so the pattern is a pure function of ``counts``. Cost O(P log n).
    """
    m = [int(x) for x in counts]
    period = sum(m)
    out = np.empty(period, dtype=np.int16)
    nxt = [0] * len(m)
    future = [
        (0, c) for c, mc in enumerate(m) if mc > 0
    ]  # (release slot of the channel's next item, channel)
    heapq.heapify(future)
    ready: list[tuple[int, int]] = []  # (deadline, channel)
    push, pop = heapq.heappush, heapq.heappop
    for slot in range(period):
        while future and future[0][0] <= slot:
            _, c = pop(future)
            push(ready, (-(-(nxt[c] + 1) * period // m[c]), c))
        _, c = pop(ready)
        out[slot] = c
        k = nxt[c] = nxt[c] + 1
        if k < m[c]:
            push(future, (k * period // m[c], c))
    return out


def pattern_ranks(pattern: np.ndarray, n_channels: int) -> np.ndarray:
    """For each slot of the pattern, how many earlier slots hold the same channel (int64[P]); O(P) memory."""
    order = np.argsort(pattern, kind="stable")
    group_start = np.concatenate([[0], np.cumsum(np.bincount(pattern, minlength=n_channels))[:-1]])
    ranks = np.empty(pattern.size, dtype=np.int64)
    ranks[order] = np.arange(pattern.size, dtype=np.int64) - group_start[pattern[order]]
    return ranks


def max_lag(pattern: np.ndarray, counts: np.ndarray) -> float:
    """Largest |t·counts[c]/P − realised_c(t)| over all prefixes t of the pattern (in sequences)."""
    counts = np.asarray(counts, dtype=np.float64)
    period = pattern.size
    onehot = np.zeros((counts.size, period + 1), dtype=np.int32)
    onehot[pattern.astype(np.int64), np.arange(1, period + 1)] = 1
    prefix = np.cumsum(onehot, axis=1)
    t = np.arange(period + 1, dtype=np.float64)
    return float(np.abs(prefix - counts[:, None] * t[None, :] / period).max()) if period else 0.0
