"""`python -m harness report PATH`: the report of a LoadGen test folder, of a find-qps or
sweep folder, or of every such folder below PATH (a run root, a scenario folder)."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError
from harness.results.rate_report import write_rate_report
from harness.results.run_report import write_run_report
from harness.run.layout import DETAIL_LOG, FAILED_PREFIX, RATES_JSON


def _is_test(folder: Path) -> bool:
    return (folder / DETAIL_LOG).is_file() or (folder / f"{FAILED_PREFIX}{DETAIL_LOG}").is_file()


def _is_search(folder: Path) -> bool:
    return (folder / RATES_JSON).is_file()


def write_reports(path: Path, out: Path | None = None) -> list[Path]:
    """Write the report(s) of path; their paths. ConfigError when there is nothing to report
    or --out names one file for several reports."""
    if not path.is_dir():
        raise ConfigError(f"{path} is not a folder: give a run folder (e.g. "
                          f"runs/demo/Offline/performance/run_1) or a run root (runs/demo)")
    if _is_search(path):
        return [write_rate_report(path, out)]
    if _is_test(path):
        return [write_run_report(path, out)]
    found = sorted(p for p in path.rglob("*") if p.is_dir() and (_is_search(p) or _is_test(p)))
    if not found:
        raise ConfigError(f"{path} holds no LoadGen logs ({DETAIL_LOG}) and no find-qps or "
                          f"sweep table: nothing to report")
    if out is not None and len(found) > 1:
        raise ConfigError(f"{path} holds {len(found)} runs; --out names one file: give one run "
                          f"folder, or leave --out out (each report goes into its folder)")
    return [write_rate_report(p, out) if _is_search(p) else write_run_report(p, out)
            for p in found]
