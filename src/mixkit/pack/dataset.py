"""Torch datasets over the packed, mixed stream.

``PackedStream`` is addressed by *global* sequence position (what ``mixkit.train`` uses: it implements the
``TrainStream`` protocol of ``mixkit.train.data``, including ``reweight``). ``PackedDataset`` is a map-style
``torch.utils.data.Dataset`` for one data-parallel rank: item i is global position ``start + i·world_size +
rank``, so any world size covers every sequence from ``start`` on exactly once, and a restart at ``start = k``
continues the same stream.

Each item is a dict of int64 tensors of shape [seq_len]: ``input_ids``; ``labels`` (= input_ids, with -100
where a document or the sequence starts: HF models shift labels themselves, and the first token of a document
is not predicted from the previous document); ``position_ids`` (0 at each document start and at the sequence
start); ``channel_ids`` (channel of each token, index into ``channels``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from mixkit.errors import MixkitError
from mixkit.mix.plan import Plan
from mixkit.mix.stream import IGNORE_INDEX, Stream, val_sequences
from mixkit.pack.indexed import IndexedDataset
from mixkit.utils import loads

log = logging.getLogger("mixkit.pack.dataset")


def _workdir(source: Any) -> Path:
    """The workdir of a Recipe, a recipe YAML path or a workdir folder."""
    from mixkit.pipeline.layout import Workdir

    if hasattr(source, "workdir_path"):
        return Workdir.of(source).root
    p = Path(source)
    if p.is_file() and p.suffix in (".yaml", ".yml"):
        from mixkit.recipe import load_recipe

        return Workdir.of(load_recipe(p, check_inputs=False)).root
    return p


def channel_names(source: Any) -> list[str]:
    """Channel names in channel-id order (from ``tokens/index.json``)."""
    path = _workdir(source) / "tokens" / "index.json"
    if not path.is_file():
        raise MixkitError(f"{path} not found; run `mixkit pack RECIPE` first")
    return list(loads(path.read_bytes())["channels"])


def _torch():
    from mixkit.errors import require

    return require("torch", "train", "the packed torch datasets")


class PackedStream:
    """The training stream of a plan, by global position (``stream[i]`` -> dict of int64 tensors)."""

    def __init__(self, source: Any, plan: Plan | None = None, max_epochs: float | None = None) -> None:
        self.workdir = _workdir(source)
        self.plan = plan if plan is not None else Plan.load(self.workdir / "plan.json")
        self.channels = list(self.plan.channels)
        self.max_epochs = max_epochs if max_epochs is not None else self.plan.report.get("max_epochs")
        self._stream = Stream(self.plan, self.workdir / "tokens")

    @property
    def seq_len(self) -> int:
        return self.plan.seq_len

    def __len__(self) -> int:
        return self.plan.total_sequences

    def __getitem__(self, position: int) -> dict[str, Any]:
        torch = _torch()
        return {k: torch.from_numpy(v) for k, v in self._stream.sequence(int(position)).items()}

    def numpy(self, position: int) -> dict[str, np.ndarray]:
        return self._stream.sequence(int(position))

    def weights(self, position: int = 0) -> dict[str, float]:
        """Planned token shares per channel at ``position``."""
        return self.plan.weights_at(position)

    def stage_at(self, position: int) -> str | None:
        return self.plan.stage_at(min(position, self.plan.total_sequences - 1))

    def reweight(self, weights: dict[str, float], position: int) -> None:
        """Use ``weights`` from ``position`` to the end of the current stage; earlier positions unchanged,
        each channel continues where it was (nothing repeated or skipped). A channel that would pass the plan's
        epoch cap gets what the cap allows and the others share the rest (logged as a warning). A plan that is
        exact per global batch takes new weights from the next batch boundary at or after ``position``."""
        batch = self.plan.global_batch
        if batch > 1 and position % batch:
            position = -(-position // batch) * batch
            if position >= len(self):
                return
        new = self.plan.reweight(position, weights, max_epochs=self.max_epochs, on_cap="clip")
        applied = new.weights_at(position)
        clipped = {c: round(applied[c], 4) for c, v in weights.items() if applied.get(c, 0) < v - 1e-3}
        if clipped:
            log.warning(
                "reweight at %d: epoch cap %s limits %s (asked %s)",
                position,
                self.max_epochs,
                clipped,
                {c: round(weights[c], 4) for c in clipped},
            )
        self.plan = new
        self._stream = Stream(self.plan, self.workdir / "tokens")

    def state_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_json()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plan = Plan.from_json(state["plan"])
        self._stream = Stream(self.plan, self.workdir / "tokens")


class ValStream:
    """The held-out documents of every channel, packed per channel into windows of ``seq_len`` tokens; the
    last window of a channel is padded with EOS and its padding has label -100."""

    def __init__(self, source: Any, seq_len: int) -> None:
        self.workdir = _workdir(source)
        index = loads((self.workdir / "tokens" / "index.json").read_bytes())
        self.channels = list(index["channels"])
        self.eos_id = int(index["eos_id"])
        self.seq_len = seq_len
        self.windows = val_sequences(self.workdir / "tokens", self.channels, seq_len)
        self._data: dict[int, tuple[IndexedDataset, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.windows)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_data": {}}  # reopen the memory maps in DataLoader workers

    def numpy(self, i: int) -> dict[str, np.ndarray]:
        cid, start, n = self.windows[i]
        if cid not in self._data:
            data = IndexedDataset(self.workdir / "tokens" / "val" / self.channels[cid])
            self._data[cid] = (data, data.offsets)  # document starts in the shard's token array
        data, doc_starts = self._data[cid]
        ids = np.full(self.seq_len, self.eos_id, dtype=np.int64)
        ids[:n] = data.tokens[start : start + n]
        lo, hi = np.searchsorted(doc_starts, [start, start + n])
        inside = doc_starts[lo:hi] - start
        starts = np.union1d([0], inside).astype(np.int64)
        pos = np.arange(self.seq_len, dtype=np.int64)
        seg = np.searchsorted(starts, pos, side="right") - 1
        pos_ids = pos - starts[seg]
        labels = ids.copy()
        labels[starts] = IGNORE_INDEX
        labels[n:] = IGNORE_INDEX
        return {
            "input_ids": ids,
            "labels": labels,
            "position_ids": pos_ids,
            "channel_ids": np.full(self.seq_len, cid, dtype=np.int64),
        }

    def __getitem__(self, i: int) -> dict[str, Any]:
        torch = _torch()
        return {k: torch.from_numpy(v) for k, v in self.numpy(int(i)).items()}


class PackedDataset:
    """Map-style torch Dataset of one data-parallel rank over the train or val stream.

    Args:
        source: a Recipe, a recipe YAML path, or a workdir.
        split: "train" (the planned mix) or "val" (held-out documents, per channel).
        rank, world_size: this process's share: item i is global position start + i·world_size + rank.
        start: first global position (resume: the number of sequences already consumed).
        seq_len: tokens per sequence; train must equal the plan's (default), val may be anything.
        plan: a Plan to use instead of ``<workdir>/plan.json`` (e.g. after reweighting).
    """

    def __init__(
        self,
        source: Any,
        split: str = "train",
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
        seq_len: int | None = None,
        plan: Plan | None = None,
    ) -> None:
        if not 0 <= rank < world_size:
            raise MixkitError(f"rank {rank} must be in [0, world_size={world_size})")
        if split == "train":
            self.base: PackedStream | ValStream = PackedStream(source, plan)
            if seq_len is not None and seq_len != self.base.seq_len:
                raise MixkitError(
                    f"seq_len {seq_len} differs from the plan's {self.base.seq_len}; "
                    "set mix.seq_len and rerun `mixkit mix`"
                )
        elif split == "val":
            if seq_len is None:
                seq_len = Plan.load(_workdir(source) / "plan.json").seq_len
            self.base = ValStream(source, seq_len)
        else:
            raise MixkitError(f"split must be 'train' or 'val', got {split!r}")
        self.split, self.rank, self.world_size, self.start = split, rank, world_size, start
        self.channels = self.base.channels

    def __len__(self) -> int:
        remaining = max(0, len(self.base) - self.start - self.rank)
        return (remaining + self.world_size - 1) // self.world_size

    def position(self, i: int) -> int:
        """The global position of item ``i``."""
        return self.start + i * self.world_size + self.rank

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.base[self.position(i)]
