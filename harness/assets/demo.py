"""The embedded default: a tiny random-weight Llama with the real Llama-3 tokenizer, and a
demo dataset, built on first use into a cache folder and reused after that.

The cache folder is qsl.tokenizer.cache_root() ($MLPERF_LLAMA_CACHE, else
~/.cache/mlperf-llama31). A stamp
file records the recipe version: a changed recipe rebuilds, a finished build is
never half-written (each part is written to a temporary folder, then renamed).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.rules import BOS_TOKEN_ID, LLAMA3_VOCAB_SIZE, STOP_TOKEN_IDS
from qsl.tokenizer import cache_root

RECIPE_VERSION = "4"
DEMO_SAMPLE_COUNT = 32
# Small but shaped like Llama-3.1-8B: GQA (2 KV heads for 4 query heads), head_dim 64
# (the CPU attention kernels need >= 32), the real vocabulary and rope scaling.
TINY_LLAMA_CONFIG = dict(
    vocab_size=LLAMA3_VOCAB_SIZE, hidden_size=256, intermediate_size=512,
    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=500000.0,
    rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                      high_freq_factor=4.0, original_max_position_embeddings=1024),
    tie_word_embeddings=False, bos_token_id=BOS_TOKEN_ID, eos_token_id=list(STOP_TOKEN_IDS),
)


@dataclass(frozen=True)
class DemoAssets:
    """Paths of the embedded default's model folder (tokenizer included) and dataset."""

    model_dir: Path
    dataset_path: Path

    @property
    def tokenizer_dir(self) -> Path:
        return self.model_dir


def ensure_demo_assets(root: Path | None = None) -> DemoAssets:
    """Return the demo assets, building whatever is missing or from an older recipe."""
    root = (root or cache_root()) / f"demo-v{RECIPE_VERSION}"
    assets = DemoAssets(model_dir=root / "tiny-llama", dataset_path=root / "cnn_demo.json")
    if not (root / "READY").exists():
        print(f"[demo] building the embedded tiny model and demo dataset in {root} (once)",
              file=sys.stderr, flush=True)
        _build(root, assets)
        (root / "READY").write_text(RECIPE_VERSION + "\n")
    return assets


def _build(root: Path, assets: DemoAssets) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from qsl.demo_dataset import build_demo_dataset
    from qsl.tokenizer import embedded_tokenizer_dir, load_tokenizer

    root.mkdir(parents=True, exist_ok=True)
    tmp = root / "tiny-llama.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(embedded_tokenizer_dir(), tmp)
    torch.manual_seed(0)
    # float32: batch-dependent rounding in bf16 flips greedy near-ties between two runs of
    # the same prompts, and the tests compare token ids across engines and batchings.
    model = LlamaForCausalLM(LlamaConfig(**TINY_LLAMA_CONFIG, dtype="float32"))
    model.save_pretrained(tmp)
    (tmp / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": BOS_TOKEN_ID, "eos_token_id": list(STOP_TOKEN_IDS),
         "do_sample": False}, indent=1))
    shutil.rmtree(assets.model_dir, ignore_errors=True)
    tmp.rename(assets.model_dir)
    build_demo_dataset(assets.dataset_path, load_tokenizer(assets.model_dir), DEMO_SAMPLE_COUNT)
