"""Fake backends, named as such: for tests and for measuring the harness without an engine.

- OracleBackend answers each sample with its reference summary's token ids (the
  accuracy chain id -> sample -> response -> decode must then score ROUGE ~ 100).
- LatencyBackend streams a fixed answer shaped by a LatencyShape: time to first
  token, inter-token latency, answer length, and optionally a number of slots
  (requests beyond them queue), which gives it a known capacity.
- FailingBackend fails chosen samples (fault injection for error handling).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import AsyncIterator, Mapping, Sequence

from qsl.records import Sample
from sut.backend import BackendBase, GenerationParams, TokenChunk


async def _stream(tokens: Sequence[int], stream: bool, ttft_s: float, itl_s: float
                  ) -> AsyncIterator[TokenChunk]:
    if ttft_s:
        await asyncio.sleep(ttft_s)
    if not stream:
        if itl_s:
            await asyncio.sleep(itl_s * (len(tokens) - 1))
        yield TokenChunk(tuple(tokens), True)
        return
    for i, tok in enumerate(tokens):
        if i and itl_s:
            await asyncio.sleep(itl_s)
        yield TokenChunk((tok,), i == len(tokens) - 1)


class _FakeLifecycle(BackendBase):
    async def start(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class OracleBackend(_FakeLifecycle):
    """Returns each sample's reference token ids (plus an end token, as a model would)."""

    name = "oracle"

    def __init__(self, answers: Mapping[int, Sequence[int]], params: GenerationParams) -> None:
        self._answers = answers
        self._end = params.stop_token_ids[-1]

    def generate(self, request_id: str, sample: Sample, stream: bool) -> AsyncIterator[TokenChunk]:
        return _stream([*self._answers[sample.index], self._end], stream, 0.0, 0.0)


@dataclass(frozen=True)
class LatencyShape:
    """How LatencyBackend answers: TTFT, inter-token latency, answer length, and slots
    (0: unlimited; else at most that many requests are served at once, the rest queue)."""

    ttft_s: float = 0.0
    itl_s: float = 0.0
    output_tokens: int = 0  # 0: the maximum (128)
    slots: int = 0


class LatencyBackend(_FakeLifecycle):
    """Streams a fixed answer per sample, shaped by a LatencyShape."""

    name = "latency"

    def __init__(self, params: GenerationParams, shape: LatencyShape = LatencyShape()) -> None:
        n = shape.output_tokens or params.max_new_tokens
        self._tokens = [1000 + i % 1000 for i in range(n)]
        self._shape = shape
        self._slots = asyncio.Semaphore(shape.slots) if shape.slots else None

    async def generate(self, request_id: str, sample: Sample, stream: bool
                       ) -> AsyncIterator[TokenChunk]:
        async with self._slots or contextlib.nullcontext():
            async for chunk in _stream(self._tokens, stream, self._shape.ttft_s, self._shape.itl_s):
                yield chunk


class SampleFailure(RuntimeError):
    """The injected fault of FailingBackend."""


class FailingBackend(LatencyBackend):
    """Like LatencyBackend, but raises for the QSL indices in `fail_indices`."""

    name = "failing"

    def __init__(self, params: GenerationParams, fail_indices: frozenset[int],
                 shape: LatencyShape = LatencyShape()) -> None:
        super().__init__(params, shape)
        self._fail = fail_indices

    async def generate(self, request_id: str, sample: Sample, stream: bool
                       ) -> AsyncIterator[TokenChunk]:
        if sample.index in self._fail:
            await asyncio.sleep(0.01)
            raise SampleFailure(f"injected failure for sample {sample.index}")
        async for chunk in super().generate(request_id, sample, stream):
            yield chunk
