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
# The MLPerf reference's preprocessing (language/llama3.1-8b/download_cnndm.py) sets the
# tokenizer's model_max_length to 8000; MLPerf states no other input limit for llama3.1-8b.
MLPERF_MAX_PROMPT_TOKENS = 8000

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


@dataclass(frozen=True)
class RougeTargetSet:
    """The ROUGE targets of one MLPerf dataset; they hold only for exactly that many samples."""

    name: str
    sample_count: int
    targets: tuple[AccuracyTarget, ...]


def _rouge_targets(r1: float, r2: float, rl: float, rlsum: float, gen_len: int) -> tuple:
    return (
        AccuracyTarget("rouge1", r1, 0.99), AccuracyTarget("rouge2", r2, 0.99),
        AccuracyTarget("rougeL", rl, 0.99), AccuracyTarget("rougeLsum", rlsum, 0.99),
        AccuracyTarget("gen_len", gen_len, 0.90, 1.10),
    )


# 99 % of the FP16 reference; gen_len within 90-110 %.
ROUGE_TARGET_SETS = (
    RougeTargetSet("datacenter", DATACENTER_SAMPLE_COUNT,
                   _rouge_targets(38.7792, 15.9075, 24.4957, 35.793, 8167644)),
    RougeTargetSet("edge", EDGE_SAMPLE_COUNT,
                   _rouge_targets(39.06, 16.1147, 24.6375, 36.124, 3051113)),
)


def rouge_targets_for(sample_count: int) -> RougeTargetSet | None:
    """The target set for a scored sample count, or None when no MLPerf set has that size."""
    return next((t for t in ROUGE_TARGET_SETS if t.sample_count == sample_count), None)


@dataclass(frozen=True)
class ScenarioSpec:
    """How a harness scenario maps onto LoadGen: its scenario, model name, streaming."""

    name: str  # the results folder name
    loadgen_scenario: str
    loadgen_model: str
    streaming: bool  # first tokens reported (token latencies measured)


SCENARIO_SPECS = {
    "Offline": ScenarioSpec("Offline", "Offline", LOADGEN_MODEL_DATACENTER, False),
    "Server": ScenarioSpec("Server", "Server", LOADGEN_MODEL_DATACENTER, True),
    "Interactive": ScenarioSpec("Interactive", "Server", LOADGEN_MODEL_INTERACTIVE, True),
    "SingleStream": ScenarioSpec("SingleStream", "SingleStream", LOADGEN_MODEL_EDGE, True),
}


# Submission (checker round v6.1).
SUBMISSION_ROUND = "v6.1"
BENCHMARK_NAME = "llama3.1-8b"
ROUND_SEEDS = {
    "qsl_rng_seed": 2085463073848966840,
    "sample_index_rng_seed": 2747215439041700203,
    "schedule_rng_seed": 16159082839903944936,
}
MIN_DURATION_MS = 600_000
# Scenario folder -> (TTFT p99, TPOT p99) limits in ms; the checker needs p99 strictly below.
TOKEN_LATENCY_LIMITS_MS = {"Server": (2000, 100), "Interactive": (500, 30)}
