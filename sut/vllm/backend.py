"""The vLLM backend: vLLM's AsyncLLM on the shared event loop, with the engine flags of
sut.vllm.engine_args."""

from __future__ import annotations

import os
import time
from typing import AsyncIterator, Sequence

from harness.errors import SetupError
from harness.rules import SCENARIO_SPECS
from qsl.records import Sample
from sut.backend import BackendBase, EngineInfo, GenerationParams, ReplicaStats, TokenChunk
from sut.replicas import ReplicaTally
from sut.vllm.engine_args import engine_env, parse_engine_args, platform_argv, vllm_version
from sut.vllm.flags import EngineJob


def sampling_params(params: GenerationParams, **extra):
    """vLLM SamplingParams for the harness's generation rules: greedy, the token limits, the
    end tokens, token ids only (no detokenizing)."""
    from vllm import SamplingParams

    return SamplingParams(temperature=0.0, max_tokens=params.max_new_tokens,
                          min_tokens=params.min_new_tokens,
                          stop_token_ids=list(params.stop_token_ids), detokenize=False, **extra)


def engine_counter(tally: ReplicaTally):
    """A vLLM per-engine stat logger class that counts each engine's finished requests and
    generated tokens into `tally` (index = the engine's data-parallel rank)."""
    from vllm.v1.metrics.loggers import StatLoggerBase

    class EngineCounter(StatLoggerBase):
        def __init__(self, vllm_config, engine_index: int = 0) -> None:
            self._index = engine_index

        def record(self, scheduler_stats, iteration_stats, mm_cache_stats=None,
                   engine_idx: int = 0) -> None:
            if iteration_stats is None:
                return
            counts = tally.counts[self._index]
            counts.output_tokens += iteration_stats.num_generation_tokens
            for request in iteration_stats.finished_requests:
                counts.samples += 1
                counts.prompt_tokens += request.num_prompt_tokens
                counts.errors += str(request.finish_reason) in ("abort", "error")
            counts.last_ns = time.monotonic_ns()

        def log_engine_initialized(self) -> None:
            pass

    return EngineCounter


class VllmBackend(BackendBase):
    """Serves samples with vLLM's AsyncLLM engine, in this process (data parallel over every
    visible GPU unless the flags say otherwise: `fill_gpus_args`).

    For what neither the harness's flags for the job nor the user's set, vLLM's own
    defaults for the kind of work apply: those of `vllm serve` for the streaming
    scenarios, those of vLLM's batch `LLM` class otherwise. AsyncLLM's own fallback (128
    sequences, 2,048 batched tokens) would starve a large GPU."""

    name = "vllm"

    def __init__(self, model: str, engine_args: Sequence[str], params: GenerationParams,
                 job: EngineJob) -> None:
        self._model = model
        self._user_args = tuple(engine_args)
        self._params = params
        self._job = job
        self._engine = None
        self._final_params = None
        self._stream_params = None
        self._tally: ReplicaTally | None = None  # per engine, with data parallelism

    @property
    def _serving(self) -> bool:
        """vLLM's serving defaults (streaming scenarios) rather than its batch ones."""
        return SCENARIO_SPECS[self._job.scenario].streaming

    async def start(self) -> None:
        from vllm.sampling_params import RequestOutputKind
        from vllm.usage.usage_lib import UsageContext
        from vllm.v1.engine.async_llm import AsyncLLM

        os.environ.update(engine_env())
        args = parse_engine_args(platform_argv(self._model, self._user_args, self._job,
                                               fill_gpus=True))
        usage = UsageContext.OPENAI_API_SERVER if self._serving else UsageContext.LLM_CLASS
        loggers = None
        if args.data_parallel_size > 1:
            self._tally = ReplicaTally([f"dp rank {i}" for i in range(args.data_parallel_size)])
            loggers = [engine_counter(self._tally)]
        try:
            self._engine = AsyncLLM.from_engine_args(args, usage_context=usage,
                                                     stat_loggers=loggers)
        except Exception as e:  # vLLM raises many types here; all mean "engine did not start"
            raise SetupError(
                f"the vLLM engine did not start for model {self._model}: {type(e).__name__}: {e}. "
                f"Check the model folder and the engine flags (vLLM's log above has details)"
            ) from e

        final, delta = RequestOutputKind.FINAL_ONLY, RequestOutputKind.DELTA
        self._final_params = sampling_params(self._params, output_kind=final)
        self._stream_params = sampling_params(self._params, output_kind=delta)

    async def health_check(self) -> None:
        if self._engine is None:
            raise SetupError("the vLLM engine is not started")
        try:
            await self._engine.check_health()
        except Exception as e:
            raise SetupError(f"the vLLM engine is unhealthy: {type(e).__name__}: {e}") from e

    @property
    def max_model_len(self) -> int | None:
        return None if self._engine is None else int(self._engine.model_config.max_model_len)

    def take_replica_stats(self) -> tuple[ReplicaStats, ...] | None:
        """Per data-parallel engine (from vLLM's own statistics); None for one engine."""
        return None if self._tally is None else self._tally.take()

    def engine_info(self) -> tuple[EngineInfo, ...]:
        if self._engine is None:
            return ()
        c = self._engine.vllm_config
        sched, cache, par = c.scheduler_config, c.cache_config, c.parallel_config
        return (EngineInfo(
            "vLLM", vllm_version(), "serving" if self._serving else "batch",
            max_num_seqs=sched.max_num_seqs, max_num_batched_tokens=sched.max_num_batched_tokens,
            dtype=str(c.model_config.dtype), quantization=c.model_config.quantization,
            kv_cache_dtype=str(cache.cache_dtype), prefix_caching=bool(cache.enable_prefix_caching),
            tensor_parallel_size=par.tensor_parallel_size,
            data_parallel_size=par.data_parallel_size, model=self._model,
            max_model_len=self.max_model_len),)

    async def generate(self, request_id: str, sample: Sample, stream: bool) -> AsyncIterator[TokenChunk]:
        from vllm import TokensPrompt

        prompt = TokensPrompt(prompt_token_ids=sample.token_ids.tolist())
        params = self._stream_params if stream else self._final_params
        # AsyncLLM aborts the request in the engine when this generator is cancelled.
        async for out in self._engine.generate(prompt, params, request_id):
            yield TokenChunk(tuple(out.outputs[0].token_ids), out.finished)

    async def shutdown(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.shutdown()
