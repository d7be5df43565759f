"""A model folder holding only Llama-3.1-8B's config: with vLLM's `--load-format dummy`
it runs the real architecture with random weights (engine benchmarks without the weights)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.rules import BOS_TOKEN_ID, LLAMA3_VOCAB_SIZE, STOP_TOKEN_IDS

LLAMA31_8B_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
    "vocab_size": LLAMA3_VOCAB_SIZE, "max_position_embeddings": 131072,
    "rope_theta": 500000.0, "rms_norm_eps": 1e-5, "hidden_act": "silu",
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "attention_bias": False,
    "mlp_bias": False, "bos_token_id": BOS_TOKEN_ID, "eos_token_id": list(STOP_TOKEN_IDS),
}


def write_dummy_llama31_8b(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(LLAMA31_8B_CONFIG, indent=1) + "\n")
    return out_dir
