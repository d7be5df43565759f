"""The Backend protocol every engine (vLLM, fakes, later remote servers) implements.

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

    def settings(self) -> str:
        """The engine's effective settings in one line, once started ('' when none apply)."""

    def take_replica_report(self) -> str | None:
        """Per replica/endpoint lines for the requests since the last call, then counting
        starts afresh; None for a single engine."""

    @property
    def max_model_len(self) -> int | None:
        """The engine's context limit (prompt + output), or None when it has none."""
