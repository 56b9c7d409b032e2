"""HF Trainer users get the same exact channel loss from mixkit-style packed batches."""

from __future__ import annotations

import pytest
import torch

from mixkit.train.data import collate


class _Seqs(torch.utils.data.Dataset):
    def __init__(self, stream, n):
        self.items = [stream[i] for i in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_trainer_logs_exact_channel_loss(make_stream, tmp_path):
    from test_channel_loss import _offline_channel_losses, _tiny_model
    from transformers import TrainingArguments

    from mixkit.train.hf_callback import ChannelLossTrainer

    stream = make_stream()
    data = _Seqs(stream, 8)
    model = _tiny_model(stream.vocab_size, seed=1)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path / "hf"),
        per_device_train_batch_size=8,
        max_steps=2,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        learning_rate=1e-3,
        save_strategy="no",
        seed=0,
        dataloader_num_workers=0,
    )
    trainer = ChannelLossTrainer(model=model, args=args, train_dataset=data, channel_names=stream.channels)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logs) == 2
    first = logs[0]
    # offline: the initial model on the whole (single-batch) dataset, one forward per channel
    ref = _tiny_model(stream.vocab_size, seed=1)
    ref.load_state_dict(initial)
    want = _offline_channel_losses(ref, collate(data.items), stream.channels)
    for c in stream.channels:
        assert first[f"channel_loss/{c}"] == pytest.approx(want[c], rel=1e-5)
        assert first[f"tokens/{c}"] > 0
    total = sum(first[f"channel_loss/{c}"] * first[f"tokens/{c}"] for c in stream.channels)
    assert first["loss"] == pytest.approx(
        total / sum(first[f"tokens/{c}"] for c in stream.channels), abs=1e-3
    )
    assert logs[1]["channel_loss/easy"] != first["channel_loss/easy"]  # the window was reset and moved on
