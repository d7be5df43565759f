"""Whether a run folder holds a result: the harness's record of how its LoadGen test ended.

Before LoadGen starts, the folder gets `harness_status.json` saying "running"; it says
"finished" only once LoadGen ended with every sample answered by the engine. A run that
failed or was stopped is "failed", with the reason, and LoadGen's own logs of it are
renamed `FAILED-<name>`: LoadGen would call such a run VALID (the answers it timed were
empty), so neither a person nor a tool that looks for `mlperf_log_summary.txt` can take it
for a result. A folder still "running" when read belongs to a harness that was killed or
crashed, and is not a result either. Every reader of a run (the console verdict,
packaging, find-qps, the benchmarks) asks `not_a_result` first.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from harness.run.layout import FAILED_FILE, FAILED_PREFIX, LOADGEN_LOGS, STATUS_FILE

RUNNING, FINISHED, FAILED = "running", "finished", "failed"


@dataclass(frozen=True)
class RunStatus:
    """How one LoadGen test in this folder ended (or that it has not)."""

    state: str  # RUNNING, FINISHED or FAILED
    reason: str = ""  # why it failed
    updated: str = ""  # local time of this record


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file, fsync and rename: never half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _write(log_dir: Path, status: RunStatus) -> None:
    record = RunStatus(status.state, status.reason, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    write_atomically(log_dir / STATUS_FILE, json.dumps(asdict(record)) + "\n")


def read_status(log_dir: Path) -> RunStatus | None:
    """The folder's status record; None when it has none (an older or another harness's run)."""
    try:
        data = json.loads((log_dir / STATUS_FILE).read_text())
        return RunStatus(str(data["state"]), str(data.get("reason", "")),
                         str(data.get("updated", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return RunStatus("unreadable", f"{STATUS_FILE} cannot be read")


def mark_running(log_dir: Path) -> None:
    _write(log_dir, RunStatus(RUNNING))


def mark_finished(log_dir: Path) -> None:
    _write(log_dir, RunStatus(FINISHED))


def mark_failed(log_dir: Path, reason: str, details: Iterable[str] = ()) -> list[str]:
    """Mark the run failed: LoadGen's logs renamed first (needs no disk space), then the
    status and FAILED.txt. Best effort on a broken disk: returns what could not be done
    (a folder left "running" still reads as not a result)."""
    problems = []
    for name in LOADGEN_LOGS:
        if (log_dir / name).exists():
            try:
                os.replace(log_dir / name, log_dir / f"{FAILED_PREFIX}{name}")
            except OSError as e:
                problems.append(f"cannot rename {name}: {e.strerror}")
    for write in (lambda: _write(log_dir, RunStatus(FAILED, reason)),
                  lambda: write_atomically(log_dir / FAILED_FILE,
                                           "".join(f"{line}\n" for line in (reason, *details)))):
        try:
            write()
        except OSError as e:
            problems.append(f"cannot write in {log_dir}: {e.strerror}")
    return problems


def not_a_result(log_dir: Path) -> str | None:
    """Why the run in log_dir is not a result, or None when it is one (or is not ours)."""
    status = read_status(log_dir)
    if status is not None and status.state != FINISHED:
        if status.state == FAILED:
            return f"the run in {log_dir} FAILED: {status.reason}"
        if status.state == RUNNING:
            return (f"the run in {log_dir} never finished (the harness was killed or crashed, "
                    f"or is still running)")
        return f"the run in {log_dir} has an unreadable {STATUS_FILE}"
    if (log_dir / FAILED_FILE).is_file():  # a run by an older harness that failed
        first = (log_dir / FAILED_FILE).read_text(errors="replace").strip().splitlines()
        return f"the run in {log_dir} FAILED ({first[0] if first else FAILED_FILE})"
    return None
