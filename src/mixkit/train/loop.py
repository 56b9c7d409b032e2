"""The continual-pretraining loop, in one readable file: setup, train (with channel loss), evaluate, save.

Reads top to bottom:

1. ``setup``: accelerate (device, mixed precision, DDP/FSDP from ``accelerate launch``), determinism, the model
   (local checkpoint or random init from a config), AdamW, the lr schedule, the channel-loss meter, the
   reweighting method, TensorBoard; then, with ``resume``, the newest checkpoint.
2. ``train``: each optimizer step reads ``grad_accum`` micro-batches at the current stream position, runs ONE
   forward per micro-batch, computes the loss and the per-channel (sum, count) from the same logits
   (``channel_loss.causal_lm_loss``), backward, clip, step. The loss is the mean over every valid target of the
   step on all processes (``step_denominator``: with several processes, one all-reduce of the step's token
   count before the forwards). Every ``log_every`` steps one all-reduce of the
   per-channel sums, one metrics record, TensorBoard scalars. Every ``val_every`` steps held-out channel
   perplexity; every ``reweight.every`` steps new mix weights from the window channel losses; every
   ``save_every`` steps (and on SIGTERM) a checkpoint.
3. ``save``: the final model as a Hugging Face folder ``<workdir>/train/final``.

Packed documents: ``position_ids`` restart at each document and no attention mask is passed, so transformers
(>= 4.53, ``masking_utils.find_packed_sequence_indices``) builds a block-diagonal causal mask for sdpa, eager
and flex attention, and flash-attention-2 uses the same position_ids as varlen boundaries: a token never attends
across a document boundary. ``use_cache=False`` is required for that detection (no KV cache in training).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import torch

from mixkit.errors import MixkitError
from mixkit.pipeline.layout import Workdir
from mixkit.train.channel_loss import ChannelLossMeter, causal_lm_loss
from mixkit.train.config import TrainConfig
from mixkit.train.data import collate, eval_batches, index_vocab_size, read_micro_batches
from mixkit.train.reweight import Reweighter, build_reweighter
from mixkit.train.schedules import LRSchedule
from mixkit.utils import atomic_open, write_json

log = logging.getLogger("mixkit.train")

CKPT_RE = re.compile(r"^step-(\d{8})$")
Hook = Callable[[dict[str, Any]], None]


class TrainError(MixkitError):
    """Training cannot start or continue (bad model, no data, inconsistent checkpoint)."""


# --------------------------------------------------------------------------------------------------- model


def build_model(cfg: TrainConfig, recipe: Any, vocab_size: int | None, seed: int) -> torch.nn.Module:
    """A causal LM from ``train.model``: a local/hub checkpoint, or a random init from an architecture config.

    Random init is seeded, so the same recipe gives the same initial weights. ``vocab_size`` (the stream's
    tokenizer vocabulary) fills ``config.vocab_size`` when the recipe does not set it.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = cfg.model
    if spec.path is not None:
        local = recipe.resolve(spec.path)
        where = str(local) if local.exists() else spec.path
        try:
            # float32 master weights whatever the checkpoint's dtype; accelerate handles mixed precision.
            model = AutoModelForCausalLM.from_pretrained(
                where, attn_implementation=spec.attn_implementation, dtype=torch.float32
            )
        except OSError as exc:
            raise TrainError(
                f"train.model.path: cannot load a causal LM from {where!r} ({exc}); give a local folder with "
                "config.json and weights, or use train.model.config for a random-initialised model"
            ) from exc
    else:
        kwargs = dict(spec.config or {})
        arch = kwargs.pop("architecture")
        if "vocab_size" not in kwargs:
            if vocab_size is None:
                raise TrainError(
                    "train.model.config: vocab_size is unknown; set train.model.config.vocab_size or the "
                    "recipe's tokenizer"
                )
            kwargs["vocab_size"] = vocab_size
        try:
            config = AutoConfig.for_model(arch, **kwargs)
        except ValueError as exc:
            raise TrainError(f"train.model.config.architecture: {exc}") from exc
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, attn_implementation=spec.attn_implementation)
    if vocab_size is not None and model.get_input_embeddings().num_embeddings < vocab_size:
        raise TrainError(
            f"the model's embedding has {model.get_input_embeddings().num_embeddings} rows but the tokenizer has "
            f"{vocab_size} tokens; pack with the model's own tokenizer, or resize the embeddings first"
        )
    if spec.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return model


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (not on biases, norms), the usual LLM recipe."""
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)


def step_denominator(local_tokens: int, accelerator: Any) -> float | int:
    """What this process divides its summed token loss by, so the optimizer step's gradient is the mean over
    every valid target token of the step, across micro-batches AND processes.

    DDP and FSDP average gradients over the ``W`` processes, so dividing each process's sum by
    ``global_tokens / W`` gives ``sum over all processes / global_tokens`` after the average (the scaling of
    transformers' ``average_tokens_across_devices``). Dividing by the local count instead would make the step the
    mean of per-process token means, which weighs a token on a process with few valid targets more. One process:
    the local count itself (no collective), so single-process runs are unchanged. ``global_tokens`` is summed with
    ONE all-reduce per optimizer step (of one integer); a step without any valid target divides by 1.
    """
    world = accelerator.num_processes
    if world == 1:
        return max(local_tokens, 1)
    count = torch.tensor([local_tokens], dtype=torch.int64, device=accelerator.device)
    global_tokens = int(accelerator.reduce(count, "sum").item())
    return max(global_tokens, 1) / world


# ---------------------------------------------------------------------------------------------- metrics


class MetricsLog:
    """``metrics.jsonl`` (one JSON object per record) and TensorBoard scalars, written by the main process."""

    def __init__(self, train_dir: Path, tensorboard: bool, main: bool, resume_step: int | None) -> None:
        self.path = train_dir / "metrics.jsonl"
        self.main = main
        self.tb = None
        if not main:
            return
        train_dir.mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            self._truncate_after(resume_step)
        elif self.path.exists():
            self.path.unlink()
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events logged after the checkpoint by the interrupted run.
            self.tb = SummaryWriter(
                str(train_dir / "tb"), purge_step=None if resume_step is None else resume_step + 1
            )
        self.fh = open(self.path, "ab")  # noqa: SIM115 - closed in close()

    def _truncate_after(self, step: int) -> None:
        """Keep only records up to ``step``: a resumed run rewrites what came after its checkpoint."""
        if not self.path.exists():
            return
        kept = [
            line
            for line in self.path.read_bytes().splitlines()
            if line.strip() and orjson.loads(line).get("step", 0) <= step
        ]
        with atomic_open(self.path) as fh:
            fh.write(b"".join(line + b"\n" for line in kept))

    def write(self, record: dict[str, Any]) -> None:
        if not self.main:
            return
        self.fh.write(orjson.dumps(record) + b"\n")
        self.fh.flush()
        if self.tb is None:
            return
        step = record["step"]
        kind = record.get("kind", "train")
        if kind == "train":
            self.tb.add_scalar("loss/total", record["loss"], step)
            self.tb.add_scalar("lr", record["lr"], step)
            self.tb.add_scalar("throughput/tokens_per_s", record["tokens_per_s"], step)
            for name, value in record["channel_loss"].items():
                self.tb.add_scalar(f"channel_loss/{name}", value, step)
            for name, value in record["tokens"].items():
                self.tb.add_scalar(f"tokens/{name}", value, step)
        elif kind == "val":
            self.tb.add_scalar("val_loss/total", record["loss"], step)
            for name, value in record["val_ppl"].items():
                self.tb.add_scalar(f"val_ppl/{name}", value, step)
            for name, value in record["val_loss"].items():
                self.tb.add_scalar(f"val_loss/{name}", value, step)
        elif kind == "reweight":
            for name, value in record["weights"].items():
                self.tb.add_scalar(f"weights/{name}", value, step)

    def close(self) -> None:
        if not self.main:
            return
        self.fh.close()
        if self.tb is not None:
            self.tb.flush()
            self.tb.close()


def _window(stats: np.ndarray, channels: list[str]) -> tuple[float, dict[str, float], dict[str, int]]:
    """(total loss, loss per channel, tokens per channel) of a (C+1, 2) array of (sum, count)."""
    sums, counts = stats[:-1, 0], stats[:-1, 1]
    total = float(sums.sum() / counts.sum()) if counts.sum() > 0 else float("nan")
    per = {c: float(s / n) for c, s, n in zip(channels, sums, counts, strict=True) if n > 0}
    return total, per, {c: int(n) for c, n in zip(channels, counts, strict=True)}


# -------------------------------------------------------------------------------------------- checkpoints


class TrainState:
    """Everything outside model/optimizer that a checkpoint must restore for an exact resume."""

    def __init__(self, channels: list[str]) -> None:
        n = len(channels) + 1
        self.step = 0
        self.position = 0  # global sequence index of the next unread sequence
        self.log_acc = np.zeros((n, 2))  # reduced (sum, count) since the last metrics record
        self.rw_acc = np.zeros((n, 2))  # ... since the last reweighting
        self.tokens_seen = np.zeros(n)  # cumulative trained tokens per channel
        self.window_start = time.perf_counter()

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "position": self.position,
            "log_acc": self.log_acc.tolist(),
            "rw_acc": self.rw_acc.tolist(),
            "tokens_seen": self.tokens_seen.tolist(),
        }

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.step, self.position = s["step"], s["position"]
        self.log_acc = np.array(s["log_acc"], dtype=np.float64)
        self.rw_acc = np.array(s["rw_acc"], dtype=np.float64)
        self.tokens_seen = np.array(s["tokens_seen"], dtype=np.float64)


class _Stateful:
    """Adapter giving accelerate's ``register_for_checkpointing`` a state_dict/load_state_dict pair."""

    def __init__(self, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self.state_dict, self.load_state_dict = get, put


def latest_checkpoint(train_dir: Path) -> Path | None:
    """The newest complete checkpoint folder under ``train_dir/checkpoints`` (complete = has state.json)."""
    root = train_dir / "checkpoints"
    found = [p for p in root.glob("step-*") if CKPT_RE.match(p.name) and (p / "state.json").is_file()]
    return max(found, key=lambda p: p.name) if found else None


def save_checkpoint(accelerator: Any, train_dir: Path, state: TrainState, keep: int) -> Path:
    """Write a checkpoint atomically: model, optimizer, RNG states (accelerate ``save_state``), the loop state
    (registered objects), then ``state.json`` last and a rename, so a killed save never looks complete."""
    root = train_dir / "checkpoints"
    final = root / f"step-{state.step:08d}"
    tmp = root / f".tmp-step-{state.step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json(tmp / "state.json", {"step": state.step, "position": state.position})
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        old = sorted(p for p in root.glob("step-*") if CKPT_RE.match(p.name))
        for p in old[:-keep]:
            shutil.rmtree(p, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


# ------------------------------------------------------------------------------------------------- eval


def val_indices(val: Any, channels: list[str], per_channel: int) -> list[int]:
    """Indices of the held-out sequences to evaluate: the first ``per_channel`` sequences of each channel (by
    the channel of their first token), found by one scan in order that stops when every channel has enough.
    The choice is fixed for the run, so evaluations are comparable across steps."""
    need = dict.fromkeys(range(len(channels)), per_channel)
    out = []
    for i in range(len(val)):
        c = int(val[i]["channel_ids"][0])
        if need.get(c, 0) > 0:
            need[c] -= 1
            out.append(i)
            if not any(need.values()):
                break
    return out


@torch.no_grad()
def evaluate(
    model: Any, val: Any, indices: list[int], cfg: TrainConfig, channels: list[str], accelerator: Any
) -> dict[str, Any]:
    """Held-out loss and perplexity per channel (token-weighted nats; ppl = exp(loss)) on the sequences
    ``indices`` of the held-out stream, split across processes; one all-reduce.

    Every process runs the same number of forwards (``eval_batches`` pads the shorter shares with zero-weight
    sequences), as FSDP requires: its forward is a collective."""
    model.eval()
    meter = ChannelLossMeter(channels, accelerator.device)
    for slots in eval_batches(
        indices, cfg.micro_batch_size, accelerator.process_index, accelerator.num_processes
    ):
        batch = collate([_eval_sample(val, indices, i) for i in slots])
        batch = {k: v.to(accelerator.device) for k, v in batch.items()}
        logits = model(
            input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False
        ).logits
        causal_lm_loss(logits, batch["labels"], batch["channel_ids"], len(channels), stats=meter.stats)
    model.train()
    out = meter.collect(lambda t: accelerator.reduce(t, "sum"))
    return {
        "loss": out["loss"],
        "val_loss": out["channel_loss"],
        "val_ppl": {c: math.exp(v) for c, v in out["channel_loss"].items()},
        "val_tokens": out["tokens"],
    }


def _eval_sample(val: Any, indices: list[int], i: int | None) -> dict[str, torch.Tensor]:
    """Held-out sequence ``i``, or for a padding slot (None) a real sequence with every label ``-100``: it runs
    through the model like any other and adds nothing to the loss sums or token counts."""
    if i is not None:
        return val[i]
    sample = dict(val[indices[0]])
    sample["labels"] = torch.full_like(sample["labels"], -100)
    return sample


# -------------------------------------------------------------------------------------------------- run


@contextlib.contextmanager
def _determinism(cfg: TrainConfig) -> Any:
    """Deterministic kernels and a fixed CPU thread count for the run, restored afterwards."""
    old_det, old_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    try:
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


@contextlib.contextmanager
def _sigterm_flag() -> Any:
    """Turn SIGTERM into a flag the loop checks after each step (then it checkpoints and exits cleanly)."""
    flag = {"stop": False}

    def handler(signum: int, frame: Any) -> None:
        log.warning("SIGTERM received: saving a checkpoint after this step, then stopping")
        flag["stop"] = True

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, old)


def run_train(
    recipe: Any,
    resume: bool = False,
    *,
    stream: Any = None,
    val_stream: Any = None,
    hooks: Sequence[Hook] = (),
) -> dict[str, Any]:
    """Train ``recipe.train`` on the recipe's packed stream (or ``stream``); returns a summary dict.

    Args:
        recipe: a loaded ``Recipe`` with a ``train:`` section.
        resume: continue from the newest checkpoint in ``<workdir>/train/checkpoints`` (exactly: same batches,
            same lr, same RNG; metrics records after the checkpoint are rewritten).
        stream, val_stream: a ``TrainStream`` and held-out stream to use instead of the recipe's token shards.
        hooks: called after every optimizer step (after logging and evaluation, before the checkpoint) with
            ``{"step", "position"}``; for tests and custom stops.

    Returns:
        ``{"status": "completed" | "interrupted", "step", "position", "metrics", "checkpoint", "final_model",
        "loss", "channel_loss", "tokens"}``.
    """
    cfg: TrainConfig | None = recipe.train
    if cfg is None:
        raise TrainError("the recipe has no train: section; add one (see docs/train.md)")
    train_dir = Workdir.of(recipe).train
    if stream is None:
        from mixkit.train.data import open_stream

        stream, val_stream = open_stream(recipe, cfg.seq_len)
    with _determinism(cfg), _sigterm_flag() as sigterm:
        return _train(recipe, cfg, train_dir, stream, val_stream, resume, hooks, sigterm)


def _train(
    recipe: Any,
    cfg: TrainConfig,
    train_dir: Path,
    stream: Any,
    val_stream: Any,
    resume: bool,
    hooks: Sequence[Hook],
    sigterm: dict[str, bool],
) -> dict[str, Any]:
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    # ---- setup
    # torchrun on a machine without GPUs: accelerate uses DDP over gloo only when told it runs on CPU.
    cpu_ddp = not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=cpu_ddp)
    seed = recipe.seed if cfg.seed is None else cfg.seed
    set_seed(seed)
    channels = list(stream.channels)
    checkpoint = latest_checkpoint(train_dir)
    if checkpoint is not None and not resume:
        raise TrainError(
            f"{train_dir} already holds checkpoints (newest: {checkpoint.name}); pass --resume to continue, "
            f"or delete {train_dir} to start over"
        )
    vocab_size = getattr(stream, "vocab_size", None) or index_vocab_size(recipe)
    step_seqs = cfg.micro_batch_size * cfg.grad_accum * accelerator.num_processes
    plan_batch = getattr(getattr(stream, "plan", None), "global_batch", 0)
    if plan_batch > 1 and plan_batch != step_seqs:
        log.warning(
            "the mix plan is exact per global batch of %d sequences but one optimizer step reads %d "
            "(micro_batch_size %d x grad_accum %d x %d processes); set mix.global_batch to %d (and rerun "
            "`mixkit mix`) or change the batch settings, else per-step channel shares may be off by up to 2",
            plan_batch,
            step_seqs,
            cfg.micro_batch_size,
            cfg.grad_accum,
            accelerator.num_processes,
            step_seqs,
        )
    if hasattr(stream, "__len__") and len(stream) < cfg.max_steps * step_seqs:
        raise TrainError(
            f"the mix plan has {len(stream)} sequences but train.max_steps={cfg.max_steps} needs "
            f"{cfg.max_steps * step_seqs} (max_steps x micro_batch_size x grad_accum x {accelerator.num_processes}"
            f" processes); lower train.max_steps or raise the mix token budget"
        )
    model = build_model(cfg, recipe, vocab_size, seed)
    optimizer = build_optimizer(model, cfg)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    schedule = LRSchedule(cfg.schedule, cfg.max_steps)
    meter = ChannelLossMeter(channels, accelerator.device)
    state = TrainState(channels)
    reweighter: Reweighter | None = None
    if cfg.reweight is not None:
        reweighter = build_reweighter(cfg.reweight.method, cfg.reweight.params, recipe.base_dir)
    # Order matters for load_state: keep this list fixed.
    for obj in (state, schedule, meter, stream):
        accelerator.register_for_checkpointing(obj)
    accelerator.register_for_checkpointing(
        _Stateful(
            lambda: reweighter.state_dict() if reweighter else {},
            lambda s: reweighter.load_state_dict(s) if reweighter else None,
        )
    )
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint))
        log.info("resumed from %s (step %d, stream position %d)", checkpoint, state.step, state.position)
    elif resume:
        log.info("--resume: no checkpoint in %s yet, starting from step 0", train_dir / "checkpoints")
    metrics = MetricsLog(
        train_dir,
        cfg.tensorboard,
        accelerator.is_main_process,
        state.step if checkpoint is not None else None,
    )
    if accelerator.is_main_process and checkpoint is None:
        metrics.write(
            {
                "kind": "start",
                "step": 0,
                "channels": channels,
                "weights": _weights(stream, state.position),
                "seed": seed,
                "world_size": accelerator.num_processes,
            }
        )
    reduce = lambda t: accelerator.reduce(t, "sum")  # noqa: E731 - the one all-reduce per logging step
    rw_every = cfg.reweight.every if cfg.reweight else 0
    decay_stage = cfg.schedule.decay_on_stage
    last_ckpt: Path | None = checkpoint
    state.window_start = time.perf_counter()
    status = "completed"
    val_idx: list[int] | None = None
    last_train: dict[str, Any] = {}

    # ---- train
    while state.step < cfg.max_steps:
        if (
            decay_stage
            and stream_stage(stream, state.position) == decay_stage
            and schedule.trigger_decay(state.step)
        ):
            log.info("stage %r starts at step %d: lr decay begins", decay_stage, state.step)
        lr = cfg.lr * schedule(state.step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        micro = read_micro_batches(
            stream,
            state.position,
            cfg.micro_batch_size,
            cfg.grad_accum,
            accelerator.process_index,
            accelerator.num_processes,
        )
        # Every token of the optimizer step weighs the same, on every process: the gradient must be the mean
        # over the step's valid targets of ALL processes and micro-batches (global_tokens).
        denominator = step_denominator(
            sum(int((b["labels"][:, 1:] != -100).sum()) for b in micro), accelerator
        )
        for i, batch in enumerate(micro):
            batch = {k: v.to(accelerator.device, non_blocking=True) for k, v in batch.items()}
            sync = i == len(micro) - 1
            with contextlib.nullcontext() if sync else accelerator.no_sync(model):
                logits = model(
                    input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False
                ).logits
                loss, _ = causal_lm_loss(
                    logits,
                    batch["labels"],
                    batch["channel_ids"],
                    len(channels),
                    stats=meter.stats,
                    denominator=denominator,
                )
                accelerator.backward(loss)
        grad_norm = None
        if cfg.grad_clip is not None:
            grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.position += step_seqs

        # ---- log (one all-reduce of the (sum, count) buffer), reweight, evaluate
        is_log = state.step % cfg.log_every == 0 or state.step == cfg.max_steps
        # no reweighting after the last step: nothing would train on the new plan
        is_rw = bool(rw_every) and state.step % rw_every == 0 and state.step < cfg.max_steps
        if is_log or is_rw:
            window = meter.collect_raw(reduce)
            state.log_acc += window
            state.rw_acc += window
            state.tokens_seen += window[:, 1]
        if is_log:
            elapsed = time.perf_counter() - state.window_start
            total, per, tokens = _window(state.log_acc, channels)
            last_train = {
                "kind": "train",
                "step": state.step,
                "loss": total,
                "lr": lr,
                "channel_loss": per,
                "tokens": {c: int(n) for c, n in zip(channels, state.tokens_seen[:-1], strict=True)},
                "window_tokens": tokens,
                "tokens_per_s": float(sum(tokens.values()) / max(elapsed, 1e-9)),
                "grad_norm": None if grad_norm is None else float(grad_norm),
                "position": state.position,
                "stage": stream_stage(stream, state.position),
            }
            metrics.write(last_train)
            log.info(
                "step %d/%d loss %.4f lr %.2e %s",
                state.step,
                cfg.max_steps,
                total,
                lr,
                " ".join(f"{c}={v:.3f}" for c, v in per.items()),
            )
            state.log_acc[:] = 0
            state.window_start = time.perf_counter()
        if is_rw and reweighter is not None:
            _, per, _ = _window(state.rw_acc, channels)
            state.rw_acc[:] = 0
            old = _weights(stream, state.position)
            new = reweighter.update(per, old, state.step)
            if new is not None:
                try:
                    stream.reweight(new, state.position)
                except MixkitError as exc:  # the plan refused the weights: keep the current plan
                    log.warning("reweight at step %d not applied: %s", state.step, exc)
                    new = None
            if new is not None:
                # The plan may adjust the request (epoch caps, quantisation): log what it applies.
                applied = _weights(stream, state.position)
                metrics.write(
                    {
                        "kind": "reweight",
                        "step": state.step,
                        "position": state.position,
                        "method": cfg.reweight.method,
                        "weights": applied,
                        "requested": new,
                        "previous_weights": old,
                        "window_loss": per,
                    }
                )
                log.info(
                    "reweight at step %d: %s",
                    state.step,
                    " ".join(f"{c}={w:.3f}" for c, w in applied.items()),
                )
        if (
            val_stream is not None
            and cfg.val_every
            and (state.step % cfg.val_every == 0 or state.step == cfg.max_steps)
        ):
            if val_idx is None:
                val_idx = val_indices(val_stream, channels, cfg.val_batches * cfg.micro_batch_size)
            result = evaluate(model, val_stream, val_idx, cfg, channels, accelerator)
            metrics.write({"kind": "val", "step": state.step, **result})
        for hook in hooks:
            hook({"step": state.step, "position": state.position})
        stop = sigterm["stop"]
        if accelerator.num_processes > 1:
            # Every process must agree, or the checkpoint save would hang; agree at logging steps only, so
            # steps stay free of extra collectives (a SIGTERM stops at the next logging step).
            if is_log:
                flag = torch.tensor([float(stop)], device=accelerator.device)
                stop = bool(accelerator.reduce(flag, "sum").item() > 0)
            else:
                stop = False
        if stop or (cfg.save_every and state.step % cfg.save_every == 0):
            last_ckpt = save_checkpoint(accelerator, train_dir, state, cfg.keep_checkpoints)
        if stop:
            status = "interrupted"
            break

    # ---- save
    final_dir = None
    if status == "completed":
        if last_ckpt is None or not last_ckpt.name.endswith(f"{state.step:08d}"):
            last_ckpt = save_checkpoint(accelerator, train_dir, state, cfg.keep_checkpoints)
        if cfg.save_final:
            final_dir = train_dir / "final"
            accelerator.wait_for_everyone()
            unwrapped = accelerator.unwrap_model(model)
            unwrapped.save_pretrained(
                str(final_dir),
                is_main_process=accelerator.is_main_process,
                save_function=accelerator.save,
                state_dict=accelerator.get_state_dict(model),
            )
    metrics.close()
    accelerator.end_training()
    return {
        "status": status,
        "step": state.step,
        "position": state.position,
        "metrics": str(metrics.path),
        "checkpoint": str(last_ckpt) if last_ckpt else None,
        "final_model": str(final_dir) if final_dir else None,
        "loss": last_train.get("loss"),
        "channel_loss": last_train.get("channel_loss", {}),
        "tokens": last_train.get("tokens", {}),
    }


def _weights(stream: Any, position: int) -> dict[str, float]:
    """The stream's target weights per channel at ``position`` (clamped to the last sequence of the plan)."""
    w = stream.weights(min(position, len(stream) - 1))
    return {c: float(v) for c, v in dict(w).items()}


def stream_stage(stream: Any, position: int) -> str | None:
    """The mix stage at ``position``, or None when the stream has no stages."""
    fn = getattr(stream, "stage_at", None)
    return fn(position) if fn is not None else None
