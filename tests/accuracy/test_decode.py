"""Decoding as the reference did: special tokens dropped, legacy space clean-up applied."""

from accuracy.decode import decode_outputs, legacy_cleanup
from accuracy.sentences import split_sentences


def test_legacy_cleanup_of_spaces_before_punctuation():
    assert legacy_cleanup("Hello , world . Is it ? Yes ! I do n't , I 'm sure it 's ours ' ok") == \
        "Hello, world. Is it? Yes! I don't, I'm sure it's ours'ok"


def test_decode_drops_end_tokens_and_cleans(tokenizer):
    import numpy as np

    ids = tokenizer.encode("He said , it 's fine .", add_special_tokens=False) + [128009, 128001]
    assert decode_outputs(tokenizer, [np.asarray(ids, dtype=np.int32)]) == ["He said, it's fine."]


def test_sentence_split_is_punkt_english():
    text = "Mr. Smith met Dr. Jones at 5 p.m. in Washington. They talked. Then the U.S. team left!"
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones at 5 p.m. in Washington.", "They talked.",
        "Then the U.S. team left!"]
