"""The vLLM backend: vLLM's AsyncLLM on the shared event loop. The only module importing vllm.

Engine options are vLLM's own command-line flags, parsed by vLLM's own parser,
so every option of the installed vLLM (tensor parallel size, dtype,
quantization, max_num_seqs, kv-cache dtype, ...) passes through unchanged and
is validated with vLLM's own messages. The harness only puts its defaults in
front; flags given later win.
"""

from __future__ import annotations

import difflib
import os
import sys
import time
from typing import AsyncIterator, NoReturn, Sequence

from harness.errors import ConfigError, SetupError
from harness.rules import SCENARIO_SPECS
from qsl.records import Sample
from sut.backend import GenerationParams, TokenChunk
from sut.replicas import ReplicaTally
from sut.vllm.flags import CPU_KVCACHE_GIB_DEFAULT, EngineJob, harness_flags


def engine_argv(model: str, user_args: Sequence[str], job: EngineJob, on_cpu: bool) -> list[str]:
    """The vLLM command line: the model, the harness's flags for this job, then the user's
    (which win)."""
    return ["--model", model, *harness_flags(job, on_cpu), *user_args]


def parse_engine_args(argv: Sequence[str]):
    """vLLM's AsyncEngineArgs from a vLLM-style command line; ConfigError when vLLM rejects it."""
    from vllm import AsyncEngineArgs
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm engine arguments")
    AsyncEngineArgs.add_cli_args(parser)

    def reject(message: str) -> NoReturn:
        raise ConfigError(f"vLLM rejected the engine arguments: {message}. See `vllm serve "
                          f"--help` for the flags of the installed vLLM ({vllm_version()})")

    parser.error = reject  # raise instead of printing vLLM's whole usage and exiting
    namespace, unknown = parser.parse_known_args(list(argv))
    if unknown:
        flags = [a.split("=")[0] for a in unknown if a.startswith("-")] or unknown
        hints = [f"{f} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(
            f, parser._option_string_actions, n=1)) else f for f in flags]
        reject(f"unknown flag(s) {', '.join(hints)}")
    return AsyncEngineArgs.from_cli_args(namespace)


def flag_value(args: Sequence[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of `names` in a vLLM-style command line ("--x N" or "--x=N")."""
    value = None
    for i, arg in enumerate(args):
        name, eq, inline = arg.partition("=")
        if name in names:
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
    return value


def fill_gpus_args(user_args: Sequence[str], visible_gpus: int) -> tuple[str, ...]:
    """`--data-parallel-size` putting one engine replica on every visible GPU (or on every
    tensor x pipeline parallel group of them), unless the user set data parallelism."""
    if any(a.partition("=")[0].startswith("--data-parallel") or a == "-dp" for a in user_args):
        return ()
    try:
        per_replica = (int(flag_value(user_args, ("--tensor-parallel-size", "-tp")) or 1)
                       * int(flag_value(user_args, ("--pipeline-parallel-size", "-pp")) or 1))
    except ValueError:
        return ()  # vLLM's own parser reports the bad value
    replicas = visible_gpus // max(per_replica, 1)
    return ("--data-parallel-size", str(replicas)) if replicas > 1 else ()


def _platform_argv(model: str, user_args: Sequence[str], job: EngineJob,
                   fill_gpus: bool) -> list[str]:
    """engine_argv for this platform (CPU-only vLLM or GPUs); with `fill_gpus`, data
    parallelism over every visible GPU unless the user chose otherwise."""
    from vllm.platforms import current_platform

    on_cpu = current_platform.is_cpu()
    if on_cpu:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KVCACHE_GIB_DEFAULT)
    if fill_gpus and current_platform.is_cuda_alike():
        user_args = [*fill_gpus_args(user_args, current_platform.device_count()), *user_args]
    return engine_argv(model, user_args, job, on_cpu)


def platform_engine_args(model: str, user_args: Sequence[str], job: EngineJob,
                         fill_gpus: bool = True):
    """AsyncEngineArgs for this platform and job, from the harness's flags and the user's."""
    return parse_engine_args(_platform_argv(model, user_args, job, fill_gpus))


def serve_command(model: str, user_args: Sequence[str], job: EngineJob, host: str,
                  port: int) -> list[str]:
    """The command starting vLLM's OpenAI-compatible server with the same engine flags the
    in-process backend would use (for a like-for-like remote endpoint on this machine).
    Run it with this process's environment (on CPU it carries the KV cache size)."""
    return [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            *_platform_argv(model, user_args, job, fill_gpus=True), "--host", host, "--port",
            str(port)]


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


class VllmBackend:
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

        args = platform_engine_args(self._model, self._user_args, self._job)
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

    def take_replica_report(self) -> str | None:
        """Per data-parallel engine (from vLLM's own statistics); None for one engine."""
        return None if self._tally is None else self._tally.take_report()

    def settings(self) -> str:
        if self._engine is None:
            return ""
        c = self._engine.vllm_config
        sched, cache, par = c.scheduler_config, c.cache_config, c.parallel_config
        return (f"vLLM {vllm_version()} ({'serving' if self._serving else 'batch'} defaults): "
                f"max_num_seqs {sched.max_num_seqs}, max_num_batched_tokens "
                f"{sched.max_num_batched_tokens}, dtype {c.model_config.dtype}, quantization "
                f"{c.model_config.quantization or 'none'}, kv cache {cache.cache_dtype}, prefix "
                f"caching {'on' if cache.enable_prefix_caching else 'off'}, tp "
                f"{par.tensor_parallel_size} x dp {par.data_parallel_size}")

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


def vllm_version() -> str:
    import vllm

    return vllm.__version__


class BlockingLLM:
    """vLLM's synchronous `LLM` (one engine) with the harness's Offline engine flags for the
    task and its sampling: the raw engine and the public reference's style, for benchmarks."""

    def __init__(self, model: str, user_args: Sequence[str], task: str,
                 params: GenerationParams) -> None:
        import dataclasses

        from vllm import LLM, EngineArgs

        args = platform_engine_args(model, user_args, EngineJob(task, "Offline"), fill_gpus=False)
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


def raw_generate_throughput(model: str, dataset_file: str, user_args: Sequence[str],
                            task: str, params: GenerationParams) -> dict:
    """vLLM's own LLM.generate over every prompt of a dataset file in one call, with the
    backend's engine flags and sampling: the baseline the harness is benchmarked against."""
    from qsl.dataset import read_records

    prompts = [r["tok_input"] for r in read_records(dataset_file)]
    llm = BlockingLLM(model, user_args, task, params)
    try:
        t0 = time.perf_counter()
        outputs = llm.generate(prompts)
        seconds = time.perf_counter() - t0
    finally:
        llm.close()
    tokens = sum(map(len, outputs))
    return {"prompts": len(prompts), "tokens": tokens, "seconds": seconds,
            "tokens_per_s": tokens / seconds}
