"""The vLLM flags the harness puts before the user's for a task and a scenario (the user's
flags come later and win). Each entry names the measurement behind it (docs/PERFORMANCE.md).

The backend adds its own, task-independent defaults on top (sut.vllm_backend: token ids
in and out, no prefix caching, the CPU settings, every visible GPU).
"""

from __future__ import annotations

TASK_VLLM_DEFAULTS: dict[str, tuple[str, ...]] = {
    # Each MMLU question runs once and a subject's prompts share their five worked
    # examples: the cache saves most of the prefill (full set in 55 s on an H200).
    "mmlu": ("--enable-prefix-caching",),
}

SCENARIO_VLLM_DEFAULTS: dict[str, tuple[str, ...]] = {
    # TPOT p99 <= 100 ms: `vllm serve`'s 8,192-token prefill chunks gave 145 ms at 54 QPS
    # (fp8, H200); 4,096 gave 74 ms and 51 QPS VALID, 2,048 starved prefill (TTFT 4 s).
    "Server": ("--max-num-batched-tokens", "4096"),
    # TPOT p99 <= 30 ms: every engine step that carries a prefill chunk delays every
    # stream's next token; 2,048 gave 31.5 ms at 25.5 QPS (bf16), 1,024 gave 16.4 ms
    # at 33.75 QPS VALID (fp8).
    "Interactive": ("--max-num-batched-tokens", "1024"),
}


def harness_vllm_defaults(task: str, scenario: str) -> tuple[str, ...]:
    """The harness's engine flags for this task and scenario, to go before the user's."""
    return (*TASK_VLLM_DEFAULTS.get(task, ()), *SCENARIO_VLLM_DEFAULTS.get(scenario, ()))
