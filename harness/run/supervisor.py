"""`python -m harness` runs the harness as a child in a process group of its own.

A terminal's Ctrl-C goes to every process of the foreground group. Without this, vLLM's
engine processes would get it too and die mid-run with tracebacks, while the harness is
still stopping LoadGen. Here the terminal's group holds only this small supervisor (and
make): it passes SIGINT and SIGTERM (and SIGHUP, as SIGTERM) to the harness process alone,
which stops LoadGen and then the engine, in order. When the harness has exited, whatever
is left in its group (the engine's processes after an abandoned run or a crash) gets
SIGTERM, then SIGKILL. The child gets SIGTERM if the supervisor itself dies.

The engine's processes write to a pipe this supervisor relays (`engine_output`): to the
terminal while the harness runs; into a file, named in one line at the end, once the
harness has failed or asked for quiet while it stops a failed run (`quiet_engine_stop`,
SIGUSR1). An engine ended mid-start or mid-run leaves its shutdown lines and tracebacks
there, not on the screen.
Standard library only: it starts before anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

SUPERVISED_ENV = "HARNESS_SUPERVISOR_PID"  # set in the child: the supervisor's pid
ENGINE_OUTPUT_ENV = "HARNESS_ENGINE_OUTPUT_FD"  # set in the child: the relayed pipe's fd
GROUP_TERM_S = 10.0  # what is left of the harness's group gets this long after SIGTERM
_PR_SET_PDEATHSIG = 1


def supervise(argv: list[str]) -> int:
    """Run `python -m harness argv` in a new process group; its exit code (128+N when a
    signal N ended it)."""
    read_fd, write_fd = os.pipe()
    relay = _Relay(read_fd)
    env = {**os.environ, SUPERVISED_ENV: str(os.getpid()), ENGINE_OUTPUT_ENV: str(write_fd)}
    child = subprocess.Popen([sys.executable, "-m", "harness", *argv], env=env,
                             stdin=subprocess.DEVNULL, process_group=0, pass_fds=(write_fd,))
    os.close(write_fd)

    def forward(signum, frame) -> None:
        try:
            os.kill(child.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:  # a background job keeps ignoring
            signal.signal(sig, forward)
    signal.signal(signal.SIGUSR1, lambda signum, frame: relay.divert())
    rc = child.wait()
    if rc != 0:  # after a success the engine is down already, its last lines on screen
        relay.divert()
    end_group(child.pid)
    relay.finish()
    return rc if rc >= 0 else 128 - rc


class _Relay:
    """Copies the engine's output to stderr; after divert(), into a file instead."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._file = None
        self._thread = threading.Thread(target=self._copy, name="engine-output", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        while chunk := os.read(self._fd, 65536):
            with self._lock:
                if self._file is None:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.buffer.flush()
                else:
                    self._file.write(chunk)

    def divert(self) -> None:
        with self._lock:
            if self._file is None:
                self._file = tempfile.NamedTemporaryFile(prefix="harness-engine-",
                                                         suffix=".log", delete=False)

    def finish(self) -> None:
        """Wait (briefly) for the last writer to close; name the file if it got anything."""
        self._thread.join(timeout=5)
        with self._lock:
            if self._file is None:
                return
            self._file.close()
            path = Path(self._file.name)
            if path.stat().st_size:
                print(f"[harness] the engine's output while it was stopped is in {path}",
                      file=sys.stderr, flush=True)
            else:
                path.unlink()


def end_group(pgid: int) -> None:
    """SIGTERM, then SIGKILL, to what is left of process group pgid."""
    for sig, wait_s in ((signal.SIGTERM, GROUP_TERM_S), (signal.SIGKILL, 5.0)):
        if not group_members(pgid):
            return
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)


def group_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, name) of the processes in group pgid that are not zombies (a zombie stays a
    member until some parent reaps it, and a container's first process may never do so)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append((int(stat.parent.name), head.split("(", 1)[1]))
    return found


_supervisor_pid: int | None = None  # in the child: the supervisor
_relay_fd: int | None = None  # in the child: the write end of the supervisor's relay


def bind_to_supervisor() -> None:
    """In the child: take the supervisor's pid and relay (out of the environment, so the
    processes this one starts see neither), and get SIGTERM when the supervisor dies."""
    global _supervisor_pid, _relay_fd
    _supervisor_pid = int(os.environ.pop(SUPERVISED_ENV))
    _relay_fd = int(os.environ.pop(ENGINE_OUTPUT_ENV))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != _supervisor_pid:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def is_supervised() -> bool:
    return SUPERVISED_ENV in os.environ


@contextlib.contextmanager
def engine_output() -> Iterator[None]:
    """In the child, around starting the engine: processes started meanwhile write their
    output to the supervisor's relay (the harness's own lines go there meanwhile too)."""
    if _relay_fd is None:
        yield
        return
    with _output_to(_relay_fd):
        yield


@contextlib.contextmanager
def quiet_engine_stop() -> Iterator[None]:
    """In the child, around stopping the engine after a failed or stopped run: the engine's
    output, and the harness's own meanwhile, go to the supervisor's file, not the screen."""
    if _relay_fd is None or _supervisor_pid is None:
        yield
        return
    os.kill(_supervisor_pid, signal.SIGUSR1)
    with _output_to(_relay_fd):
        yield


@contextlib.contextmanager
def _output_to(fd: int) -> Iterator[None]:
    """Point this process's stdout and stderr (fds 1 and 2) at fd for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for target, copy in zip((1, 2), saved):
            os.dup2(copy, target)
            os.close(copy)
