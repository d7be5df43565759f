"""Where a run's files go, and their names (no other module spells them): laid out like the
MLPerf submission tree (whose scenario folders, results/<system>/<benchmark>/<Scenario>/,
use the same names; submission packaging maps one onto the other with this class).

    <root>/<Scenario>/performance/run_1/   LoadGen logs of the performance run
    <root>/<Scenario>/accuracy/            LoadGen logs + accuracy.txt of the accuracy run
    <root>/<Scenario>/TEST06/              verify_accuracy.txt, accuracy/ (+ run/: LoadGen logs)
    <root>/<Scenario>/user.conf            the effective user.conf LoadGen read
    <root>/<Scenario>/mlperf.conf          the round's mlperf.conf (LoadGen has it built in)
    <root>/history/...                     earlier runs moved aside, never overwritten

A LoadGen test folder (run_1/, accuracy/, TEST06/run/, a find-qps probe) holds LoadGen's
logs and the harness's records of the run, named below.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError

# LoadGen's logs, in a test folder
SUMMARY_LOG = "mlperf_log_summary.txt"
DETAIL_LOG = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
TRACE_LOG = "mlperf_log_trace.json"
LOADGEN_LOGS = (SUMMARY_LOG, DETAIL_LOG, ACCURACY_LOG, TRACE_LOG)
# the harness's records, in a test folder
USER_CONF_FILE = "user.conf"  # the effective user.conf (also in the scenario folder)
CONFIG_FILE = "harness_config.json"  # RunConfig.to_json()
CLOCK_FILE = "harness_clock.json"  # HarnessClock
STATUS_FILE = "harness_status.json"  # harness.run.status
SAMPLES_FILE = "harness_samples.csv"  # every completed sample's timing (results.sample_timings)
ENGINE_FILE = "harness_engine.json"  # the engines' settings and per-replica counts
REPORT_FILE = "report.html"  # the run's report (harness.results.run_report)
FAILED_FILE = "FAILED.txt"  # why the run failed
FAILED_PREFIX = "FAILED-"  # LoadGen's logs of a failed run, renamed
AUDIT_CONFIG_FILE = "audit.config"  # an audit test's LoadGen settings (TEST06/run/)
# scores of an accuracy run, beside its accuracy log
ACCURACY_TXT = "accuracy.txt"  # ROUGE, as the reference script prints it
ACCURACY_JSON = "accuracy.json"  # ROUGE, RougeScores.as_dict()
MMLU_JSON = "mmlu.json"
# in a scenario folder
MLPERF_CONF_FILE = "mlperf.conf"
TEST06 = "TEST06"
VERIFY_FILE = "verify_accuracy.txt"  # TEST06's verdict
# folders of the run root beside the scenarios
HISTORY_DIR = "history"
FIND_QPS_DIR = "find-qps"
SWEEP_DIR = "sweep"
# in a find-qps or sweep folder, beside one folder per LoadGen test
RATES_JSON = "rates.json"  # every test's rate and LoadGen figures (results.rate_table)
RATES_CSV = "rates.csv"
MMLU_DIR = "mmlu"

MIN_FREE_BYTES = 64 * 2 ** 20  # LoadGen's logs of a performance run, with a wide margin


def check_output_root(root: Path, need_bytes: int = MIN_FREE_BYTES) -> None:
    """Before the engine starts: root exists or can be made, is a folder, takes a file, and
    has room for the logs. ConfigError naming the folder otherwise."""
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"output folder {root}: {existing} is a file, not a folder; pass a "
                          f"folder with --output-dir (OUTPUT_DIR=)")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
        free = shutil.disk_usage(root).free
    except OSError as e:
        raise ConfigError(f"output folder {root} cannot be used: {e.strerror}; pass a writable "
                          f"folder with --output-dir (OUTPUT_DIR=)") from None
    if free < need_bytes:
        raise ConfigError(f"output folder {root} has {free / 2 ** 20:,.1f} MiB free; this run's "
                          f"logs need about {need_bytes / 2 ** 20:,.0f} MiB: free space or pass "
                          f"another --output-dir")


def accuracy_log_bytes(samples: int, max_new_tokens: int) -> int:
    """About how large LoadGen's accuracy log of `samples` answers grows (8 hex digits a
    token, plus the entry's keys)."""
    return samples * (max_new_tokens * 8 + 128)


@dataclass(frozen=True)
class RunLayout:
    root: Path
    scenario: str

    @property
    def scenario_dir(self) -> Path:
        return self.root / self.scenario

    @property
    def user_conf(self) -> Path:
        return self.scenario_dir / USER_CONF_FILE

    def mode_dir(self, mode: str) -> Path:
        """mode: performance, accuracy, or a compliance test's name (TEST06)."""
        if mode == "performance":
            return self.scenario_dir / "performance" / "run_1"
        return self.scenario_dir / mode

    @property
    def test06_run_dir(self) -> Path:
        """LoadGen's logs of the TEST06 run (the harness's own; not in a submission)."""
        return self.mode_dir(TEST06) / "run"

    @property
    def test06_verify_file(self) -> Path:
        return self.mode_dir(TEST06) / VERIFY_FILE

    @property
    def test06_accuracy_log(self) -> Path:
        return self.mode_dir(TEST06) / "accuracy" / ACCURACY_LOG

    def prepare(self, mode: str) -> Path:
        """Create the folder for this run; move a previous run there into history/ first (and
        say so on stderr)."""
        target = self.mode_dir(mode)
        if target.exists() and any(target.iterdir()):
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(target.stat().st_mtime))
            keep = self.root / HISTORY_DIR / f"{self.scenario}-{mode}-{stamp}"
            n = 1
            while keep.exists():
                n += 1
                keep = keep.with_name(f"{self.scenario}-{mode}-{stamp}-{n}")
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), keep)
            print(f"[harness] previous run moved to {keep}", file=sys.stderr, flush=True)
        target.mkdir(parents=True, exist_ok=True)
        return target


@dataclass(frozen=True)
class ConfigRecord:
    """What a test folder's harness_config.json says the run ran on (the fields packaging
    needs; None or empty: the folder has no such file)."""

    model_dir: str | None = None
    dataset: str | None = None
    engine_args: tuple[str, ...] = ()


def read_config_record(log_dir: Path) -> ConfigRecord:
    """The test folder's harness_config.json as a record; an empty one when it has none."""
    path = log_dir / CONFIG_FILE
    if not path.is_file():
        return ConfigRecord()
    data = json.loads(path.read_text())
    return ConfigRecord(model_dir=data.get("model_dir"), dataset=data.get("dataset"),
                        engine_args=tuple(data.get("engine_args", ())))
