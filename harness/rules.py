"""MLPerf Inference rules for llama3.1-8b, written once as constants.

Everything the benchmark fixes (not tunable by a submitter) lives here: the
LoadGen model names, generation limits, end tokens, the prompt, dataset sizes,
the token wire format and the accuracy targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# LoadGen model names (keys of the mlperf.conf built into LoadGen).
LOADGEN_MODEL_DATACENTER = "llama3_1-8b"
LOADGEN_MODEL_EDGE = "llama3_1-8b-edge"
LOADGEN_MODEL_INTERACTIVE = "llama3_1-8b-interactive"

# Generation: greedy, at most 128 new tokens, at least one.
MAX_NEW_TOKENS = 128
MIN_NEW_TOKENS = 1
# Llama-3.1-Instruct end tokens: <|end_of_text|>, <|eom_id|>, <|eot_id|>.
STOP_TOKEN_IDS = (128001, 128008, 128009)
BOS_TOKEN_ID = 128000
LLAMA3_VOCAB_SIZE = 128256

# The prompt the MLCommons preprocessing wraps each article in (no chat template).
PROMPT_TEMPLATE = (
    "Summarize the following news article in 128 tokens. Please output the summary only, "
    "without any other text.\n\nArticle:\n{input}\n\nSummary:"
)

# Dataset sizes: the full validation set (datacenter) and the edge subset.
DATACENTER_SAMPLE_COUNT = 13368
EDGE_SAMPLE_COUNT = 5000

# Output token ids travel through LoadGen as int32; the accuracy log holds them the same way.
TOKEN_DTYPE = np.dtype(np.int32)


@dataclass(frozen=True)
class AccuracyTarget:
    """One accuracy metric's reference value and the band a submission must reach."""

    metric: str
    reference: float
    low_ratio: float
    high_ratio: float | None = None  # None: no upper bound

    def passes(self, value: float) -> bool:
        if value < self.reference * self.low_ratio:
            return False
        return self.high_ratio is None or value <= self.reference * self.high_ratio

    def describe(self) -> str:
        low = self.reference * self.low_ratio
        if self.high_ratio is None:
            return f">= {low:,.4f} ({self.low_ratio:.0%} of {self.reference:,})"
        high = self.reference * self.high_ratio
        return f"{low:,.0f} .. {high:,.0f} ({self.low_ratio:.0%}-{self.high_ratio:.0%} of {self.reference:,})"


# Targets for the full 13,368-sample set (datacenter, 99% of the FP16 reference).
ROUGE_TARGETS = (
    AccuracyTarget("rouge1", 38.7792, 0.99),
    AccuracyTarget("rouge2", 15.9075, 0.99),
    AccuracyTarget("rougeL", 24.4957, 0.99),
    AccuracyTarget("rougeLsum", 35.793, 0.99),
    AccuracyTarget("gen_len", 8167644, 0.90, 1.10),
)
ROUGE_TARGET_SAMPLE_COUNT = DATACENTER_SAMPLE_COUNT
