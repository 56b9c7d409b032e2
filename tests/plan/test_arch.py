"""Parameter counts: the LLaMA formula, published model sizes, and real transformers models built from configs."""

from __future__ import annotations

import json

import pytest

from mixkit.plan import Architecture, PlanError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def test_llama_7b_dims_give_6_74b() -> None:
    arch = Architecture(vocab=32000, layers=32, hidden=4096, intermediate=11008)
    parts = arch.param_breakdown()
    assert parts["embeddings"] == parts["output"] == 32000 * 4096
    assert parts["norms"] == (2 * 32 + 1) * 4096
    assert parts["attention"] == 4 * 32 * 4096**2
    assert parts["mlp"] == 3 * 32 * 4096 * 11008
    assert parts["total"] == 6_738_415_616
    assert round(arch.params / 1e9, 2) == 6.74


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # Mistral-7B-v0.1 (GQA 32/8): 7,241,732,096 as published on its model card.
        (
            {
                "model_type": "mistral",
                "vocab_size": 32000,
                "hidden_size": 4096,
                "num_hidden_layers": 32,
                "intermediate_size": 14336,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
            },
            7_241_732_096,
        ),
        # Qwen2-0.5B (GQA 14/2, q/k/v biases, tied embeddings): 494,032,768.
        (
            {
                "model_type": "qwen2",
                "vocab_size": 151936,
                "hidden_size": 896,
                "num_hidden_layers": 24,
                "intermediate_size": 4864,
                "num_attention_heads": 14,
                "num_key_value_heads": 2,
                "tie_word_embeddings": True,
            },
            494_032_768,
        ),
    ],
)
def test_published_sizes(config: dict, expected: int) -> None:
    assert Architecture.from_hf_config(config).params == expected


def _tiny_configs() -> dict[str, object]:
    common = {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 3, "intermediate_size": 176}
    t = transformers
    return {
        "llama": t.LlamaConfig(**common, num_attention_heads=8, num_key_value_heads=8),
        "llama-gqa-biases": t.LlamaConfig(
            **common, num_attention_heads=8, num_key_value_heads=2, attention_bias=True, mlp_bias=True
        ),
        "llama-tied-headdim": t.LlamaConfig(
            **common, num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True
        ),
        "qwen2": t.Qwen2Config(**common, num_attention_heads=8, num_key_value_heads=2),
        "qwen2-tied": t.Qwen2Config(
            **common, num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True
        ),
        "mistral": t.MistralConfig(**common, num_attention_heads=8, num_key_value_heads=2),
        "mistral-headdim": t.MistralConfig(
            **common, num_attention_heads=4, num_key_value_heads=1, head_dim=24
        ),
        "qwen3": t.Qwen3Config(**common, num_attention_heads=4, num_key_value_heads=2, head_dim=16),
    }


def _real_count(config: object) -> int:
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    # parameters() yields a tied tensor once, so this is the number of distinct trainable scalars.
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def real_counts() -> dict[str, tuple[object, int]]:
    return {name: (cfg, _real_count(cfg)) for name, cfg in _tiny_configs().items()}


@pytest.mark.parametrize("name", list(_tiny_configs()))
def test_matches_instantiated_model(name: str, real_counts: dict, tmp_path) -> None:
    config, real = real_counts[name]
    from_dict = Architecture.from_hf_config(config.to_dict()).params
    assert abs(from_dict - real) / real < 1e-3, (name, from_dict, real)
    assert from_dict == real  # the formula is exact for these layouts, not just within 0.1 %
    # Through a config.json on disk as save_pretrained writes it (defaults may be left out).
    config.save_pretrained(tmp_path)
    assert Architecture.from_json(tmp_path / "config.json").params == real
    assert Architecture.from_json(tmp_path).params == real


def test_gqa_reduces_attention() -> None:
    mha = Architecture(vocab=100, layers=2, hidden=64, intermediate=128, heads=8)
    gqa = Architecture(vocab=100, layers=2, hidden=64, intermediate=128, heads=8, kv_heads=2)
    assert mha.param_breakdown()["attention"] == 4 * 2 * 64**2
    assert gqa.param_breakdown()["attention"] == 2 * (2 * 64 * 64 + 2 * 64 * 16)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vocab": 0}, "vocab must be a positive integer"),
        ({"heads": 7}, "not divisible by heads"),
        ({"heads": 8, "kv_heads": 3}, "must be positive and divide heads"),
        ({"kv_heads": 2}, "pass --heads too"),
    ],
)
def test_bad_dimensions_explain(kwargs: dict, message: str) -> None:
    dims = {"vocab": 100, "layers": 2, "hidden": 64, "intermediate": 128, **kwargs}
    with pytest.raises(PlanError, match=message):
        Architecture(**dims)


def test_bad_config_files(tmp_path) -> None:
    with pytest.raises(PlanError, match="no such file"):
        Architecture.from_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid JSON"):
        Architecture.from_json(bad)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"model_type": "llama", "hidden_size": 64}), encoding="utf-8")
    with pytest.raises(PlanError, match="missing vocab_size"):
        Architecture.from_json(partial)
    moe = tmp_path / "moe.json"
    moe.write_text(
        json.dumps(
            {
                "model_type": "mixtral",
                "vocab_size": 10,
                "hidden_size": 8,
                "num_hidden_layers": 1,
                "intermediate_size": 8,
                "num_attention_heads": 2,
                "num_local_experts": 8,
            }
        )
    )
    with pytest.raises(PlanError, match="mixture-of-experts"):
        Architecture.from_json(moe)
