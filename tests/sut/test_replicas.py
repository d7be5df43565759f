"""The replica dispatcher with fakes of unequal speed (no LoadGen: the dispatch itself)."""

import asyncio

import numpy as np

from harness.results.engine_report import render_replica_stats
from qsl.records import Sample
from sut.backend import GenerationParams, ReplicaStats
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
    return rs, outs, seconds


def test_burst_is_balanced_by_prompt_tokens_not_sample_count():
    fast = [LatencyBackend(PARAMS, LatencyShape(ttft_s=0.01, output_tokens=4)) for _ in range(2)]
    samples = _samples(200)
    rs, outs, _ = _run(fast, samples, window=None)
    assert all(len(o) == 4 for o in outs)
    longest = max(s.prompt_length for s in samples)
    counts = rs.tally.counts
    assert abs(counts[0].prompt_tokens - counts[1].prompt_tokens) <= longest
    assert counts[0].samples + counts[1].samples == 200


def test_faster_replica_takes_more_with_a_window():
    fast = LatencyBackend(PARAMS, LatencyShape(itl_s=0.001, output_tokens=8, slots=4))
    slow = LatencyBackend(PARAMS, LatencyShape(itl_s=0.008, output_tokens=8, slots=4))
    rs, outs, seconds = _run([fast, slow], _samples(96), window=4)
    assert all(len(o) == 8 for o in outs)
    counts = rs.tally.counts
    # about 8:1 by speed; the margins leave room for a loaded machine's late timers
    assert counts[0].samples > 3 * counts[1].samples > 0
    even_split_s = 48 / 4 * 7 * 0.008  # what the slow replica alone would need for half
    assert seconds < even_split_s
    assert all(s.in_flight == 0 and s.outstanding_work == 0 for s in rs.load)


def test_replica_report_counts_only_requests_since_the_last_one():
    shape = LatencyShape(ttft_s=0.001, output_tokens=5)
    replicas = [LatencyBackend(PARAMS, shape) for _ in range(2)]
    for r, name in zip(replicas, ("http://a", "http://b")):
        r.name = name
    rs = ReplicaSet(replicas, PARAMS)
    samples = _samples(10)

    async def serve(batch):
        async def one(s):
            async for _ in rs.generate(str(s.index), s, False):
                pass
        await asyncio.gather(*(one(s) for s in batch))

    async def go():
        await rs.start()
        await serve(samples[:4])  # a warm-up, say
        warmup = rs.take_replica_stats()
        await serve(samples)
        return warmup, rs.take_replica_stats()

    warmup, run = asyncio.run(go())
    assert sum(s.samples for s in warmup) == 4
    assert [s.name for s in run] == ["http://a", "http://b"]
    assert sum(s.samples for s in run) == 10 and sum(s.output_tokens for s in run) == 10 * 5
    assert all(s.seconds > 0 and s.tokens_per_s > 0 for s in run if s.samples)
    idle = rs.take_replica_stats()
    assert [(s.samples, s.seconds, s.tokens_per_s) for s in idle] == [(0, 0.0, 0.0)] * 2


def test_replica_report_renders_one_line_per_replica():
    stats = (ReplicaStats("http://a", 1234, 50_000, 20_000, 0, 4.0),
             ReplicaStats("dp rank 1", 0, 0, 0, 2, 0.0))
    lines = render_replica_stats(stats).splitlines()
    assert lines[0] == "per replica:"
    assert lines[1] == (f"  {'http://a':<40}    1,234 samples      20,000 tokens     5,000.0 "
                        f"tok/s     0 errors")
    assert lines[2].split() == ["dp", "rank", "1", "0", "samples", "0", "tokens", "0.0",
                                "tok/s", "2", "errors"]


class _Starting(LatencyBackend):
    """A fake replica whose start takes a while (a server loading) or fails; `starting`
    counts the replicas starting at this moment, `most` the highest count seen."""

    starting = most = 0

    def __init__(self, name, start_s, error=None):
        super().__init__(PARAMS)
        self.name, self.start_s, self.error, self.shut = name, start_s, error, False

    async def start(self):
        _Starting.starting += 1
        _Starting.most = max(_Starting.most, _Starting.starting)
        await asyncio.sleep(self.start_s)
        _Starting.starting -= 1
        if self.error:
            raise self.error

    async def shutdown(self):
        self.shut = True


def test_replicas_start_together_and_a_failure_stops_all():
    asyncio.run(ReplicaSet([_Starting(n, 0.05) for n in "abc"], PARAMS).start())
    assert _Starting.most == 3  # all three loading at once, not one after another
    bad = [_Starting("a", 0.1), _Starting("b", 0.01, RuntimeError("b is down")),
           _Starting("c", 0.1)]
    try:
        asyncio.run(ReplicaSet(bad, PARAMS).start())
    except RuntimeError as e:
        assert str(e) == "b is down"
    else:
        raise AssertionError("a failed replica must fail the start")
    assert all(r.shut for r in bad)
