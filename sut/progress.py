"""Counters a SUT updates as samples finish, read by the live progress line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RunProgress:
    """Issued/completed samples and output tokens; written on the engine loop only."""

    issued: int = 0
    completed: int = 0
    output_tokens: int = 0
    failed: int = 0
    started_ns: int = field(default_factory=time.monotonic_ns)

    def mark_issued(self, count: int) -> None:
        """Count newly issued samples; the clock starts at the first issue."""
        if not self.issued:
            self.started_ns = time.monotonic_ns()
        self.issued += count

    def elapsed_s(self) -> float:
        return (time.monotonic_ns() - self.started_ns) / 1e9
