"""The LoadGen boundary: settings from user.conf (once per process) and one test run.

LoadGen owns scheduling, timing, the official metrics and VALID/INVALID; the
harness never recomputes them (harness.summary parses LoadGen's own logs).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

import mlperf_loadgen as lg

from harness.errors import ConfigError

LOADGEN_SCENARIOS = {
    "Offline": lg.TestScenario.Offline,
    "Server": lg.TestScenario.Server,
    "SingleStream": lg.TestScenario.SingleStream,
}
MODES = {
    "performance": lg.TestMode.PerformanceOnly,
    "accuracy": lg.TestMode.AccuracyOnly,
}
_settings_loaded = False
_NO_AUDIT = "/nonexistent/audit.config"  # never read: no stray audit.config applies


def load_settings(user_conf: Path, model: str, scenario: str, mode: str) -> lg.TestSettings:
    """TestSettings from LoadGen's built-in mlperf.conf plus user_conf.

    LoadGen applies its built-in mlperf.conf only on the first FromConfig call
    of a process (later calls silently skip it and mark the run invalid for
    submission), so a process may load settings once.
    """
    global _settings_loaded
    if _settings_loaded:
        raise RuntimeError("LoadGen settings may be loaded once per process; start a new process")
    settings = lg.TestSettings()
    settings.scenario = LOADGEN_SCENARIOS[scenario]
    settings.mode = MODES[mode]
    rc = settings.FromConfig(str(user_conf), model, scenario)
    _settings_loaded = True
    if rc != 0:
        raise ConfigError(f"LoadGen could not read {user_conf} (FromConfig returned {rc}); "
                          f"check the file exists and every line is 'model.scenario.key = number'")
    return settings


def extra_settings(conf: Path, model: str, scenario: str, mode: str) -> lg.TestSettings:
    """Settings for a further test in the same process (QPS probes, benchmarks): the
    built-in mlperf.conf, then conf.

    FromConfig's conf_type 0 loads only the built-in mlperf.conf and any type but 1
    reads just the given file; LoadGen's once-per-process rule guards conf_type 1, the
    type of submission runs (load_settings), which these are not.
    """
    settings = lg.TestSettings()
    settings.scenario = LOADGEN_SCENARIOS[scenario]
    settings.mode = MODES[mode]
    if settings.FromConfig("", model, scenario, 0) != 0 or \
            settings.FromConfig(str(conf), model, scenario, 2) != 0:
        raise ConfigError(f"LoadGen could not read {conf}")
    return settings


def run_test(sut, qsl, settings: lg.TestSettings, log_dir: Path,
             on_interrupt: Callable[[str], None], audit_config: Path | None = None) -> None:
    """Run one LoadGen test, writing its logs into log_dir.

    LoadGen runs on a worker thread so the main thread stays responsive to
    Ctrl-C: on interrupt, on_interrupt ends the outstanding work (the SUT then
    reports the run as failed), LoadGen finishes and writes its logs, and this returns.
    audit_config: a compliance test's audit settings (LoadGen applies them over settings);
    None runs without (LoadGen would otherwise read an audit.config in the working folder).
    """
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(log_dir)
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = False
    sut_handle = lg.ConstructSUT(sut.issue_queries, sut.flush_queries)
    done = threading.Event()

    def start_test() -> None:
        try:
            lg.StartTestWithLogSettings(sut_handle, qsl, settings, log_settings,
                                        str(audit_config) if audit_config else _NO_AUDIT)
        finally:
            done.set()

    stop = _StopRequests()
    try:
        threading.Thread(target=start_test, name="loadgen", daemon=True).start()
        # An Event, not Thread.join: a join interrupted by Ctrl-C may later return early.
        interrupted = False
        while not done.is_set():
            try:
                done.wait(0.25)
            except KeyboardInterrupt:
                if interrupted:  # asked twice: give up on LoadGen's end of test
                    print("\n[harness] abandoned; LoadGen's logs may be incomplete",
                          file=sys.stderr, flush=True)
                    os._exit(130)
                interrupted = True
                on_interrupt(stop.reason())
                print("\n[harness] stopping: every query is now answered at once; LoadGen "
                      "ends when its schedule does (Server, SingleStream: up to min_duration) "
                      "and writes its logs. Ctrl-C again to abandon them.",
                      file=sys.stderr, flush=True)
    finally:
        stop.restore()
        lg.DestroySUT(sut_handle)


class _StopRequests:
    """While a test runs, SIGTERM (a batch scheduler's time limit, `kill`) stops it the way
    Ctrl-C does: outstanding queries end, LoadGen writes its logs, the run is FAILED."""

    def __init__(self) -> None:
        self._terminated = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame) -> None:
        self._terminated = True
        raise KeyboardInterrupt

    def reason(self) -> str:
        return ("stopped by SIGTERM" if self._terminated
                else "interrupted by the user (Ctrl-C)")

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
