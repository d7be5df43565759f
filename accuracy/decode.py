"""Turn output token ids into text exactly as the MLPerf reference evaluation did.

The reference decoded with transformers 4.46, `skip_special_tokens=True`, and the
Llama-3.1 tokenizer config's `clean_up_tokenization_spaces=True`, which then
applied the legacy clean-up of spaces before punctuation and contractions.
transformers 5 no longer applies it for BPE tokenizers, so it is applied here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# transformers' legacy clean_up_tokenization, in its order.
_LEGACY_CLEANUP = (
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
    (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
)


def legacy_cleanup(text: str) -> str:
    for old, new in _LEGACY_CLEANUP:
        text = text.replace(old, new)
    return text


def decode_outputs(tokenizer, outputs: Sequence[np.ndarray]) -> list[str]:
    """Decode each output like the reference: drop special tokens, then the legacy clean-up."""
    texts = tokenizer.batch_decode(
        [o.tolist() for o in outputs], skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    return [legacy_cleanup(t) for t in texts]
