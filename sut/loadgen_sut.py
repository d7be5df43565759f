"""The LoadGen SUT over any Backend, for every scenario.

LoadGen's issue callback only schedules work on the engine loop and returns; each
sample becomes one task there. Offline hands every issued sample to the engine
at once (optionally longest prompt first) and completes each as it ends.
Streaming scenarios (Server, Interactive, SingleStream) also report
FirstTokenComplete with the first chunk's tokens the moment they exist, then
QuerySamplesComplete with all tokens (which start with those first tokens, as
TEST06 checks).
A sample that fails fails the run: it is recorded, every other request is
cancelled (aborted in the engine), `stopped` is set, and each outstanding or later
query is completed empty only so LoadGen can finish and write its logs; the harness
then reports the run as FAILED and exits non-zero. Once stopped, queries are answered
on LoadGen's own thread, so they still are after the engine loop has closed.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from qsl.records import Sample
from sut import responses
from sut.backend import Backend
from sut.event_loop import EventLoopThread
from sut.progress import RunProgress


@dataclass(frozen=True)
class SampleError:
    """Why one sample failed."""

    qsl_index: int | None  # None: the run was stopped, not a sample
    query_id: int | None
    error: str


class LoadgenSut:
    """A LoadGen SUT over a Backend; `streaming` reports first tokens and token latencies."""

    def __init__(self, backend: Backend, loop: EventLoopThread, samples: Sequence[Sample],
                 progress: RunProgress, streaming: bool, longest_first: bool = False) -> None:
        self._backend = backend
        self._streaming = streaming
        self._longest_first = longest_first
        self._loop = loop
        self._samples = samples
        self._progress = progress
        self._tasks: dict[int, asyncio.Task] = {}
        self.errors: list[SampleError] = []
        self.stopped = threading.Event()  # set at the first failure or stop

    # LoadGen callbacks (LoadGen's threads): schedule and return.
    def issue_queries(self, query_samples) -> None:
        batch = [(q.id, q.index) for q in query_samples]
        if self.stopped.is_set():
            for query_id, _ in batch:
                self._give_up(query_id)
            return
        self._loop.call_soon(self._start, batch, time.monotonic_ns())

    def flush_queries(self) -> None:
        pass

    def abort(self, reason: str) -> None:
        """Stop the run from any thread (e.g. Ctrl-C): outstanding queries end empty, run FAILED;
        queries LoadGen issues from now on are answered at once on its thread."""
        self.stopped.set()
        self._loop.call_soon(self._fail, None, None, reason)

    # Engine loop.
    def _start(self, batch: list[tuple[int, int]], issued_ns: int) -> None:
        self._progress.mark_issued(len(batch))
        if self._longest_first:
            batch.sort(key=lambda item: -self._samples[item[1]].prompt_length)
        for query_id, index in batch:
            if self.errors:
                self._give_up(query_id)
                continue
            task = asyncio.ensure_future(self._serve(query_id, self._samples[index], issued_ns))
            task.add_done_callback(functools.partial(self._finished, query_id))
            self._tasks[query_id] = task

    async def _serve(self, query_id: int, sample: Sample, issued_ns: int) -> None:
        tokens: list[int] = []
        first_at = 0
        finished = False
        try:
            async for chunk in self._backend.generate(str(query_id), sample, self._streaming):
                if self._streaming and not first_at and chunk.token_ids:
                    first_at = time.monotonic_ns()
                    responses.first_token(query_id, chunk.token_ids)
                tokens.extend(chunk.token_ids)
                finished = chunk.finished
            if not finished:
                raise RuntimeError("the engine's stream ended before the request finished")
            if not tokens:
                raise RuntimeError("the engine returned no tokens")
        except Exception as e:  # any engine error fails this sample, and so the run
            self._fail(query_id, sample.index, f"{type(e).__name__}: {e}")
            return
        # Counted before LoadGen hears of it: LoadGen may end the run at this completion.
        self._progress.record(sample.index, len(tokens), issued_ns, first_at, time.monotonic_ns())
        responses.complete(query_id, tokens)

    def _finished(self, query_id: int, task: asyncio.Task) -> None:
        self._tasks.pop(query_id, None)
        if task.cancelled():
            if not self.errors:  # cancelled from outside: still never a silent empty answer
                self.errors.append(SampleError(None, query_id, "request cancelled"))
                self.stopped.set()
            self._give_up(query_id)

    def _fail(self, query_id: int | None, index: int | None, error: str) -> None:
        self.errors.append(SampleError(index, query_id, error))
        self.stopped.set()
        if index is not None:
            self._progress.failed += 1
        if query_id is not None:
            self._tasks.pop(query_id, None)  # its own task ends normally: not cancelled twice
            self._give_up(query_id)
        for task in list(self._tasks.values()):
            task.cancel()

    def _give_up(self, query_id: int) -> None:
        """Complete a query with nothing, only to let LoadGen end after a failure."""
        responses.complete(query_id, ())
