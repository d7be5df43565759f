"""The embedded Llama-3 tokenizer against Meta's own tiktoken implementation (llama-models)."""

import pytest

from harness.rules import BOS_TOKEN_ID, STOP_TOKEN_IDS

TEXTS = [
    "Hello world!",
    "Summarize the following news article in 128 tokens.\n\nArticle:\nIt's 3.14159 dollars.",
    "naïve café — “quotes” and 日本語 text, emojis 🙂 and\ttabs\n\n\nnewlines   spaces",
    "(CNN) -- Mr. O'Neil said: 'we'll see' at 5:30 p.m. on 2024-01-02, +12.5% y/y.",
]


@pytest.fixture(scope="module")
def meta():
    from llama_models.llama3.tokenizer import Tokenizer

    return Tokenizer.get_instance()


@pytest.mark.parametrize("text", TEXTS)
def test_encoding_matches_meta_tiktoken(tokenizer, meta, text):
    assert tokenizer.encode(text) == [BOS_TOKEN_ID] + meta.encode(text, bos=False, eos=False)


def test_special_tokens_are_llama31s(tokenizer):
    assert len(tokenizer) == 128256
    names = tokenizer.convert_ids_to_tokens([128000, *STOP_TOKEN_IDS, 128005, 128011, 128255])
    assert names == ["<|begin_of_text|>", "<|end_of_text|>", "<|eom_id|>", "<|eot_id|>",
                     "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
                     "<|reserved_special_token_247|>"]


def test_decode_round_trip_skips_specials(tokenizer):
    ids = tokenizer.encode(TEXTS[2]) + [128009]
    assert tokenizer.decode(ids, skip_special_tokens=True) == TEXTS[2]


def test_missing_llama_models_is_a_setup_error(monkeypatch, tmp_path):
    import sys

    from harness.errors import SetupError
    from qsl.tokenizer import build_llama3_tokenizer

    monkeypatch.setitem(sys.modules, "llama_models.llama3", None)  # import fails as if absent
    with pytest.raises(SetupError, match="pip install llama-models.*--tokenizer"):
        build_llama3_tokenizer(tmp_path)
