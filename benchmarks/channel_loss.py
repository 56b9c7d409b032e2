"""Cost of channel loss: training steps with and without it, same model, same batches, interleaved.

Both variants run the same forward, shift, float32 cross-entropy, backward and AdamW step; the channel-loss
variant computes the cross-entropy with ``reduction="none"`` and adds the per-channel (sum, count) with one
``index_add_`` into a device buffer (mixkit.train.channel_loss.causal_lm_loss), reduced once per logging step
(here: every ``--log-every`` steps, synced to the host as in the loop). Repetitions alternate A/B/A/B so drift
of the machine (other jobs, clocks) hits both equally; the overhead is the median over repetitions of
(t_channel / t_plain - 1). Last line: the overhead in percent (goal < 1%).

    python benchmarks/channel_loss.py [--hidden 256 --layers 4 --seq-len 512 --batch 4 --reps 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from mixkit.train.channel_loss import ChannelLossMeter, causal_lm_loss, shift_for_causal_lm


def make_batches(n: int, batch: int, seq_len: int, vocab: int, channels: int, seed: int = 0):
    """Packed, mixed batches: random documents of 20..300 tokens from random channels, position_ids reset."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        ids = torch.randint(1, vocab, (batch, seq_len), generator=g)
        pos = torch.empty_like(ids)
        ch = torch.empty_like(ids)
        labels = ids.clone()
        for b in range(batch):
            t = 0
            while t < seq_len:
                length = int(torch.randint(20, 300, (1,), generator=g))
                end = min(seq_len, t + length)
                pos[b, t:end] = torch.arange(end - t)
                ch[b, t:end] = int(torch.randint(0, channels, (1,), generator=g))
                labels[b, t] = -100
                t = end
        out.append({"input_ids": ids, "labels": labels, "position_ids": pos, "channel_ids": ch})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5, help="steps per timed block")
    ap.add_argument("--reps", type=int, default=15, help="A/B repetitions")
    ap.add_argument("--log-every", type=int, default=5)
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (fewer = less noise)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from transformers import LlamaConfig, LlamaForCausalLM

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = (
        getattr(torch, args.dtype)
        if args.dtype
        else (torch.bfloat16 if device.type == "cuda" else torch.float32)
    )
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        intermediate_size=4 * args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=max(1, args.hidden // 64),
        max_position_embeddings=args.seq_len,
    )
    model = LlamaForCausalLM(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = [
        {k: v.to(device) for k, v in b.items()}
        for b in make_batches(args.steps, args.batch, args.seq_len, args.vocab, args.channels)
    ]
    meter = ChannelLossMeter([f"c{i}" for i in range(args.channels)], device)
    n_params = sum(p.numel() for p in model.parameters())

    def forward(b):
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            return model(input_ids=b["input_ids"], position_ids=b["position_ids"], use_cache=False).logits

    def step_plain(b, i):
        logits = forward(b)
        targets, _ = shift_for_causal_lm(b["labels"], b["channel_ids"])
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=-100
        )
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    def step_channel(b, i):
        logits = forward(b)
        loss, _ = causal_lm_loss(logits, b["labels"], b["channel_ids"], args.channels, stats=meter.stats)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if (i + 1) % args.log_every == 0:
            meter.collect()  # the per-logging-step reduction + host sync (single process: no all-reduce)

    def timed(fn) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i, b in enumerate(batches):
            fn(b, i)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0) / len(batches)

    for _ in range(2):  # warm up both paths (allocator, kernels, autotuning)
        timed(step_plain)
        timed(step_channel)
    plain, channel, ratios = [], [], []
    for r in range(args.reps):
        order = (step_plain, step_channel) if r % 2 == 0 else (step_channel, step_plain)
        t = {fn.__name__: timed(fn) for fn in order}
        plain.append(t["step_plain"])
        channel.append(t["step_channel"])
        ratios.append(t["step_channel"] / t["step_plain"])
    # The loss path alone (on fixed logits, with its backward): the extra work channel loss adds, measured with
    # far less noise than whole steps on a shared machine.
    logits0 = forward(batches[0]).detach().float().requires_grad_(True)
    b0 = batches[0]

    def loss_plain():
        targets, _ = shift_for_causal_lm(b0["labels"], b0["channel_ids"])
        F.cross_entropy(
            logits0.reshape(-1, logits0.shape[-1]), targets.reshape(-1), ignore_index=-100
        ).backward()

    def loss_channel():
        causal_lm_loss(logits0, b0["labels"], b0["channel_ids"], args.channels, stats=meter.stats)[
            0
        ].backward()

    def timed_loss(fn, n=20) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0) / n

    lp, lc = [], []
    for r in range(args.reps):
        for fn in (loss_plain, loss_channel) if r % 2 == 0 else (loss_channel, loss_plain):
            (lp if fn is loss_plain else lc).append(timed_loss(fn))
    extra = statistics.median(lc) - statistics.median(lp)
    tokens = args.batch * args.seq_len
    print(
        f"device={device.type} dtype={str(dtype).removeprefix('torch.')} params={n_params / 1e6:.1f}M "
        f"batch={args.batch}x{args.seq_len} vocab={args.vocab} channels={args.channels} reps={args.reps}"
    )
    print(
        f"plain step   median {statistics.median(plain) * 1e3:9.2f} ms  ({tokens / statistics.median(plain):,.0f} tok/s)"
    )
    print(
        f"channel step median {statistics.median(channel) * 1e3:9.2f} ms  ({tokens / statistics.median(channel):,.0f} tok/s)"
    )
    print(
        f"loss path alone: plain {statistics.median(lp) * 1e3:.3f} ms, channel {statistics.median(lc) * 1e3:.3f} ms "
        f"-> extra {extra * 1e3:+.3f} ms = {extra / statistics.median(plain) * 100:+.3f}% of a plain step"
    )
    print(
        f"fastest block: plain {min(plain) * 1e3:.2f} ms, channel {min(channel) * 1e3:.2f} ms "
        f"-> ratio {min(channel) / min(plain):.4f} (least disturbed by other load)"
    )
    q = statistics.quantiles(ratios, n=4)
    print(f"ratio channel/plain: median {statistics.median(ratios):.4f}  IQR [{q[0]:.4f}, {q[2]:.4f}]")
    print(f"channel loss overhead: {(statistics.median(ratios) - 1) * 100:+.2f}%")


if __name__ == "__main__":
    main()
