"""The Llama-3 tokenizer: build it offline from PyPI `llama-models`, and load any HF tokenizer.

`llama-models` ships Meta's tiktoken BPE file for Llama 3. Converted with
transformers' TikTokenConverter and given the 256 Llama-3.1 special tokens, it
is the same tokenizer as the one in meta-llama/Llama-3.1-8B-Instruct (same ids,
same BOS handling), so the embedded demo and the accuracy scripts need no
model download.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path

from harness.errors import SetupError
from harness.rules import BOS_TOKEN_ID

# Names of ids 128000..128010 in Llama 3.1; 128011..128255 are reserved_special_token_3..247.
_NAMED_SPECIAL_TOKENS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
)
SPECIAL_TOKEN_COUNT = 256
EMBEDDED_TOKENIZER_VERSION = "1"
# What Llama-3 folders name as their tokenizer class (transformers 4, and 5 when it saves one).
FAST_TOKENIZER_CLASSES = (None, "PreTrainedTokenizerFast", "TokenizersBackend")  # a new version rebuilds the cached tokenizer folder


def llama31_special_tokens() -> list[str]:
    """The 256 special tokens of Llama 3.1, in id order from 128000."""
    reserved = [
        f"<|reserved_special_token_{i}|>"
        for i in range(3, 3 + SPECIAL_TOKEN_COUNT - len(_NAMED_SPECIAL_TOKENS))
    ]
    return [*_NAMED_SPECIAL_TOKENS, *reserved]


def build_llama3_tokenizer(out_dir: Path) -> Path:
    """Write the Llama-3.1 tokenizer (HF fast format) into out_dir; return out_dir."""
    try:
        from llama_models.llama3 import tokenizer as meta_tokenizer
    except ImportError as e:
        raise SetupError(
            "the embedded Llama-3 tokenizer is built from the PyPI package llama-models, which "
            "is not installed here: `pip install llama-models`, or pass --tokenizer with a "
            "model folder that has tokenizer.json") from e
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    model_file = Path(meta_tokenizer.__file__).with_name("tokenizer.model")
    specials = llama31_special_tokens()
    converter = TikTokenConverter(
        vocab_file=str(model_file),
        pattern=meta_tokenizer.Tokenizer.pat_str,
        extra_special_tokens=specials,
    )
    backend = converter.converted()
    if backend.token_to_id(specials[0]) != BOS_TOKEN_ID:
        raise SetupError(
            f"the Llama-3 BPE file in {model_file} has an unexpected size; "
            f"install the llama-models version pinned in requirements.txt"
        )
    bos = specials[0]
    backend.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
                special_tokens=[(bos, BOS_TOKEN_ID)],
            ),
        ]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=bos,
        eos_token="<|eot_id|>",
        clean_up_tokenization_spaces=False,  # accuracy.decode applies the legacy clean-up itself
        model_max_length=131072,
    )
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def cache_root() -> Path:
    """Where the harness keeps what it builds itself (the embedded tokenizer, the demo):
    $MLPERF_LLAMA_CACHE, else ~/.cache/mlperf-llama31."""
    return Path(os.environ.get("MLPERF_LLAMA_CACHE", Path.home() / ".cache" / "mlperf-llama31"))


def embedded_tokenizer_dir() -> Path:
    """The embedded Llama-3.1 tokenizer's folder, built from llama-models on first use."""
    folder = cache_root() / f"llama31-tokenizer-v{EMBEDDED_TOKENIZER_VERSION}"
    if not (folder / "tokenizer.json").is_file():
        print(f"[tokenizer] building the embedded Llama-3.1 tokenizer in {folder} (once)",
              file=sys.stderr, flush=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        build_llama3_tokenizer(folder)
    return folder


def tokenizer_or_embedded(path: Path | None) -> Path:
    """The given tokenizer folder, else the embedded Llama-3.1 tokenizer."""
    return path if path is not None else embedded_tokenizer_dir()


def load_tokenizer(path: Path | str):
    """Load an HF tokenizer from a local folder (a model folder or a tokenizer folder); once
    per folder and process (a run checks it before the engine starts, scoring uses it after)."""
    path = Path(path)
    if not path.is_dir():
        raise SetupError(
            f"tokenizer folder not found: {path}; pass the model folder (or a folder with "
            f"tokenizer.json) with --tokenizer"
        )
    return _load_tokenizer(path.resolve())


@functools.lru_cache(maxsize=4)
def _load_tokenizer(path: Path):
    """Llama-3's tokenizer class (PreTrainedTokenizerFast, transformers 5's
    TokenizersBackend) directly when the folder names it or names none: AutoTokenizer would
    import torch, which scoring does not need."""
    if (path / "tokenizer.json").is_file() and _named_class(path) in FAST_TOKENIZER_CLASSES:
        from transformers import PreTrainedTokenizerFast as loader
    else:
        from transformers import AutoTokenizer as loader
    try:
        return loader.from_pretrained(str(path))
    except (OSError, ValueError) as e:
        raise SetupError(f"cannot load a tokenizer from {path}: {e}") from e


def _named_class(path: Path) -> str | None:
    try:
        return json.loads((path / "tokenizer_config.json").read_text()).get("tokenizer_class")
    except (OSError, ValueError, AttributeError):
        return None
