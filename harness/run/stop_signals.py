"""Ctrl-C (SIGINT) and SIGTERM mean the same to the harness: stop, in order.

Both raise KeyboardInterrupt in the main thread, which the runner turns into a stopped
run (LoadGen's logs kept, FAILED, exit 5) or, outside a LoadGen test, into exit 130;
`reason()` says which signal it was. A SIGINT ignored when the process started (a
background job of a non-interactive shell) stays ignored: that is the shell's intent.
"""

from __future__ import annotations

import signal

_received: list[str] = []
_exit_at_once = False


def _on_signal(signum, frame) -> None:
    _received.append("SIGTERM" if signum == signal.SIGTERM else "SIGINT")
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGTERM (and SIGINT unless ignored) to KeyboardInterrupt; main thread only."""
    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_signal)


def reason() -> str:
    """The stop's cause in words, for the console and FAILED.txt."""
    if _received and _received[0] == "SIGTERM":
        return "stopped by SIGTERM"
    return "interrupted by the user (Ctrl-C)"


def signalled() -> bool:
    """Whether a stop signal came."""
    return bool(_received)


def leave_threads_behind() -> None:
    """Note that a thread is still busy where it cannot be stopped (an abandoned LoadGen
    test, an engine still starting): the process must end with os._exit."""
    global _exit_at_once
    _exit_at_once = True


def must_exit_at_once() -> bool:
    return _exit_at_once
