"""Stopping a run for real (signals to the harness, to its group, killed processes), with fake
backends through real LoadGen: bounded, one line, and never read as a result."""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from harness.run.loadgen import STOP_GRACE_S
from harness.run.status import not_a_result

STOP_BOUND_S = STOP_GRACE_S + 10  # LoadGen's grace, plus stopping a fake engine and Python


def _assert_failed_folder(run_dir: Path, reason: str) -> None:
    status = json.loads((run_dir / "harness_status.json").read_text())
    assert status["state"] == "failed" and reason in status["reason"]
    assert not (run_dir / "mlperf_log_summary.txt").exists()
    assert (run_dir / "FAILED-mlperf_log_detail.txt").is_file()
    assert reason in not_a_result(run_dir)


@pytest.mark.parametrize("command, sig, target, reason", [
    ("run-server", signal.SIGINT, "group", "interrupted by the user (Ctrl-C)"),
    ("run-server", signal.SIGINT, "harness", "interrupted by the user (Ctrl-C)"),
    ("run-server", signal.SIGTERM, "supervisor", "stopped by SIGTERM"),
    ("run-singlestream", signal.SIGTERM, "harness", "stopped by SIGTERM"),
    ("run-offline", signal.SIGINT, "group", "interrupted by the user (Ctrl-C)"),
])
def test_a_signal_stops_every_scenario_in_bounded_time_and_marks_the_run(
        start_harness, tmp_path, command, sig, target, reason):
    scenario = {"run-server": "Server", "run-singlestream": "SingleStream",
                "run-offline": "Offline"}[command]
    h = start_harness(tmp_path, command, "--backend", "fake-latency", "--fake-itl-ms", "50")
    run_dir = h.out / scenario / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    t0 = time.monotonic()
    {"group": lambda: os.killpg(h.proc.pid, sig), "supervisor": lambda: h.proc.send_signal(sig),
     "harness": lambda: os.kill(h.harness_pid(), sig)}[target]()
    rc, out, err = h.finish()
    elapsed = time.monotonic() - t0
    assert rc == 5, err
    assert elapsed < STOP_BOUND_S, f"stopping took {elapsed:.1f} s"
    assert f"run FAILED: {reason}" in err and "not a result" in err
    assert "VALID" not in out and "Traceback" not in err
    _assert_failed_folder(run_dir, reason)


def test_offline_stopped_keeps_loadgens_complete_logs_under_failed_names(start_harness, tmp_path):
    """Offline ends within the grace once every query is answered: LoadGen's own summary is
    complete (and would say VALID), so it is kept only under a name that says FAILED."""
    h = start_harness(tmp_path, "run-offline", "--backend", "fake-latency", "--fake-itl-ms", "200")
    run_dir = h.out / "Offline" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    os.kill(h.harness_pid(), signal.SIGTERM)
    rc, out, err = h.finish()
    assert rc == 5 and "left mid-schedule" not in err
    assert "Result is" in (run_dir / "FAILED-mlperf_log_summary.txt").read_text()
    _assert_failed_folder(run_dir, "stopped by SIGTERM")


def test_a_second_ctrl_c_abandons_at_once(start_harness, tmp_path):
    h = start_harness(tmp_path, "run-server", "--backend", "fake-latency", "--fake-itl-ms", "50")
    run_dir = h.out / "Server" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    os.killpg(h.proc.pid, signal.SIGINT)
    h.read_err_until("stopping. Every query is now answered at once")
    t0 = time.monotonic()
    os.killpg(h.proc.pid, signal.SIGINT)
    rc, out, err = h.finish()
    assert time.monotonic() - t0 < 3
    assert rc == 130, err
    assert "abandoned at once" in err
    _assert_failed_folder(run_dir, "interrupted by the user (Ctrl-C)")


def test_killing_the_harness_leaves_a_run_that_never_reads_as_a_result(start_harness, tmp_path):
    h = start_harness(tmp_path, "run-server", "--backend", "fake-latency", "--fake-itl-ms", "50")
    run_dir = h.out / "Server" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    os.kill(h.harness_pid(), signal.SIGKILL)
    rc, out, err = h.finish()
    assert rc == 128 + signal.SIGKILL
    assert "never finished" in not_a_result(run_dir)


def test_killing_the_supervisor_stops_the_harness_cleanly(start_harness, tmp_path):
    h = start_harness(tmp_path, "run-server", "--backend", "fake-latency", "--fake-itl-ms", "50")
    run_dir = h.out / "Server" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    harness = h.harness_pid()
    h.proc.kill()  # the harness gets SIGTERM from the kernel (parent-death signal)
    h.finish()
    deadline = time.monotonic() + STOP_BOUND_S
    while Path(f"/proc/{harness}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{harness}").exists() or \
        Path(f"/proc/{harness}/stat").read_text().split(") ")[1].startswith("Z")
    _assert_failed_folder(run_dir, "stopped by SIGTERM")
