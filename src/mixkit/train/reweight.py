"""Dynamic reweighting of the mix from channel loss: the methods behind ``train.reweight``.

Every ``every`` optimizer steps the loop hands a method the token-weighted mean loss per channel over the
window just finished (nats per token, from the channel-loss meter) and the current weights; the method returns
new weights (a probability vector over channels, in tokens). The loop turns them into a new plan from the
current stream position (no document repeated or skipped) and logs them (a ``"kind": "reweight"`` record).

Methods are registered under kind ``reweight`` in ``mixkit.registry``; each has a ``Params`` model (the extra
keys of ``train.reweight``) and a picklable ``state_dict`` saved in checkpoints.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mixkit.errors import MixkitError


class ReweightError(MixkitError):
    """A reweighting method cannot run (e.g. its reference metrics are missing)."""


def _normalise(w: dict[str, float]) -> dict[str, float]:
    total = sum(w.values())
    return {c: v / total for c, v in w.items()}


def _floor(w: dict[str, float], min_weight: float) -> dict[str, float]:
    """Normalise, then raise every weight to at least ``min_weight`` (mass taken proportionally from the rest),
    so no channel is starved: its loss must stay measurable for the next window.

    Scaling the others down can push one of them under the floor too, so this repeats until no channel is newly
    below it (at most one round per channel)."""
    from mixkit.errors import MixkitError

    w = _normalise(w)
    if min_weight <= 0:
        return w
    if min_weight * len(w) > 1.0 + 1e-12:
        raise MixkitError(
            f"reweight min_weight={min_weight} x {len(w)} channels exceeds 1; lower train.reweight.min_weight "
            f"to at most {1.0 / len(w):.4g}"
        )
    low: set[str] = set()
    while True:
        newly = {c for c, v in w.items() if c not in low and v < min_weight}
        if not newly:
            return w
        low |= newly
        rest = sum(v for c, v in w.items() if c not in low)
        budget = 1.0 - min_weight * len(low)
        # some channel is >= 1/n >= min_weight, so `others` is never empty
        others = [c for c in w if c not in low]
        if rest <= 0:  # the others are all at zero: they share the budget equally
            w = {c: (min_weight if c in low else budget / len(others)) for c in w}
        else:
            w = {c: (min_weight if c in low else v * budget / rest) for c, v in w.items()}


class Reweighter:
    """Base class: ``update(window_loss, weights, step) -> new weights or None`` (None: keep the weights)."""

    name: ClassVar[str] = ""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(
        self, params: BaseModel | dict[str, Any] | None = None, base_dir: Path | None = None
    ) -> None:
        if params is None or isinstance(params, dict):
            params = self.Params(**(params or {}))
        self.params = params
        self.base_dir = base_dir or Path.cwd()

    def update(
        self, window_loss: dict[str, float], weights: dict[str, float], step: int
    ) -> dict[str, float] | None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class PplTrend(Reweighter):
    """Raise the weight of channels whose loss falls slowest (or rises); lower it where it falls fastest.

    After Llama-3-SynE (Chen et al. 2024, "Towards Effective and Efficient Continual Pre-training of Large
    Language Models", Sec. 3.2: the topic/language ratios are adjusted from the perplexity *trend* of each
    part, giving more data to what the model still learns slowly). Per window:

    - ``d_c = (L_prev,c - L_now,c) / L_prev,c``: relative loss drop of channel c (fraction; < 0 if it rose);
    - ``g_c = mean(d) - d_c``: positive for channels learning slower than average;
    - ``w_c <- w_c * exp(step_size * g_c / max|g|)``, then floor at ``min_weight`` and renormalise.

    Scaling by ``max|g|`` makes the step size bounded and unit-free: each weight changes by at most a factor
    ``exp(±step_size)`` per window (before renormalisation), whatever the loss scale.
    """

    name = "ppl_trend"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        step_size: float = Field(default=0.2, gt=0, le=2, description="max log-change of a weight per window")
        min_weight: float = Field(default=0.02, ge=0, lt=1, description="floor of any channel's weight")
        min_change: float = Field(
            default=1e-3, ge=0, description="ignore windows where all relative drops differ by less than this"
        )

    def __init__(self, params: Any = None, base_dir: Path | None = None) -> None:
        super().__init__(params, base_dir)
        self.prev: dict[str, float] | None = None

    def update(
        self, window_loss: dict[str, float], weights: dict[str, float], step: int
    ) -> dict[str, float] | None:
        prev, self.prev = self.prev, dict(window_loss)
        if prev is None:
            return None  # the first window only sets the baseline
        common = [c for c in weights if c in window_loss and c in prev and prev[c] > 0]
        if len(common) < 2:
            return None
        drop = {c: (prev[c] - window_loss[c]) / prev[c] for c in common}
        mean = sum(drop.values()) / len(drop)
        gap = {c: mean - d for c, d in drop.items()}
        scale = max(abs(g) for g in gap.values())
        if scale < self.params.min_change:
            return None
        new = {
            c: w * (math.exp(self.params.step_size * gap[c] / scale) if c in gap else 1.0)
            for c, w in weights.items()
        }
        return _floor(new, self.params.min_weight)

    def state_dict(self) -> dict[str, Any]:
        return {"prev": self.prev}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.prev = state.get("prev")


def read_reference_losses(path: Path, window: int = 5, key: str = "channel_loss") -> dict[str, float]:
    """Mean per-channel loss over the last ``window`` train records of an earlier run's ``metrics.jsonl``.

    ``key`` is ``channel_loss`` (training loss records) or ``val_loss`` (``"kind": "val"`` records).
    """
    import orjson

    if not path.is_file():
        raise ReweightError(
            f"doremi reference metrics {path} not found; point reweight.reference at the metrics.jsonl of a "
            "finished reference run (its <workdir>/train/metrics.jsonl)"
        )
    kind = "val" if key == "val_loss" else "train"
    rows = []
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                rec = orjson.loads(line)
                if rec.get("kind", "train") == kind and rec.get(key):
                    rows.append(rec[key])
    if not rows:
        raise ReweightError(
            f"{path} has no '{kind}' records with '{key}'; was that run logging channel loss?"
        )
    tail = rows[-window:]
    channels = sorted({c for r in tail for c in r})
    return {c: sum(r[c] for r in tail if c in r) / sum(1 for r in tail if c in r) for c in channels}


class DoReMi(Reweighter):
    """Online DoReMi: exponentiated-gradient ascent on each channel's excess loss over a reference model.

    Xie et al. 2023, "DoReMi: Optimizing Data Mixtures Speeds Up Language Model Pretraining", Algorithm 1:
    ``lambda_c = max(L_c - L_ref,c, 0)`` (excess loss, nats/token), ``alpha <- alpha * exp(eta * lambda)``
    normalised, then smoothed towards uniform ``u``: ``w = (1 - c) * alpha + c * u`` (paper: eta = 1,
    c = 1e-3). Here the proxy model is the model being trained (online), ``L_c`` is its window channel loss and
    ``L_ref`` the final per-channel loss of an earlier (reference) run read from its metrics.jsonl. ``alpha``
    (the unsmoothed weights) is the method's state; it starts from the plan's weights.
    """

    name = "doremi"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        reference: str = Field(description="metrics.jsonl of the reference run (relative to the recipe)")
        reference_window: int = Field(default=5, ge=1, description="last train records averaged for L_ref")
        reference_key: str = Field(default="channel_loss", pattern="^(channel_loss|val_loss)$")
        eta: float = Field(default=1.0, gt=0, description="step size of the exponentiated gradient")
        smoothing: float = Field(default=1e-3, ge=0, le=1, description="mix-in weight of the uniform vector")
        min_weight: float = Field(default=0.0, ge=0, lt=1)

    def __init__(self, params: Any = None, base_dir: Path | None = None) -> None:
        super().__init__(params, base_dir)
        self.alpha: dict[str, float] | None = None
        self._ref: dict[str, float] | None = None

    @property
    def reference(self) -> dict[str, float]:
        if self._ref is None:
            path = Path(self.params.reference)
            path = path if path.is_absolute() else self.base_dir / path
            self._ref = read_reference_losses(path, self.params.reference_window, self.params.reference_key)
        return self._ref

    def update(
        self, window_loss: dict[str, float], weights: dict[str, float], step: int
    ) -> dict[str, float] | None:
        ref = self.reference
        missing = [c for c in weights if c not in ref]
        if missing:
            raise ReweightError(
                f"doremi reference {self.params.reference} has no loss for channel(s) {missing}; the reference "
                "run must train on the same channels"
            )
        alpha = dict(self.alpha or weights)
        log_alpha = {
            c: math.log(max(a, 1e-30)) + self.params.eta * max(window_loss.get(c, ref[c]) - ref[c], 0.0)
            for c, a in alpha.items()
        }
        top = max(log_alpha.values())
        alpha = _normalise({c: math.exp(v - top) for c, v in log_alpha.items()})
        self.alpha = alpha
        u = 1.0 / len(alpha)
        smoothed = {c: (1 - self.params.smoothing) * a + self.params.smoothing * u for c, a in alpha.items()}
        return _floor(smoothed, self.params.min_weight)

    def state_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.alpha = state.get("alpha")


def build_reweighter(method: str, params: dict[str, Any], base_dir: Path | None = None) -> Reweighter:
    """Instantiate the registered reweighting method ``method`` with its (validated) parameters."""
    from mixkit import registry

    cls = registry.get("reweight", method)
    return cls(cls.Params(**params), base_dir=base_dir)
