"""Synthetic prompt sets: the shapes the engine benchmarks rely on."""

import collections

from harness.rules import BOS_TOKEN_ID
from qsl.dataset import load_dataset
from qsl.mmlu import SUBJECT_GROUPS
from qsl.synthetic import (
    MAX_TOKENS,
    MIN_TOKENS,
    MMLU_TEMPLATE_TOKENS,
    synthetic_mmlu_records,
    synthetic_records,
    write_synthetic_dataset,
)


def test_cnn_shape_lengths_and_bos():
    records = synthetic_records(500, seed=1)
    lengths = [len(r["tok_input"]) for r in records]
    assert len(records) == 500 and all(r["tok_input"][0] == BOS_TOKEN_ID for r in records)
    assert MIN_TOKENS <= min(lengths) and max(lengths) <= MAX_TOKENS
    assert 800 < sum(lengths) / len(lengths) < 1100  # CNN-DailyMail's mean is about 940


def test_mmlu_shape_shares_one_prefix_per_subject():
    records = synthetic_mmlu_records(3000, seed=2)
    assert len(records) == 3000
    by_subject = collections.defaultdict(list)
    for r in records:
        by_subject[r["subject"]].append(r["tok_input"])
    assert set(by_subject) == set(SUBJECT_GROUPS)
    assert {r["output"] for r in records} == set("ABCD")
    for subject, prompts in by_subject.items():
        first = prompts[0]
        common = min(next((i for i, (a, b) in enumerate(zip(first, p)) if a != b), len(p))
                     for p in prompts[1:]) if len(prompts) > 1 else len(first)
        assert common > MMLU_TEMPLATE_TOKENS, subject  # the five shots are shared
        assert all(len(p) > common for p in prompts), subject  # each has its own question
    prefixes = {tuple(p[:MMLU_TEMPLATE_TOKENS + 1]) for p in (v[0] for v in by_subject.values())}
    assert len(prefixes) == len(by_subject)  # subjects do not share shots


def test_written_mmlu_file_loads_as_mmlu(tmp_path):
    path = write_synthetic_dataset(tmp_path / "m.json", "mmlu", 120)
    dataset = load_dataset(path, 128256)
    assert dataset.is_mmlu and len(dataset) == 120
