"""Several backends behind one: data-parallel replicas, in-process engines or `vllm serve`
endpoints. Each request goes to the replica with the least outstanding work (prompt
tokens + output budget of its requests in flight), so a burst (Offline) is balanced by
tokens, not by sample count. With `window`, a replica holds at most that many requests;
the rest wait and go to whichever replica frees first, so faster replicas take more.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

from qsl.records import Sample
from sut.backend import (
    Backend,
    BackendBase,
    EngineInfo,
    GenerationParams,
    ReplicaStats,
    TokenChunk,
)


@dataclass
class ReplicaCounts:
    """What one replica served since counting started (see ReplicaTally)."""

    samples: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    errors: int = 0
    started_ns: int = field(default_factory=time.monotonic_ns)
    last_ns: int = 0

    def stats(self, name: str) -> ReplicaStats:
        seconds = max(0.0, (self.last_ns - self.started_ns) / 1e9)
        return ReplicaStats(name, self.samples, self.prompt_tokens, self.output_tokens,
                            self.errors, seconds)


class ReplicaTally:
    """Counts per replica since the last take; `take` returns them and starts afresh.
    Writers index `counts` at each update (a take replaces the list)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.counts = [ReplicaCounts() for _ in self.names]

    def take(self) -> tuple[ReplicaStats, ...]:
        stats = tuple(c.stats(name) for name, c in zip(self.names, self.counts))
        self.counts = [ReplicaCounts() for _ in self.names]
        return stats


@dataclass
class ReplicaLoad:
    """One replica's dispatch state: requests and work in flight."""

    in_flight: int = 0
    outstanding_work: int = 0


class ReplicaSet(BackendBase):
    """Dispatches over `replicas`; start/health/shutdown apply to all of them."""

    name = "replicas"

    def __init__(self, replicas: Sequence[Backend], params: GenerationParams,
                 window: int | None = None) -> None:
        if not replicas:
            raise ValueError("a ReplicaSet needs at least one replica")
        self._replicas = list(replicas)
        self._params = params
        self._window = window
        self.load = [ReplicaLoad() for _ in self._replicas]
        self.tally = ReplicaTally([r.name for r in self._replicas])
        self._freed: asyncio.Condition | None = None

    async def start(self) -> None:
        """Start every replica at once (servers load in parallel); if any fails, shut them
        all down and raise the first failure, in replica order."""
        self._freed = asyncio.Condition()
        results = await asyncio.gather(*(r.start() for r in self._replicas),
                                       return_exceptions=True)
        failures = [e for e in results if isinstance(e, BaseException)]
        if failures:
            await asyncio.gather(*(r.shutdown() for r in self._replicas), return_exceptions=True)
            raise failures[0]

    async def health_check(self) -> None:
        await asyncio.gather(*(r.health_check() for r in self._replicas))

    @property
    def max_model_len(self) -> int | None:
        limits = [r.max_model_len for r in self._replicas if r.max_model_len is not None]
        return min(limits) if limits else None

    def engine_info(self) -> tuple[EngineInfo, ...]:
        return tuple(info for r in self._replicas for info in r.engine_info())

    async def _pick(self, work: int) -> int:
        async with self._freed:
            while True:
                open_ = [i for i, s in enumerate(self.load)
                         if self._window is None or s.in_flight < self._window]
                if open_:
                    i = min(open_, key=lambda k: self.load[k].outstanding_work)
                    self.load[i].in_flight += 1
                    self.load[i].outstanding_work += work
                    return i
                await self._freed.wait()

    async def generate(self, request_id: str, sample: Sample, stream: bool
                       ) -> AsyncIterator[TokenChunk]:
        work = sample.prompt_length + self._params.max_new_tokens
        i = await self._pick(work)
        tally = self.tally
        try:
            async for chunk in self._replicas[i].generate(request_id, sample, stream):
                tally.counts[i].output_tokens += len(chunk.token_ids)
                yield chunk
            tally.counts[i].samples += 1
            tally.counts[i].prompt_tokens += sample.prompt_length
        except Exception:
            tally.counts[i].errors += 1
            raise
        finally:
            tally.counts[i].last_ns = time.monotonic_ns()
            self.load[i].in_flight -= 1
            self.load[i].outstanding_work -= work
            async with self._freed:
                self._freed.notify()

    async def shutdown(self) -> None:
        await asyncio.gather(*(r.shutdown() for r in self._replicas), return_exceptions=True)

    def take_replica_stats(self) -> tuple[ReplicaStats, ...]:
        """Per replica, what it served since the last call (or the start); a request in
        flight across a call counts as a sample in the period where it finishes."""
        return self.tally.take()
