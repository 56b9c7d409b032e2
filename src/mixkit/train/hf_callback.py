"""Channel loss for Hugging Face ``Trainer`` (and TRL trainers, which subclass it) on mixkit's dataset.

A callback cannot see per-token losses, so this is a small mixin that replaces ``compute_loss``: ONE forward,
the loss and the per-channel (sum, count) from the same logits (``channel_loss.causal_lm_loss``), the per-channel
buffer kept on the device and all-reduced once per ``logging_steps``, where ``log`` adds
``channel_loss/<name>`` and ``tokens/<name>`` to the logs (so TensorBoard, W&B ... show one curve per channel;
evaluation logs get ``eval_channel_loss/<name>``). Batches without ``channel_ids`` fall back to the parent's loss.

Usage::

    from transformers import Trainer
    from mixkit.train.hf_callback import ChannelLossTrainer, with_channel_loss

    trainer = ChannelLossTrainer(model=model, args=args, train_dataset=PackedDataset(recipe),
                                 channel_names=ds.channels)
    # TRL: SFTTrainerWithChannels = with_channel_loss(trl.SFTTrainer)

Loss scaling follows Trainer's own: divided by ``num_items_in_batch`` (valid targets of the whole accumulated
step) when Trainer passes it, else by the micro-batch's valid targets (Trainer then divides by the accumulation
steps); multiplied by the number of processes when ``average_tokens_across_devices`` (as Trainer does).
"""

from __future__ import annotations

from typing import Any

import torch

from mixkit.train.channel_loss import ChannelLossMeter, causal_lm_loss

try:  # transformers is a train-extra dependency; import lazily in with_channel_loss otherwise
    from transformers import Trainer
except ImportError:  # pragma: no cover - exercised only without the train extra
    Trainer = object  # type: ignore[assignment,misc]


class ChannelLossMixin:
    """Mix into a ``transformers.Trainer`` subclass *before* it: ``class T(ChannelLossMixin, Trainer)``."""

    def __init__(self, *args: Any, channel_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_names = list(channel_names)
        self._train_meter: ChannelLossMeter | None = None
        self._eval_meter: ChannelLossMeter | None = None

    def _set_signature_columns_if_needed(self) -> None:
        """Keep ``channel_ids`` when Trainer drops the batch keys the model's forward does not take."""
        super()._set_signature_columns_if_needed()  # type: ignore[misc]
        cols = self._signature_columns  # type: ignore[has-type]
        if cols is not None and "channel_ids" not in cols:
            self._signature_columns = [*cols, "channel_ids"]

    def _meter(self, training: bool, device: torch.device) -> ChannelLossMeter:
        attr = "_train_meter" if training else "_eval_meter"
        meter = getattr(self, attr)
        if meter is None or meter.device != device:
            meter = ChannelLossMeter(self.channel_names, device)
            setattr(self, attr, meter)
        return meter

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> Any:
        """Causal-LM loss and channel loss from one forward (see the module docstring)."""
        if "channel_ids" not in inputs or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)  # type: ignore[misc]
        inputs = dict(inputs)
        channel_ids = inputs.pop("channel_ids")
        labels = inputs.pop("labels")
        outputs = model(**inputs, use_cache=False)
        meter = self._meter(model.training, outputs.logits.device)
        loss, _ = causal_lm_loss(
            outputs.logits,
            labels,
            channel_ids,
            len(self.channel_names),
            stats=meter.stats,
            denominator=num_items_in_batch,
        )
        args = self.args  # type: ignore[attr-defined]
        if model.training and num_items_in_batch is not None and args.average_tokens_across_devices:
            loss = loss * self.accelerator.num_processes  # type: ignore[attr-defined]
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        """Add the window's channel losses (one all-reduce) to Trainer's training and evaluation logs."""
        reduce = lambda t: self.accelerator.reduce(t, "sum")  # type: ignore[attr-defined]  # noqa: E731
        if "loss" in logs and self._train_meter is not None:
            out = self._train_meter.collect(reduce)
            logs.update({f"channel_loss/{c}": v for c, v in out["channel_loss"].items()})
            logs.update({f"tokens/{c}": float(n) for c, n in out["tokens"].items()})
        if "eval_loss" in logs and self._eval_meter is not None:
            out = self._eval_meter.collect(reduce)
            logs.update({f"eval_channel_loss/{c}": v for c, v in out["channel_loss"].items()})
        super().log(logs, *args, **kwargs)  # type: ignore[misc]


def with_channel_loss(trainer_cls: type) -> type:
    """A subclass of ``trainer_cls`` (``Trainer``, TRL's ``SFTTrainer`` ...) that logs channel loss.

    The new class takes one more keyword argument, ``channel_names`` (the dataset's ``channels``).
    """
    return type(f"ChannelLoss{trainer_cls.__name__}", (ChannelLossMixin, trainer_cls), {})


class ChannelLossTrainer(ChannelLossMixin, Trainer):  # type: ignore[misc,valid-type]
    """``transformers.Trainer`` with channel loss; pass ``channel_names=dataset.channels``."""
