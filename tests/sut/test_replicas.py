"""The replica dispatcher with fakes of unequal speed (no LoadGen: the dispatch itself)."""

import asyncio

import numpy as np

from qsl.records import Sample
from sut.backend import GenerationParams
from sut.fake_backends import LatencyBackend, LatencyShape
from sut.replicas import ReplicaSet

PARAMS = GenerationParams()


def _samples(n):
    rng = np.random.default_rng(0)
    return [Sample(i, np.zeros(int(rng.integers(50, 2000)), np.int32), "") for i in range(n)]


def _run(replicas, samples, window):
    rs = ReplicaSet(replicas, PARAMS, window=window)

    async def go():
        await rs.start()

        async def one(s):
            return [t for c in [c async for c in rs.generate(str(s.index), s, True)]
                    for t in c.token_ids]

        t0 = asyncio.get_running_loop().time()
        outs = await asyncio.gather(*(one(s) for s in samples))
        return outs, asyncio.get_running_loop().time() - t0

    outs, seconds = asyncio.run(go())
    return rs.stats, outs, seconds


def test_burst_is_balanced_by_prompt_tokens_not_sample_count():
    fast = [LatencyBackend(PARAMS, LatencyShape(ttft_s=0.01, output_tokens=4)) for _ in range(2)]
    samples = _samples(200)
    stats, outs, _ = _run(fast, samples, window=None)
    assert all(len(o) == 4 for o in outs)
    longest = max(s.prompt_length for s in samples)
    assert abs(stats[0].prompt_tokens - stats[1].prompt_tokens) <= longest
    assert stats[0].samples + stats[1].samples == 200


def test_faster_replica_takes_more_with_a_window():
    fast = LatencyBackend(PARAMS, LatencyShape(itl_s=0.001, output_tokens=8, slots=4))
    slow = LatencyBackend(PARAMS, LatencyShape(itl_s=0.004, output_tokens=8, slots=4))
    stats, outs, seconds = _run([fast, slow], _samples(96), window=4)
    assert all(len(o) == 8 for o in outs)
    assert stats[0].samples > 2 * stats[1].samples > 0  # about 4:1 by speed
    even_split_s = 48 / 4 * 7 * 0.004  # what the slow replica alone would need for half
    assert seconds < 0.8 * even_split_s
    assert all(s.in_flight == 0 and s.outstanding_work == 0 for s in stats)
