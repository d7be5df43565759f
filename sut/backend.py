"""The Backend protocol every engine (vLLM, fakes, remote servers) implements, and the
records it returns (BackendBase gives the optional members' defaults).

A backend turns one Sample into a stream of output token chunks. The SUT
adapters own LoadGen; backends never see it. All coroutines run on the one
engine event loop (sut.event_loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol

from harness.rules import MAX_NEW_TOKENS, MIN_NEW_TOKENS, STOP_TOKEN_IDS
from qsl.records import Sample


@dataclass(frozen=True)
class GenerationParams:
    """How every sample is generated (MLPerf fixes these: greedy, 1..128 tokens, end tokens)."""

    max_new_tokens: int = MAX_NEW_TOKENS
    min_new_tokens: int = MIN_NEW_TOKENS
    stop_token_ids: tuple[int, ...] = STOP_TOKEN_IDS


@dataclass(frozen=True)
class TokenChunk:
    """New output tokens for one request; `finished` on the last chunk."""

    token_ids: tuple[int, ...]
    finished: bool


@dataclass(frozen=True)
class EngineInfo:
    """What one started engine runs with, as it reports it (None: the backend has no such
    setting or does not report it). A server reached over HTTP gives its endpoint, model
    and context limit only."""

    engine: str  # "vLLM"
    version: str | None = None
    defaults: str | None = None  # whose defaults fill the gaps: "serving" or "batch"
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    dtype: str | None = None
    quantization: str | None = None  # None: not quantized
    kv_cache_dtype: str | None = None
    prefix_caching: bool | None = None
    tensor_parallel_size: int | None = None
    data_parallel_size: int | None = None
    endpoint: str | None = None  # the URL of a server
    model: str | None = None
    max_model_len: int | None = None


@dataclass(frozen=True)
class ReplicaStats:
    """What one replica (a data-parallel engine or an endpoint) served over a period."""

    name: str
    samples: int
    prompt_tokens: int
    output_tokens: int
    errors: int
    seconds: float  # from the start of the period to its last request's end (0: none)

    @property
    def tokens_per_s(self) -> float:
        return self.output_tokens / self.seconds if self.seconds > 0 else 0.0


class Backend(Protocol):
    """start -> health_check -> generate (many, concurrently) -> shutdown."""

    name: str

    async def start(self) -> None:
        """Load the engine; raise SetupError with what to do when it cannot start."""

    async def health_check(self) -> None:
        """Raise SetupError unless the engine can serve now."""

    def generate(self, request_id: str, sample: Sample, stream: bool) -> AsyncIterator[TokenChunk]:
        """Generate for one sample. With stream=False one final chunk may carry everything.
        Cancelling the iteration aborts the request in the engine."""

    async def shutdown(self) -> None:
        """Release the engine (processes, memory). Safe to call twice."""

    def engine_info(self) -> tuple[EngineInfo, ...]:
        """Each started engine's settings (one per replica); () when none apply."""

    def take_replica_stats(self) -> tuple[ReplicaStats, ...] | None:
        """Per replica/endpoint, the requests since the last call, then counting starts
        afresh; None for a single engine."""

    @property
    def max_model_len(self) -> int | None:
        """The engine's context limit (prompt + output), or None when it has none."""


class BackendBase:
    """Defaults for Backend's optional members (no health check, no settings to report, one
    engine, no context limit): a subclass sets `name` and implements start, generate and
    shutdown."""

    async def health_check(self) -> None:
        pass

    def engine_info(self) -> tuple[EngineInfo, ...]:
        return ()

    def take_replica_stats(self) -> tuple[ReplicaStats, ...] | None:
        return None

    @property
    def max_model_len(self) -> int | None:
        return None
