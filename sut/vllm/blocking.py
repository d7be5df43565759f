"""vLLM's synchronous `LLM` with the harness's Offline engine flags and sampling: the raw
engine and the public reference's style, for benchmarks."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Sequence

from sut.backend import GenerationParams
from sut.vllm.backend import sampling_params
from sut.vllm.engine_args import engine_env, parse_engine_args, platform_argv
from sut.vllm.flags import EngineJob


class BlockingLLM:
    """One engine (no data parallelism added), the harness's Offline flags for `task` before
    the user's."""

    def __init__(self, model: str, user_args: Sequence[str], task: str,
                 params: GenerationParams) -> None:
        from vllm import LLM, EngineArgs

        os.environ.update(engine_env())
        args = parse_engine_args(platform_argv(model, user_args, EngineJob(task, "Offline"),
                                               fill_gpus=False))
        self._llm = LLM(**{f.name: getattr(args, f.name) for f in dataclasses.fields(EngineArgs)})
        self._sampling = sampling_params(params)

    def generate(self, prompts: Sequence[Sequence[int]]) -> list[list[int]]:
        """One blocking call over all `prompts`; the output token ids of each."""
        from vllm import TokensPrompt

        outputs = self._llm.generate([TokensPrompt(prompt_token_ids=list(p)) for p in prompts],
                                     self._sampling, use_tqdm=False)
        return [list(o.outputs[0].token_ids) for o in outputs]

    def close(self) -> None:
        self._llm.llm_engine.engine_core.shutdown()


@dataclasses.dataclass(frozen=True)
class Throughput:
    """One blocking generate call over every prompt (engine start excluded)."""

    prompts: int
    tokens: int
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


def raw_throughput(model: str, prompts: Sequence[Sequence[int]], user_args: Sequence[str],
                   task: str, params: GenerationParams) -> Throughput:
    """vLLM's own LLM.generate over all `prompts` in one call, with the backend's engine
    flags and sampling: the baseline the harness is benchmarked against."""
    llm = BlockingLLM(model, user_args, task, params)
    try:
        t0 = time.perf_counter()
        outputs = llm.generate(prompts)
        seconds = time.perf_counter() - t0
    finally:
        llm.close()
    return Throughput(len(prompts), sum(map(len, outputs)), seconds)
