"""Synthetic prompt sets shaped like the real ones, for engine benchmarks where the real
dataset is absent (token ids are random ordinary ids after BOS). Use them for
throughput, never for accuracy: the references mean nothing.

- `cnn`: CNN-DailyMail prompt lengths as seen with the Llama-3 tokenizer
  (lognormal, median about 850 tokens, clipped to 100..2540; mean about 940).
- `mmlu`: Meta-style 5-shot MMLU prompts: every prompt of a subject starts with the
  same few-shot prefix (five worked examples in the chat template), then its own
  question. Question lengths vary by subject (some subjects quote long passages);
  the overall mean is about 600 tokens. The shape matters because prefix caching
  serves the shared part: these files measure that effect, which random prompts of
  the same lengths would hide.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.rules import BOS_TOKEN_ID
from qsl.mmlu import LETTERS, SPLIT_SIZES, SUBJECT_GROUPS
from qsl.prepare import write_dataset

MEDIAN_TOKENS, SIGMA, MIN_TOKENS, MAX_TOKENS = 850, 0.45, 100, 2540
# MMLU: a question with its four choices, median tokens (scaled per subject), and the
# chat-template tokens around the five shots and around each shot's answer.
MMLU_QUESTION_MEDIAN, MMLU_TEMPLATE_TOKENS, MMLU_SHOT_EXTRA_TOKENS, MMLU_SHOTS = 75, 40, 12, 5
SHAPES = ("cnn", "mmlu")
DEFAULT_COUNTS = {"cnn": 2000, "mmlu": SPLIT_SIZES["test"]}


def _tokens(rng: np.random.Generator, n: int) -> list[int]:
    return rng.integers(0, BOS_TOKEN_ID, size=int(n)).tolist()


def synthetic_records(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(MEDIAN_TOKENS), SIGMA, count), MIN_TOKENS, MAX_TOKENS)
    return [{"input": f"synthetic prompt {i}", "tok_input": [BOS_TOKEN_ID, *_tokens(rng, n - 1)],
             "output": "synthetic", "instruction": "synthetic"}
            for i, n in enumerate(lengths.astype(int))]


def synthetic_mmlu_records(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    subjects = sorted(SUBJECT_GROUPS)
    scale = np.clip(rng.lognormal(0.0, 0.55, len(subjects)), 0.4, 5.0)
    weights = rng.lognormal(0.0, 0.8, len(subjects))
    counts = np.floor(weights / weights.sum() * count).astype(int)
    counts[: count - counts.sum()] += 1  # the remainder, one each
    records = []
    for subject, f, n in zip(subjects, scale, counts):
        shot_tokens = MMLU_SHOTS * (MMLU_QUESTION_MEDIAN * f + MMLU_SHOT_EXTRA_TOKENS)
        prefix = [BOS_TOKEN_ID, *_tokens(rng, MMLU_TEMPLATE_TOKENS + shot_tokens)]
        questions = np.clip(rng.lognormal(np.log(MMLU_QUESTION_MEDIAN * f), 0.45, n), 20, 1500)
        records += [{"input": f"synthetic {subject} question {i}",
                     "tok_input": prefix + _tokens(rng, q), "output": LETTERS[rng.integers(4)],
                     "subject": subject} for i, q in enumerate(questions)]
    return records


def write_synthetic_dataset(path: Path, shape: str = "cnn", count: int | None = None,
                            seed: int = 0) -> Path:
    make = synthetic_mmlu_records if shape == "mmlu" else synthetic_records
    write_dataset(path, make(count or DEFAULT_COUNTS[shape], seed), indent=None)
    return path
