"""The loop's view of mixkit's packed stream: ``mixkit.pack.dataset.PackedDataset`` over ``mixkit.mix.plan.Plan``.

The dataset is addressed by global sequence position (rank 0 of world 1, start 0, so ``ds[g]`` is position g)
and the loop splits positions across processes itself. Reweighting at position k asks the plan for a new plan
from k on (``Plan.reweight``: positions before k unchanged, each channel continues where it was, so nothing is
repeated or skipped), saves it as ``<workdir>/train/plan-<k>.json`` and reopens the dataset on it. The reweight
history (positions and weights) is the stream's checkpoint state; resume replays it on the original plan.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mixkit.errors import MixkitError
from mixkit.pipeline.layout import Workdir

log = logging.getLogger("mixkit.train")


def _seg(seg: Any, *names: str) -> Any:
    for n in names:
        if isinstance(seg, dict) and n in seg:
            return seg[n]
        if hasattr(seg, n):
            return getattr(seg, n)
    return None


class PackedStream:
    """``TrainStream`` over the recipe's plan and token shards (see the module docstring)."""

    def __init__(self, recipe: Any, seq_len: int | None = None) -> None:
        try:
            from mixkit.mix.plan import Plan
            from mixkit.pack.dataset import PackedDataset
        except ImportError as exc:
            raise MixkitError(f"the mix/pack stages are not available ({exc}); update mixkit") from exc
        wd = Workdir.of(recipe)
        if not wd.plan.is_file():
            raise MixkitError(
                f"no mix plan at {wd.plan}; run `mixkit pack RECIPE` and `mixkit mix RECIPE` (or `mixkit run`) "
                "before `mixkit train`"
            )
        self.recipe = recipe
        self.seq_len = seq_len
        self._Plan, self._Dataset = Plan, PackedDataset
        self.base_plan = Plan.load(wd.plan)
        self.plan = self.base_plan
        self.history: list[tuple[int, dict[str, float]]] = []
        self.train_dir = wd.train
        self._open()
        self.channels: list[str] = list(self.ds.channels)
        self.vocab_size = self._vocab_size()

    def _open(self) -> None:
        self.ds = self._Dataset(
            self.recipe, split="train", rank=0, world_size=1, start=0, seq_len=self.seq_len, plan=self.plan
        )

    def _vocab_size(self) -> int | None:
        from mixkit.pack.tokenizer import load_tokenizer

        spec = self.recipe.tokenizer
        if spec is None:
            return None
        local = self.recipe.resolve(spec)
        return load_tokenizer(str(local) if Path(local).exists() else spec).vocab_size

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, index: int) -> Any:
        if index >= len(self.ds):
            raise MixkitError(
                f"the mix plan has {len(self.ds)} sequences but training asked for sequence {index}; lower "
                "train.max_steps, or raise the mix token budget (max_steps * micro_batch_size * grad_accum * "
                "processes sequences are needed)"
            )
        return self.ds[index]

    def _segment_at(self, position: int) -> Any:
        for seg in self.plan.segments:
            start, end = _seg(seg, "start"), _seg(seg, "end")
            if start is not None and end is not None and start <= position < end:
                return seg
        return self.plan.segments[-1] if self.plan.segments else None

    def weights_at(self, position: int) -> dict[str, float]:
        """Target token ratios of the plan segment holding ``position``."""
        seg = self._segment_at(position)
        ratios = _seg(seg, "ratios", "weights") or {}
        return {c: float(ratios.get(c, 0.0)) for c in self.channels}

    def stage_at(self, position: int) -> str | None:
        seg = self._segment_at(position)
        return _seg(seg, "stage", "name")

    def reweight(self, weights: dict[str, float], position: int) -> None:
        self.plan = self.plan.reweight(at=position, ratios=weights)
        self.history.append((position, dict(weights)))
        try:
            self.plan.save(self.train_dir / f"plan-{position:012d}.json")
        except OSError as exc:  # the plan is in memory either way; the file is for inspection
            log.warning("could not save the reweighted plan: %s", exc)
        self._open()

    def state_dict(self) -> dict[str, Any]:
        return {"history": [[p, w] for p, w in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plan, self.history = self.base_plan, []
        for position, weights in state.get("history", []):
            self.plan = self.plan.reweight(at=position, ratios=weights)
            self.history.append((position, dict(weights)))
        self._open()


def open_packed(recipe: Any, seq_len: int | None = None) -> tuple[PackedStream, Any]:
    """(training stream, held-out dataset or None) of a recipe."""
    stream = PackedStream(recipe, seq_len)
    val = None
    if recipe.train is not None and recipe.train.val_every:
        try:
            val = stream._Dataset(recipe, split="val", rank=0, world_size=1, start=0, seq_len=seq_len)
            if len(val) == 0:
                val = None
        except (MixkitError, FileNotFoundError) as exc:
            log.warning("no held-out split for validation (%s); val_every is ignored", exc)
    return stream, val
