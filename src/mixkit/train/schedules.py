"""Learning-rate schedules for continual pretraining, as pure functions of the optimizer step.

Every schedule returns a *multiplier* of the peak ``lr`` (unit: fraction of ``train.lr``) for optimizer step
``step`` (0-based: the lr used by the ``step``-th update). They hold no hidden counters: the only state is the
step at which a stage-triggered decay started, which the checkpoint saves, so resuming gives the same lr.

- ``cosine``: linear warmup from ``start_lr_ratio`` to 1 over ``warmup_steps``, then half-cosine to
  ``min_lr_ratio`` at ``max_steps`` (Loshchilov & Hutter 2017, SGDR, Eq. 5 without restarts).
- ``rewarm``: the same curve, meant for continual pretraining of an open model whose optimizer state is gone:
  warm up *again* from the previous run's final lr (``start_lr_ratio``) to a new peak, then re-decay (Gupta et
  al. 2023, "Continual Pre-Training of LLMs: How to (re)warm your model?", Sec. 4; Ibrahim et al. 2024, "Simple
  and Scalable Strategies to Continually Pre-train LLMs", Sec. 5: re-warming + re-decaying recovers the
  forgetting cost of a new distribution).
- ``wsd``: warmup-stable-decay (Hu et al. 2024, MiniCPM, Sec. 4.2): warmup, constant peak, then a short decay
  (~10% of steps) to ``min_lr_ratio``. Decay shapes: ``exp`` (MiniCPM's exponential, half-life chosen so the
  curve reaches ``min_lr_ratio`` at the end), ``1-sqrt`` (Hägele et al. 2024, "Scaling Laws and
  Compute-Optimal Training Beyond Fixed Training Durations", Sec. 3, their best shape), ``cosine``, ``linear``.
  With ``decay_on_stage`` the decay starts when the mix plan enters that stage (the annealing stage of a
  curriculum, e.g. high-quality data at the end as in MiniCPM Sec. 4.3), not at a fixed step.
- ``constant``: warmup, then the peak lr.
"""

from __future__ import annotations

import math
from typing import Any

from mixkit.train.config import ScheduleConfig


def _warm(step: int, warmup: int, start: float) -> float:
    """Linear warmup from ``start`` (fraction of peak) at step 0 to 1.0 at step ``warmup``."""
    return start + (1.0 - start) * (step / warmup)


def _decay(progress: float, shape: str, floor: float) -> float:
    """Decay from 1.0 (progress 0) to ``floor`` (progress 1) along ``shape``; progress is clipped to [0, 1]."""
    p = min(max(progress, 0.0), 1.0)
    if shape == "cosine":
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * p))
    if shape == "linear":
        return floor + (1.0 - floor) * (1.0 - p)
    if shape == "1-sqrt":
        return floor + (1.0 - floor) * (1.0 - math.sqrt(p))
    if shape == "exp":
        # MiniCPM's exponential decay f = 0.5^(t/T), with T chosen so that f(end) = floor (needs floor > 0).
        f = max(floor, 1e-3)
        return f**p
    raise ValueError(f"unknown decay shape {shape!r}; use cosine, linear, 1-sqrt or exp")


class LRSchedule:
    """The lr multiplier of each optimizer step for one ``ScheduleConfig`` and run length.

    ``decay_start`` is the first step of the wsd decay: fixed (``max_steps - decay_len``) unless
    ``decay_on_stage`` is set, in which case ``trigger_decay(step)`` sets it when the stream enters that stage.
    """

    def __init__(self, cfg: ScheduleConfig, max_steps: int) -> None:
        self.cfg = cfg
        self.max_steps = max_steps
        self.warmup = min(cfg.warmup_steps, max_steps)
        self.decay_len = cfg.decay_steps or max(1, round(cfg.decay_fraction * max_steps))
        self.decay_start: int | None = None
        if cfg.name == "wsd" and cfg.decay_on_stage is None:
            self.decay_start = max(self.warmup, max_steps - self.decay_len)

    def trigger_decay(self, step: int) -> bool:
        """Start the wsd decay at ``step`` (the stream reached the ``decay_on_stage`` stage). Idempotent;
        returns True the first time. The decay then lasts ``decay_steps`` or until ``max_steps``."""
        if self.cfg.name != "wsd" or self.decay_start is not None:
            return False
        self.decay_start = step
        if self.cfg.decay_steps is None:
            self.decay_len = max(1, self.max_steps - step)
        return True

    def __call__(self, step: int) -> float:
        """Multiplier of the peak lr for optimizer step ``step`` (0-based)."""
        c = self.cfg
        if step < self.warmup:
            return _warm(step, self.warmup, c.start_lr_ratio)
        if c.name == "constant":
            return 1.0
        if c.name in ("cosine", "rewarm"):
            span = max(1, self.max_steps - self.warmup)
            return _decay((step - self.warmup) / span, "cosine", c.min_lr_ratio)
        # wsd
        if self.decay_start is None or step < self.decay_start:
            return 1.0
        return _decay((step - self.decay_start) / self.decay_len, c.decay_shape, c.min_lr_ratio)

    def state_dict(self) -> dict[str, Any]:
        return {"decay_start": self.decay_start, "decay_len": self.decay_len}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay_start = state["decay_start"]
        self.decay_len = state["decay_len"]
