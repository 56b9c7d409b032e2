"""The packed stream: global position -> the ``seq_len`` tokens of that sequence, with channel ids,
position ids reset at document starts, and labels.

Each channel has its own endless token stream: its training documents (EOS included) in a seeded shuffle per
epoch (``numpy.random.default_rng([seed, channel, epoch]).permutation``), epochs back to back. The k-th
sequence of a channel is tokens [k·L, (k+1)·L) of that stream, so it depends only on (shards, seed, k): the
plan decides *which* channel each position reads, never *what* a channel's k-th sequence is. Documents are cut
at sequence boundaries and continue in the channel's next sequence (no padding, no tokens thrown away).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from mixkit.mix.plan import MixError, Plan
from mixkit.pack.indexed import IndexedDataset

IGNORE_INDEX = -100  # labels value that the HF / torch cross-entropy ignores


class ChannelTokens:
    """One channel's shuffled, epoch-repeating token stream over its ``.bin/.idx`` shard."""

    def __init__(self, prefix: Path, seed: int, channel_id: int, cache_epochs: int = 2) -> None:
        self.data = IndexedDataset(prefix)
        self.lengths = self.data.lengths.astype(np.int64)
        self.offsets = self.data.offsets
        self.total = int(self.lengths.sum())
        self.seed = seed
        self.channel_id = channel_id
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_epochs = cache_epochs

    def epoch(self, e: int) -> tuple[np.ndarray, np.ndarray]:
        """(document order, start of each document in the epoch's token stream) of epoch ``e``."""
        hit = self._cache.get(e)
        if hit is not None:
            self._cache.move_to_end(e)
            return hit
        perm = np.random.default_rng([self.seed, self.channel_id, e]).permutation(self.lengths.size)
        if self.lengths.size < 2**31:  # 12 bytes per document and epoch in memory instead of 16
            perm = perm.astype(np.int32)
        starts = np.zeros(perm.size + 1, dtype=np.int64)
        np.cumsum(self.lengths[perm], out=starts[1:])
        self._cache[e] = (perm, starts)
        if len(self._cache) > self._cache_epochs:
            self._cache.popitem(last=False)
        return perm, starts

    def pieces(self, start: int, length: int) -> list[tuple[int, int, int]]:
        """The (document, offset in document, tokens) pieces covering stream tokens [start, start+length)."""
        if self.total == 0:
            raise MixError(f"channel {self.channel_id} has no tokens but the plan reads from it")
        out = []
        pos, end = start, start + length
        while pos < end:
            e, off = divmod(pos, self.total)
            perm, starts = self.epoch(e)
            i = int(np.searchsorted(starts, off, side="right")) - 1
            doc = int(perm[i])
            in_doc = off - int(starts[i])
            take = min(int(self.lengths[doc]) - in_doc, end - pos)
            out.append((doc, in_doc, take))
            pos += take
        return out

    def first_docs(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised index: (epoch, document, offset in document) where each stream offset in ``starts`` falls."""
        e, off = np.divmod(starts, self.total)
        docs = np.empty(starts.size, dtype=np.int64)
        in_doc = np.empty(starts.size, dtype=np.int64)
        if starts.size > 1 and (np.diff(e) >= 0).all():  # sorted: each epoch is a slice
            cuts = np.searchsorted(e, np.arange(int(e[0]), int(e[-1]) + 2))
            parts = [(int(e[0]) + i, slice(cuts[i], cuts[i + 1])) for i in range(cuts.size - 1)]
        else:
            parts = [(int(ep), np.flatnonzero(e == ep)) for ep in np.unique(e)]
        for ep, sel in parts:
            perm, st = self.epoch(ep)
            o = off[sel]
            i = np.searchsorted(st, o, side="right") - 1
            docs[sel] = perm[i]
            in_doc[sel] = o - st[i]
        return e, docs, in_doc


class Stream:
    """Sequences of a plan over the token shards in ``tokens_dir`` (``tokens/<channel>.bin/.idx``)."""

    def __init__(self, plan: Plan, tokens_dir: str | Path) -> None:
        self.plan = plan
        self.tokens_dir = Path(tokens_dir)
        self.channels = list(plan.channels)
        self.seq_len = plan.seq_len
        self._streams: dict[int, ChannelTokens] = {}

    def __getstate__(self) -> dict[str, Any]:
        # memory maps are reopened in each DataLoader worker instead of being copied into the pickle
        return {**self.__dict__, "_streams": {}}

    def channel(self, cid: int) -> ChannelTokens:
        if cid not in self._streams:
            self._streams[cid] = ChannelTokens(self.tokens_dir / self.channels[cid], self.plan.seed, cid)
        return self._streams[cid]

    def __len__(self) -> int:
        return self.plan.total_sequences

    def sequence(self, position: int) -> dict[str, np.ndarray]:
        """The sequence at global ``position``: input_ids, labels, position_ids, channel_ids (int64[seq_len])."""
        ch, k = self.plan.locate(position)
        return self.channel_sequence(int(ch[0]), int(k[0]))

    def channel_sequence(self, cid: int, k: int) -> dict[str, np.ndarray]:
        """The k-th sequence of channel ``cid``'s token stream."""
        L = self.seq_len
        stream = self.channel(cid)
        ids = np.empty(L, dtype=np.int64)
        pos_ids = np.empty(L, dtype=np.int64)
        labels = np.empty(L, dtype=np.int64)
        at = 0
        for doc, in_doc, take in stream.pieces(k * L, L):
            start = int(stream.offsets[doc]) + in_doc
            ids[at : at + take] = stream.data.tokens[start : start + take]
            pos_ids[at : at + take] = np.arange(take)
            labels[at : at + take] = ids[at : at + take]
            labels[at] = IGNORE_INDEX  # a document (or the sequence) starts here: no target from before it
            at += take
        return {
            "input_ids": ids,
            "labels": labels,
            "position_ids": pos_ids,
            "channel_ids": np.full(L, cid, dtype=np.int64),
        }

    def index(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorised stream index of many positions: channel, channel-local sequence, epoch, and the document
        and offset each sequence starts in. This is what a loader needs to find a sequence's tokens."""
        ch, k = self.plan.locate(positions)
        epoch = np.zeros(ch.size, dtype=np.int64)
        doc = np.zeros(ch.size, dtype=np.int64)
        off = np.zeros(ch.size, dtype=np.int64)
        order = np.argsort(ch.astype(np.int16), kind="stable")  # radix sort; groups stay in position order
        bounds = np.concatenate([[0], np.cumsum(np.bincount(ch, minlength=len(self.channels)))])
        for c in range(len(self.channels)):
            sel = order[bounds[c] : bounds[c + 1]]
            if sel.size:
                epoch[sel], doc[sel], off[sel] = self.channel(c).first_docs(k[sel] * self.seq_len)
        return {"channel": ch, "sequence": k, "epoch": epoch, "document": doc, "offset": off}

    def channel_token_counts(self, positions: np.ndarray) -> np.ndarray:
        """Tokens per channel in each sequence (int64[len(positions), n_channels]); sequence-level mixing puts
        all seq_len tokens of a sequence in one channel."""
        ch, _ = self.plan.locate(positions)
        out = np.zeros((ch.size, len(self.channels)), dtype=np.int64)
        out[np.arange(ch.size), ch] = self.seq_len
        return out


def val_sequences(tokens_dir: str | Path, channels: list[str], seq_len: int) -> list[tuple[int, int, int]]:
    """The held-out split as (channel id, start token, tokens) windows: each channel's validation documents
    back to back, cut into seq_len windows (the last one shorter, padded by the reader)."""
    out = []
    for cid, c in enumerate(channels):
        prefix = Path(tokens_dir) / "val" / c
        if not Path(f"{prefix}.idx").exists():
            continue
        total = int(IndexedDataset(prefix).lengths.astype(np.int64).sum())
        out.extend((cid, s, min(seq_len, total - s)) for s in range(0, total, seq_len))
    return out


def describe(plan: Plan, stream: Stream | None, start: int, stop: int) -> list[dict[str, Any]]:
    """Per sequence in [start, stop): position, stage, channel token counts, and cumulative realised vs target
    tokens per channel (the JSONL of ``mixkit inspect stream``)."""
    stop = min(stop, plan.total_sequences)
    if start >= stop:
        return []
    pos = np.arange(start, stop, dtype=np.int64)
    ch, k = plan.locate(pos)
    realised = plan.channel_sequences(start).astype(np.int64)
    rows = []
    for p, c, kk in zip(pos.tolist(), ch.tolist(), k.tolist(), strict=True):
        realised[c] += 1
        target = plan.target_sequences(p + 1) * plan.seq_len
        rows.append(
            {
                "position": p,
                "stage": plan.stage_at(p),
                "channel": plan.channels[c],
                "channel_sequence": kk,
                "tokens": {plan.channels[c]: plan.seq_len},
                "cumulative": {
                    name: int(n) * plan.seq_len for name, n in zip(plan.channels, realised, strict=True)
                },
                "target": {name: round(float(t), 3) for name, t in zip(plan.channels, target, strict=True)},
            }
        )
    return rows
