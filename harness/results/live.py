"""A live progress line while LoadGen runs: completed of the test's expected samples (of
those issued when LoadGen issues more), tokens/s, latencies, ETA."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

import numpy as np

from sut.progress import RunProgress


def clock(seconds: float) -> str:
    """H:MM:SS."""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_line(label: str, p: RunProgress) -> str:
    elapsed = p.elapsed_s()
    rate = p.completed / elapsed if elapsed > 0 else 0.0
    tok_s = p.output_tokens / elapsed if elapsed > 0 else 0.0
    total = max(p.planned, p.issued)  # Server and SingleStream issue as they go
    pct = 100.0 * p.completed / total if total else 0.0
    eta = clock((total - p.completed) / rate) if rate > 0 else "--:--:--"
    failed = f"  FAILED {p.failed}" if p.failed else ""
    latency = ""
    if p.ttft_s:
        ttft = np.percentile(np.asarray(p.ttft_s.copy()), [50, 99]) * 1e3
        latency = f"  TTFT p50/p99 {ttft[0]:,.0f}/{ttft[1]:,.0f} ms"
        if p.tpot_s:
            tpot = np.percentile(np.asarray(p.tpot_s.copy()), [50, 99]) * 1e3
            latency += f"  TPOT p50/p99 {tpot[0]:,.1f}/{tpot[1]:,.1f} ms"
    issued = f" ({p.issued:,} issued)" if p.issued < total else ""
    return (f"[{label}] {p.completed:,}/{total:,} samples{issued} ({pct:.1f}%)  "
            f"{tok_s:,.0f} tok/s  {rate:,.2f} samples/s{latency}  elapsed {clock(elapsed)}  "
            f"ETA {eta}{failed}")


class LiveProgress:
    """Prints progress_line every `interval_s` on a daemon thread until stopped."""

    def __init__(self, label: str, progress: RunProgress, interval_s: float,
                 stream: TextIO = sys.stderr) -> None:
        self._label, self._progress, self._interval = label, progress, interval_s
        self._stream = stream
        self._tty = stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def _emit(self, end: str) -> None:
        line = progress_line(self._label, self._progress)
        self._stream.write(("\r" + line + "\x1b[K") if self._tty else line)
        self._stream.write(end)
        self._stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._emit("" if self._tty else "\n")

    def __enter__(self) -> "LiveProgress":
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._emit("\n")
