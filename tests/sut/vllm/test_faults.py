"""Faults with the real (CPU) vLLM engine on the tiny model: signals as a terminal and a
batch scheduler send them, a second Ctrl-C, the engine process killed. Each run stops in
bounded time with the harness's own line, the screen free of engine tracebacks and
warnings, no process left behind, and a run folder that never reads as a result."""

import os
import signal
import time

import pytest

from harness.run.loadgen import STOP_GRACE_S
from harness.run.runner import ENGINE_STOP_AFTER_SIGNAL_S, ENGINE_STOP_S
from harness.run.status import not_a_result
from harness.run.supervisor import GROUP_TERM_S, group_members

pytestmark = pytest.mark.vllm

STOP_BOUND_S = STOP_GRACE_S + ENGINE_STOP_S  # LoadGen's grace, then the engine's shutdown
NOISE = ("Traceback", "WARNING", "leaked", "Error")


def _start_server_run(start_harness, tmp_path):
    """A real-engine Server run of the demo, once LoadGen has begun; (harness, run folder)."""
    h = start_harness(tmp_path, "run-server")
    run_dir = h.out / "Server" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    return h, run_dir


def test_ctrl_c_to_the_terminal_group_stops_a_server_run_quietly(start_harness, tmp_path):
    h, run_dir = _start_server_run(start_harness, tmp_path)
    engine_group = h.harness_pid()
    os.killpg(h.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    t0 = time.monotonic()
    rc, out, err = h.finish()
    elapsed = time.monotonic() - t0
    assert rc == 5, err[-3000:]
    assert elapsed < STOP_BOUND_S, f"stopping took {elapsed:.1f} s"
    after = err[err.index("interrupted by the user (Ctrl-C): stopping"):]
    assert not [word for word in NOISE if word in after], after
    assert "run FAILED: interrupted by the user (Ctrl-C)" in after and "VALID" not in out
    assert "FAILED: interrupted by the user (Ctrl-C)" in not_a_result(run_dir)
    assert group_members(engine_group) == []


@pytest.mark.slow  # a second signal with fake engines: tests/harness/run/test_stop.py
def test_sigterm_to_the_harness_then_a_second_ctrl_c_abandons_at_once(start_harness, tmp_path):
    h, run_dir = _start_server_run(start_harness, tmp_path)
    engine_group = h.harness_pid()
    os.kill(engine_group, signal.SIGTERM)  # a batch scheduler's time limit
    h.read_err_until("stopped by SIGTERM: stopping")
    t0 = time.monotonic()
    os.killpg(h.proc.pid, signal.SIGINT)
    rc, out, err = h.finish()
    assert rc == 130, err[-3000:]
    assert time.monotonic() - t0 < GROUP_TERM_S + 5  # the engine's processes get SIGTERM
    after = err[err.index("stopped by SIGTERM: stopping"):]
    assert "abandoned at once" in after and not [w for w in NOISE if w in after], after
    assert "FAILED: stopped by SIGTERM" in not_a_result(run_dir)
    assert group_members(engine_group) == []


def test_engine_process_killed_fails_the_run_in_bounded_time(start_harness, tmp_path):
    h, run_dir = _start_server_run(start_harness, tmp_path)
    engine_group = h.harness_pid()
    engine = [pid for pid, name in group_members(engine_group) if "EngineCor" in name]
    assert engine, group_members(engine_group)
    os.kill(engine[0], signal.SIGKILL)
    t0 = time.monotonic()
    rc, out, err = h.finish()
    assert rc == 5, err[-3000:]
    assert time.monotonic() - t0 < STOP_BOUND_S
    failed = [line for line in err.splitlines() if line.startswith("error: run FAILED: sample")]
    assert failed and "EngineDeadError" in failed[0] and "not a result" in failed[0], err[-3000:]
    assert "VALID" not in out and "failed: EngineDeadError" in not_a_result(run_dir)
    assert group_members(engine_group) == []


def test_ctrl_c_while_the_engine_starts_exits_130_quietly(start_harness, tmp_path):
    h = start_harness(tmp_path, "run-server")
    h.read_err_until("starting the vllm backend")
    engine_group = h.harness_pid()
    deadline = time.monotonic() + 300
    while not any("EngineCor" in name for _, name in group_members(engine_group)):
        assert time.monotonic() < deadline and h.proc.poll() is None
        time.sleep(0.2)
    os.killpg(h.proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    rc, out, err = h.finish()
    assert rc == 130, err[-3000:]
    assert time.monotonic() - t0 < ENGINE_STOP_AFTER_SIGNAL_S + GROUP_TERM_S + 5
    after = err[err.index("stopped: interrupted by the user (Ctrl-C)"):]
    assert not [word for word in NOISE if word in after], after
    assert not (h.out / "Server" / "performance").exists()  # nothing that looks like a run
    assert group_members(engine_group) == []
