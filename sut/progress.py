"""Counters a SUT updates as samples finish, read by the live progress line.

Latencies here are the harness's own view, for the live line only; the
official figures are LoadGen's.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

_RECENT = 2000  # latency samples kept for the live percentiles


@dataclass(frozen=True)
class SampleTiming:
    """One completed sample, as the harness saw it (monotonic ns; first_ns 0: no first token)."""

    qsl_index: int
    output_tokens: int
    issued_ns: int
    first_ns: int
    done_ns: int


@dataclass
class RunProgress:
    """Issued/completed samples, output tokens, recent TTFT/TPOT for the live line, and every
    completed sample's timing for the run's report; written on the engine loop."""

    planned: int = 0  # samples the test is expected to issue in all (0: unknown)
    issued: int = 0
    completed: int = 0
    output_tokens: int = 0
    failed: int = 0
    started_ns: int = field(default_factory=time.monotonic_ns)
    last_done_ns: int = 0
    ttft_s: deque = field(default_factory=lambda: deque(maxlen=_RECENT))
    tpot_s: deque = field(default_factory=lambda: deque(maxlen=_RECENT))
    timings: list[SampleTiming] = field(default_factory=list)

    def mark_issued(self, count: int) -> None:
        """Count newly issued samples; the clock starts at the first issue."""
        if not self.issued:
            self.started_ns = time.monotonic_ns()
        self.issued += count

    def record(self, qsl_index: int, n_tokens: int, issued_ns: int, first_ns: int,
               done_ns: int) -> None:
        """One completed sample; first_ns is 0 when no first token was reported."""
        self.timings.append(SampleTiming(qsl_index, n_tokens, issued_ns, first_ns, done_ns))
        self.completed += 1
        self.output_tokens += n_tokens
        self.last_done_ns = done_ns
        if first_ns:
            self.ttft_s.append((first_ns - issued_ns) / 1e9)
            if n_tokens > 1:
                self.tpot_s.append((done_ns - first_ns) / 1e9 / (n_tokens - 1))

    def elapsed_s(self) -> float:
        return (time.monotonic_ns() - self.started_ns) / 1e9

    def busy_s(self) -> float:
        """First issue to last completion."""
        return max(0, self.last_done_ns - self.started_ns) / 1e9
