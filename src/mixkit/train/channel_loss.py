"""Channel loss: the loss of each data source (channel) inside packed, mixed batches, from the training forward.

The training loss and the per-channel losses come from ONE cross-entropy call on the logits of the training
forward pass (``reduction="none"``): the mean over valid tokens is what ``backward`` sees, and the per-token
values are summed per channel with ONE ``index_add_`` into a small ``(channels + 1, 2)`` buffer holding
(sum of token losses, token count); the extra last row collects ignored positions (label ``-100``). The buffer
stays on the device across micro-steps and is all-reduced once per logging step, so the cost is one
elementwise gather of ``B*T`` values and no host sync per step. The result is exact and token-weighted: the
channel loss of a window is the mean cross-entropy (nats per token) over every token of that channel the
model was trained on in the window, whatever the packing or the batch composition.

Which channel a token belongs to: the channel of the *predicted* token (``channel_ids`` at the label position),
so a document's loss counts all of its tokens except the first (there is nothing to predict it from).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def shift_for_causal_lm(labels: torch.Tensor, channel_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Align HF-style labels (same positions as ``input_ids``) with the logits: position t predicts t+1.

    Returns (targets, channels) of shape (B, T): the last position gets ``IGNORE_INDEX`` (nothing to predict),
    exactly as transformers' ``ForCausalLMLoss`` pads the shifted labels.
    """
    targets = F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)
    channels = F.pad(channel_ids[:, 1:], (0, 1), value=0)
    return targets, channels


def token_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-token cross-entropy in nats, float32, shape ``targets.shape``; 0 where ``targets == -100``.

    Logits are upcast to float32 first (as transformers does for its loss), so bf16 training still gets a
    float32 loss.
    """
    flat = logits.reshape(-1, logits.shape[-1]).float()
    return F.cross_entropy(flat, targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="none").view_as(
        targets
    )


def causal_lm_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    channel_ids: torch.Tensor,
    num_channels: int,
    *,
    stats: torch.Tensor | None = None,
    denominator: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training loss of a causal LM micro-batch and its per-channel (sum, count), from the same logits.

    Args:
        logits: (B, T, V) from the training forward.
        labels: (B, T) HF-style labels (unshifted; ``-100`` = no loss), e.g. ``-100`` at the first token of each
            packed document.
        channel_ids: (B, T) channel index of each token, in ``[0, num_channels)``.
        num_channels: number of channels.
        stats: optional (num_channels + 1, 2) float64 accumulator, updated in place; created when None.
        denominator: divide the summed loss by this instead of this micro-batch's valid-token count (use the
            whole optimizer step's token count under gradient accumulation, so every token weighs the same; with
            data parallelism, the step's count over all processes divided by their number, as
            ``mixkit.train.loop.step_denominator`` does).

    Returns:
        (loss for backward, stats) where ``stats[c] = (sum of token losses, token count)`` of channel ``c``
        and the last row collects ignored positions (count only, sum 0).
    """
    targets, channels = shift_for_causal_lm(labels, channel_ids)
    per_token = token_losses(logits, targets)
    valid = targets != IGNORE_INDEX
    if denominator is None:
        denominator = valid.sum().clamp_min(1)
    loss = per_token.sum() / denominator
    # Ignored positions go to the overflow row `num_channels`; their loss is already 0.
    index = torch.where(valid, channels, num_channels).reshape(-1)
    flat = per_token.detach().reshape(-1).double()
    values = torch.stack(
        [flat, torch.ones_like(flat)], dim=1
    )  # (loss, 1): one index_add gives sums and counts
    if stats is None:
        stats = torch.zeros(num_channels + 1, 2, dtype=torch.float64, device=logits.device)
    stats.index_add_(0, index, values)
    return loss, stats


class ChannelLossMeter:
    """Accumulates per-channel (loss sum, token count) on the device between logging steps.

    ``update`` adds one micro-batch's stats (no host sync); ``collect`` reduces across processes once (the
    one all-reduce per logging step), converts to Python numbers and resets the window.
    """

    def __init__(self, channels: list[str], device: torch.device | str = "cpu") -> None:
        self.channels = list(channels)
        self.device = torch.device(device)
        self.stats = torch.zeros(len(self.channels) + 1, 2, dtype=torch.float64, device=self.device)

    def reset(self) -> None:
        self.stats.zero_()

    def collect(self, reduce: Any = None) -> dict[str, Any]:
        """Window totals as ``{"loss", "channel_loss": {name: nats}, "tokens": {name: n}, "n_tokens"}``.

        ``reduce`` is a function summing a tensor across processes (``accelerator.reduce(t, "sum")``); one
        call per logging step. Channels with no tokens in the window are left out of ``channel_loss``.
        """
        stats = self.stats.clone()
        if reduce is not None:
            stats = reduce(stats)
        stats = stats.cpu()
        self.reset()
        sums, counts = stats[:-1, 0].tolist(), stats[:-1, 1].tolist()
        total_n = sum(counts)
        out: dict[str, Any] = {
            "loss": (sum(sums) / total_n) if total_n else float("nan"),
            "channel_loss": {c: s / n for c, s, n in zip(self.channels, sums, counts, strict=True) if n > 0},
            "tokens": {c: int(n) for c, n in zip(self.channels, counts, strict=True)},
            "n_tokens": int(total_n),
        }
        return out

    def collect_raw(self, reduce: Any = None) -> np.ndarray:
        """The window's (channels + 1, 2) array of (loss sum, token count), reduced across processes with
        ``reduce`` (one all-reduce), as float64 numpy; resets the window."""
        stats = self.stats.clone()
        if reduce is not None:
            stats = reduce(stats)
        self.reset()
        return stats.cpu().numpy()

    def state_dict(self) -> dict[str, Any]:
        return {"stats": self.stats.detach().cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.copy_(state["stats"].to(self.device))
