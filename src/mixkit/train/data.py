"""What the training loop needs from the packed token stream, and how it reads micro-batches from it.

The loop addresses the stream by *global sequence index* (its position): the sampler of a mix plan is a pure
function of (plan, seed, position), so resuming at any step and any world size reads the same sequences, and a
new weight vector applies from a position on without repeating or skipping a document. Any object with the
attributes and methods of ``TrainStream`` can be trained on; ``open_stream`` builds mixkit's own from a recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

BATCH_KEYS = ("input_ids", "labels", "position_ids", "channel_ids")


@runtime_checkable
class TrainStream(Protocol):
    """A packed, mixed token stream addressed by global sequence index.

    ``stream[i]`` is a dict of int64 tensors of shape (seq_len,): ``input_ids``, ``labels`` (HF convention,
    unshifted, ``-100`` = no loss), ``position_ids`` (reset to 0 at each document start) and ``channel_ids``
    (index into ``channels``).
    """

    channels: list[str]

    def __len__(self) -> int:
        """Sequences in the whole stream (the plan's length)."""
        ...

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]: ...

    def weights(self, position: int) -> dict[str, float]:
        """Target weights per channel (fractions of tokens) in effect at ``position``."""
        ...

    def reweight(self, weights: dict[str, float], position: int) -> None:
        """Use ``weights`` for every sequence from ``position`` on; sequences before it are unchanged."""
        ...

    def stage_at(self, position: int) -> str | None:
        """Name of the mix stage sequence ``position`` belongs to (None when the plan has no stages)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def collate(samples: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack per-sequence dicts into a (B, T) batch of the four keys the loop uses."""
    return {k: torch.stack([s[k] for s in samples]) for k in BATCH_KEYS}


def read_micro_batches(
    stream: Any, position: int, micro_batch_size: int, grad_accum: int, rank: int, world_size: int
) -> list[dict[str, torch.Tensor]]:
    """The micro-batches one process trains on in one optimizer step that starts at ``position``.

    One optimizer step consumes ``micro_batch_size * grad_accum * world_size`` consecutive sequences; micro-step
    ``m`` of process ``r`` reads the block ``position + (m * world_size + r) * micro_batch_size``. The split is
    a function of (position, sizes) only, so a resumed run reads exactly the sequences an uninterrupted one would.
    """
    out = []
    for m in range(grad_accum):
        start = position + (m * world_size + rank) * micro_batch_size
        out.append(collate([stream[i] for i in range(start, start + micro_batch_size)]))
    return out


def eval_batches(
    indices: Sequence[int], micro_batch_size: int, rank: int, world_size: int
) -> list[list[int | None]]:
    """This process's evaluation micro-batches over the held-out sequences ``indices``, padded so that EVERY
    process gets the same number of batches of the same sizes.

    Process ``r`` evaluates ``indices[r::world_size]``; the shares differ by at most one sequence, and under
    FSDP (each forward gathers parameters from all processes) or any other collective forward a process with
    one batch fewer would leave the others waiting forever. So each share is padded to
    ``ceil(len(indices) / world_size)`` slots with ``None``, which the caller evaluates as a zero-weight
    sequence (every label ``-100``), then cut into batches of ``micro_batch_size``. The union of the non-padding
    slots over the processes is ``indices``, each exactly once.
    """
    per_process = -(-len(indices) // world_size)
    mine: list[int | None] = list(indices[rank::world_size])
    mine += [None] * (per_process - len(mine))
    return [mine[s : s + micro_batch_size] for s in range(0, per_process, micro_batch_size)]


def open_stream(recipe: Any, seq_len: int | None = None) -> tuple[Any, Any]:
    """The training stream and the held-out stream (or None) of a recipe, from its plan and token shards.

    ``mixkit.pack.dataset.PackedStream`` implements ``TrainStream`` over ``<workdir>/plan.json`` and
    ``tokens/``; ``ValStream`` packs the held-out documents ``pack`` set aside, per channel.
    """
    from mixkit.errors import MixkitError
    from mixkit.pack.dataset import PackedStream, ValStream
    from mixkit.pipeline.layout import Workdir

    wd = Workdir.of(recipe)
    if not wd.plan.is_file() or not (wd.tokens / "index.json").is_file():
        raise MixkitError(
            f"no mix plan / token shards in {wd.root}; run `mixkit pack RECIPE` then `mixkit mix RECIPE` (or "
            "`mixkit run RECIPE`) before `mixkit train`"
        )
    stream = PackedStream(recipe)
    if seq_len is not None and seq_len != stream.seq_len:
        raise MixkitError(
            f"train.seq_len ({seq_len}) differs from the plan's seq_len ({stream.seq_len}); remove train.seq_len "
            "or set mix.seq_len and rerun `mixkit mix`"
        )
    val = None
    if recipe.train is not None and recipe.train.val_every and (wd.tokens / "val").is_dir():
        val = ValStream(recipe, stream.seq_len)
        if len(val) == 0:
            val = None
    return stream, val


def index_vocab_size(recipe: Any) -> int | None:
    """The tokenizer vocabulary size ``pack`` recorded in ``tokens/index.json`` (None when absent)."""
    from mixkit.pipeline.layout import Workdir
    from mixkit.utils import loads

    path = Workdir.of(recipe).tokens / "index.json"
    if not path.is_file():
        return None
    size = loads(path.read_bytes()).get("vocab_size")
    return int(size) if size else None
