"""LoadgenSut's Offline ordering, without LoadGen (its completion calls are stubbed)."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from qsl.records import Sample
from sut import responses
from sut.backend import TokenChunk
from sut.event_loop import EventLoopThread
from sut.loadgen_sut import LoadgenSut
from sut.progress import RunProgress


class RecordingBackend:
    """A fake: records the order samples reach the engine, answers one token."""

    name = "recording"

    def __init__(self) -> None:
        self.seen: list[int] = []

    async def generate(self, request_id, sample, stream):
        self.seen.append(sample.index)
        yield TokenChunk((7,), True)


@pytest.mark.parametrize("longest_first, order", [(False, [0, 1, 2, 3]), (True, [1, 3, 2, 0])])
def test_offline_order(monkeypatch, longest_first, order):
    completed, all_done = [], threading.Event()

    def complete(qid, tokens):
        completed.append(qid)
        if len(completed) == 4:
            all_done.set()

    monkeypatch.setattr(responses, "complete", complete)
    samples = [Sample(i, np.zeros(n, np.int32), "") for i, n in enumerate([5, 50, 20, 30])]
    backend, loop = RecordingBackend(), EventLoopThread()
    try:
        sut = LoadgenSut(backend, loop, samples, RunProgress(), streaming=False,
                         longest_first=longest_first)
        sut.issue_queries([SimpleNamespace(id=100 + i, index=i) for i in range(4)])
        assert all_done.wait(timeout=30), completed  # every query answered, however slowly
    finally:
        loop.close()
    assert backend.seen == order
    assert sorted(completed) == [100, 101, 102, 103] and not sut.errors
