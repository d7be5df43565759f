"""vLLM engine command lines: the harness's flags for the job, then the user's (which win),
parsed by vLLM's own parser, so every option of the installed vLLM passes through and is
validated with vLLM's own messages. Building a command line changes nothing: the
environment an engine needs (`engine_env`) is applied by whoever starts it."""

from __future__ import annotations

import difflib
import os
import sys
from typing import NoReturn, Sequence

from harness.errors import ConfigError
from sut.vllm.flags import CPU_KVCACHE_GIB_DEFAULT, EngineJob, harness_flags


def vllm_version() -> str:
    import vllm

    return vllm.__version__


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


def platform_argv(model: str, user_args: Sequence[str], job: EngineJob,
                  fill_gpus: bool) -> list[str]:
    """engine_argv for this platform (CPU-only vLLM or GPUs); with `fill_gpus`, data
    parallelism over every visible GPU unless the user chose otherwise."""
    from vllm.platforms import current_platform

    if fill_gpus and current_platform.is_cuda_alike():
        user_args = [*fill_gpus_args(user_args, current_platform.device_count()), *user_args]
    return engine_argv(model, user_args, job, current_platform.is_cpu())


def engine_env() -> dict[str, str]:
    """What an engine started on this platform adds to the environment, unless the user set
    it: on a CPU-only vLLM, a KV cache size that fits small machines."""
    from vllm.platforms import current_platform

    if current_platform.is_cpu() and "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
        return {"VLLM_CPU_KVCACHE_SPACE": CPU_KVCACHE_GIB_DEFAULT}
    return {}


def serve_command(model: str, user_args: Sequence[str], job: EngineJob, host: str,
                  port: int) -> list[str]:
    """The command starting vLLM's OpenAI-compatible server with the same engine flags the
    in-process backend would use (for a like-for-like remote endpoint on this machine).
    Start it with `engine_env()` added to this process's environment."""
    return [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            *platform_argv(model, user_args, job, fill_gpus=True), "--host", host, "--port",
            str(port)]
