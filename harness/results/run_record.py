"""Everything a report shows of one LoadGen test folder, read once into a typed record:
LoadGen's logs (a failed run's renamed FAILED- copies too), and, when this harness ran the
test, its status, settings, engine report, per-sample timings and scores. A folder another
harness made holds LoadGen's logs only; each part it lacks is None."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.results.sample_timings import SampleTable, load_sample_timings
from harness.results.summary import DetailLog, RunSummary, read_detail_log, summarize
from harness.rules import TOKEN_DTYPE
from harness.run.layout import (
    ACCURACY_JSON,
    ACCURACY_LOG,
    CONFIG_FILE,
    DETAIL_LOG,
    ENGINE_FILE,
    FAILED_PREFIX,
    MMLU_JSON,
    SUMMARY_LOG,
)
from harness.run.status import not_a_result
from sut.backend import EngineInfo, ReplicaStats


@dataclass(frozen=True)
class RunRecord:
    log_dir: Path
    summary: RunSummary
    detail: DetailLog
    failure: str | None  # why the run is not a result (None: it is one)
    summary_text: str  # mlperf_log_summary.txt as LoadGen wrote it ("" when absent)
    config: dict | None  # harness_config.json
    engines: tuple[EngineInfo, ...]
    replicas: tuple[ReplicaStats, ...]
    samples: SampleTable | None
    rouge: dict | None  # accuracy.json
    mmlu: dict | None  # mmlu.json
    output_lengths: np.ndarray | None  # tokens per logged answer (accuracy runs)


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _engines(log_dir: Path) -> tuple[tuple[EngineInfo, ...], tuple[ReplicaStats, ...]]:
    data = _json(log_dir / ENGINE_FILE) or {}
    try:
        return (tuple(EngineInfo(**e) for e in data.get("engines", ())),
                tuple(ReplicaStats(**r) for r in data.get("replicas", ())))
    except TypeError:  # written by another version of the harness
        return (), ()


def _output_lengths(path: Path) -> np.ndarray | None:
    """Tokens per answer in LoadGen's accuracy log (each token is one hex-encoded int32)."""
    if not path.is_file() or path.stat().st_size < 3:
        return None
    try:
        entries = json.loads(path.read_text())
        return np.array([len(e["data"]) // (2 * TOKEN_DTYPE.itemsize) for e in entries])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_run_record(log_dir: Path) -> RunRecord:
    """ConfigError when log_dir holds no LoadGen detail log (none, or a failed run's)."""
    failure = not_a_result(log_dir)
    prefix = FAILED_PREFIX if (log_dir / f"{FAILED_PREFIX}{DETAIL_LOG}").is_file() else ""
    detail_path = log_dir / f"{prefix}{DETAIL_LOG}"
    if not detail_path.is_file():
        raise ConfigError(f"{log_dir} holds no {DETAIL_LOG}: not a LoadGen test folder (a run's "
                          f"performance/run_1, accuracy or TEST06/run folder)")
    detail = read_detail_log(detail_path)
    if failure is None and prefix:
        failure = f"LoadGen's logs in {log_dir} are marked FAILED"
    summary_path = log_dir / f"{prefix}{SUMMARY_LOG}"
    engines, replicas = _engines(log_dir)
    config = _json(log_dir / CONFIG_FILE)
    return RunRecord(
        log_dir=log_dir,
        summary=summarize(detail, config.get("scenario") if config else None),
        detail=detail,
        failure=failure,
        summary_text=summary_path.read_text(errors="replace") if summary_path.is_file() else "",
        config=config,
        engines=engines,
        replicas=replicas,
        samples=load_sample_timings(log_dir, prefix),
        rouge=_json(log_dir / ACCURACY_JSON),
        mmlu=_json(log_dir / MMLU_JSON),
        output_lengths=_output_lengths(log_dir / f"{prefix}{ACCURACY_LOG}"),
    )
