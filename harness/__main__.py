"""`python -m harness ...`: a supervisor process (harness.run.supervisor) that runs the harness
itself as its child, in a process group of its own."""

import os
import sys

from harness.run.supervisor import bind_to_supervisor, is_supervised, supervise


def run_harness() -> int:
    bind_to_supervisor()
    from harness.run import stop_signals

    stop_signals.install()
    try:
        from harness.cli import main

        rc = main()
    except KeyboardInterrupt:  # before the command began
        rc = 130
    if stop_signals.must_exit_at_once():  # a thread is busy where it cannot be stopped
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


if __name__ == "__main__":
    sys.exit(run_harness() if is_supervised() else supervise(sys.argv[1:]))
