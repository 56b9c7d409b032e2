"""Packed documents do not attend across boundaries when position_ids restart (transformers' packed-sequence
mask for sdpa and eager), which is what makes the loop's per-document losses equal to unpacked ones."""

from __future__ import annotations

import pytest
import torch
from train_helpers import TINY_LLAMA
from transformers import AutoConfig, AutoModelForCausalLM


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_logits_equal_unpacked(attn):
    kw = dict(TINY_LLAMA)
    kw.pop("architecture")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(
        AutoConfig.for_model("llama", vocab_size=128, **kw), attn_implementation=attn
    ).eval()
    g = torch.Generator().manual_seed(1)
    a, b = torch.randint(0, 128, (10,), generator=g), torch.randint(0, 128, (12,), generator=g)
    packed = torch.cat([a, b])[None]
    pos = torch.cat([torch.arange(10), torch.arange(12)])[None]
    with torch.no_grad():
        both = model(input_ids=packed, position_ids=pos, use_cache=False).logits[0]
        alone = model(input_ids=b[None], position_ids=torch.arange(12)[None], use_cache=False).logits[0]
        # without restarting positions, doc B would see doc A: the logits differ (the test can fail)
        leaky = model(input_ids=packed, position_ids=torch.arange(22)[None], use_cache=False).logits[0]
    torch.testing.assert_close(both[10:], alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(leaky[10:], alone, atol=1e-3)
