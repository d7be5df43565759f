"""`python -m harness` as a terminal starts it, to be signalled and killed in tests and probes
(no pytest here: tests/probes.py runs it on machines without pytest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, TypeVar

REPO = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def wait_until(what: str, ready: Callable[[], T], timeout_s: float,
               alive: subprocess.Popen | None = None, poll_s: float = 0.05) -> T:
    """Poll `ready` until it returns something true, and return that: the event a test
    waits for (a line, a file, a process), instead of a fixed sleep. AssertionError naming
    `what` after timeout_s, or as soon as `alive` (the process the event comes from) ended."""
    deadline = time.monotonic() + timeout_s
    while not (result := ready()):
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"{what}: the process ended first (exit {alive.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(poll_s)
    return result


class Harness:
    """`python -m harness ...` started as a terminal starts a job: its own process group,
    SIGINT at its default (a non-interactive shell's background job would ignore it)."""

    def __init__(self, tmp_path: Path, *args: str, out: Path | None = None) -> None:
        self.out = out or tmp_path / "runs"
        self._harness_pids: set[int] = set()
        self._err = b""  # stderr read by read_err_until
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *args, "--output-dir", str(self.out),
             "--progress-interval", "0", "--warmup", "0"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def wait_for_loadgen(self, run_dir: Path) -> None:
        """Until LoadGen has begun its log (the test is under way)."""
        detail = run_dir / "mlperf_log_detail.txt"
        deadline = time.monotonic() + 400  # the CPU engine's start, on a busy machine
        while not (detail.is_file() and detail.stat().st_size):
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "LoadGen never started"
            time.sleep(0.05)

    def harness_pid(self) -> int:
        """The harness itself: the supervisor's one child (its pid is its group's id)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        self._harness_pids.add(int(children.split()[0]))
        return int(children.split()[0])

    def read_err_until(self, text: str) -> str:
        """stderr so far, read until it holds text (unbuffered: finish() returns it all)."""
        while text not in (seen := self._err.decode(errors="replace")):
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            assert chunk, f"stderr ended before {text!r}: {seen[-3000:]}"
            self._err += chunk
        return seen

    def err_so_far(self) -> int:
        """Take in what stderr holds now, without waiting; its length in characters (where
        what comes after an event begins in finish()'s stderr)."""
        fd = self.proc.stderr.fileno()
        os.set_blocking(fd, False)
        try:
            while chunk := os.read(fd, 65536):
                self._err += chunk
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(fd, True)
        return len(self._err.decode(errors="replace"))

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        """Wait for the end: exit code, stdout, all of stderr."""
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, self._err.decode(errors="replace") + err

    def kill(self) -> None:
        """End whatever is left (a test that failed midway): both process groups."""
        if self.proc.poll() is None:
            try:
                self.harness_pid()
            except (OSError, IndexError, ValueError):
                pass
        for pgid in {self.proc.pid, *self._harness_pids}:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
