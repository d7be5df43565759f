"""MLPerf-shaped synthetic prompt sets, for engine benchmarks where the real dataset is absent.

Prompt lengths follow the CNN-DailyMail prompt distribution seen with the Llama-3
tokenizer (lognormal, median about 850 tokens, clipped to 100..2540; mean about
940); token ids are random ordinary (non-special) ids after BOS. References are
empty of meaning: use these files for throughput, never for accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.rules import BOS_TOKEN_ID
from qsl.prepare import write_dataset

MEDIAN_TOKENS, SIGMA, MIN_TOKENS, MAX_TOKENS = 850, 0.45, 100, 2540


def synthetic_records(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(MEDIAN_TOKENS), SIGMA, count), MIN_TOKENS, MAX_TOKENS)
    records = []
    for i, n in enumerate(lengths.astype(int)):
        body = rng.integers(0, BOS_TOKEN_ID, size=n - 1).tolist()
        records.append({"input": f"synthetic prompt {i}", "tok_input": [BOS_TOKEN_ID, *body],
                        "output": "synthetic", "instruction": "synthetic"})
    return records


def write_synthetic_dataset(path: Path, count: int, seed: int = 0) -> Path:
    write_dataset(path, synthetic_records(count, seed))
    return path
