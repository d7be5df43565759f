"""The LoadGen boundary: settings from user.conf (once per process) and one test run.

LoadGen owns scheduling, timing, the official metrics and VALID/INVALID; the
harness never recomputes them (harness.results.summary parses LoadGen's own logs).
"""

from __future__ import annotations

import enum
import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import mlperf_loadgen as lg

from harness.errors import ConfigError
from harness.run import stop_signals

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


@dataclass(frozen=True)
class ExpectedTest:
    """How many samples a test will issue and for how long, by LoadGen's rules."""

    samples: int
    seconds: float


AUDIT_QUERIES = 100  # TEST06's audit.config: 100 queries, no minimum duration


def expected_test(settings: lg.TestSettings, scenario: str, dataset_size: int,
                  accuracy: bool = False, audit: bool = False) -> ExpectedTest:
    """From the settings (LoadGen scenario `scenario`): enough queries for min_query_count
    and min_duration at the expected rate, in whole performance sample sets when samples
    are concatenated; an accuracy run issues the dataset once; an audit run (TEST06) its
    100 queries."""
    queries = AUDIT_QUERIES if audit else settings.min_query_count
    min_s = 0 if audit else settings.min_duration_ms / 1000
    if scenario == "SingleStream":
        latency = settings.single_stream_expected_latency_ns / 1e9
        count = dataset_size if accuracy else max(queries, math.ceil(min_s / latency))
        return ExpectedTest(count, count * latency)
    rate = settings.offline_expected_qps if scenario == "Offline" else settings.server_target_qps
    if accuracy:
        return ExpectedTest(dataset_size, dataset_size / rate)
    needed = max(queries, math.ceil(rate * min_s))
    if settings.sample_concatenate_permutation and not audit:
        whole = settings.performance_sample_count_override or dataset_size
        needed = math.ceil(needed / whole) * whole
    return ExpectedTest(needed, needed / rate)


STOP_GRACE_S = 5.0  # after a stop, how long LoadGen may take to end and write its logs


class TestEnd(enum.Enum):
    """How a LoadGen test ended."""

    ENDED = "ended"  # LoadGen finished and wrote its logs
    ABANDONED = "abandoned"  # stopped; LoadGen kept to its schedule past STOP_GRACE_S
    ABANDONED_BY_USER = "abandoned by a second signal"


def run_test(sut, qsl, settings: lg.TestSettings, log_dir: Path,
             on_stop: Callable[[str], None], stopped: threading.Event | None = None,
             audit_config: Path | None = None) -> TestEnd:
    """Run one LoadGen test, writing its logs into log_dir.

    LoadGen runs on a worker thread so the main thread stays responsive. On Ctrl-C or
    SIGTERM, on_stop(reason) makes the SUT answer everything at once; when the SUT stops
    by itself (a failed sample), it sets `stopped`. Either way LoadGen then has
    STOP_GRACE_S to end: Offline and accuracy runs do, and their logs are complete; Server
    and SingleStream keep LoadGen's schedule (up to min_duration), so the test is
    abandoned: its thread is left answering nothing but empty queries, and the process
    must end soon (stop_signals.must_exit_at_once). A second signal abandons at once.
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

    threading.Thread(target=start_test, name="loadgen", daemon=True).start()
    # An Event, not Thread.join: a join interrupted by Ctrl-C may later return early.
    # A signal may land anywhere in this loop, even while the first is being handled: any
    # after the first abandons.
    stop_requested, deadline = False, None
    while not done.is_set():
        try:
            if stop_requested and deadline is None:
                deadline = time.monotonic() + STOP_GRACE_S
                on_stop(stop_signals.reason())
                sys.stderr.write(f"\n[harness] {stop_signals.reason()}: stopping. Every query "
                                 f"is now answered at once; LoadGen gets {STOP_GRACE_S:.0f} s "
                                 f"to end and write its logs (Ctrl-C again abandons them)\n")
                sys.stderr.flush()  # one write, newline included: a signal may cut it short
            if deadline is None and stopped is not None and stopped.is_set():
                deadline = time.monotonic() + STOP_GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                stop_signals.leave_threads_behind()
                return TestEnd.ABANDONED
            done.wait(0.25)
        except KeyboardInterrupt:
            if stop_requested:
                stop_signals.leave_threads_behind()
                return TestEnd.ABANDONED_BY_USER
            stop_requested = True
    lg.DestroySUT(sut_handle)
    return TestEnd.ENDED
