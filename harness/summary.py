"""LoadGen's own results, parsed from mlperf_log_detail.txt into a typed record.

Nothing here is recomputed: every figure is what LoadGen logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RunError

_MARK = ":::MLLOG "


@dataclass(frozen=True)
class DetailLog:
    """Every MLLOG entry's value by key (the last wins), plus LoadGen's errors and warnings."""

    values: dict[str, object]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def read_detail_log(path: Path) -> DetailLog:
    if not path.is_file():
        raise RunError(f"LoadGen wrote no {path.name} in {path.parent}; did the run start?")
    values: dict[str, object] = {}
    errors, warnings = [], []
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith(_MARK):
            continue
        try:
            entry = json.loads(line[len(_MARK):])
        except json.JSONDecodeError:
            continue
        key, value = entry.get("key"), entry.get("value")
        values[key] = value
        meta = entry.get("metadata") or {}
        if meta.get("is_error"):
            errors.append(f"{key}: {value}")
        elif meta.get("is_warning"):
            warnings.append(f"{key}: {value}")
    return DetailLog(values, tuple(errors), tuple(warnings))


@dataclass(frozen=True)
class RunSummary:
    """LoadGen's verdict and headline figures for one run."""

    scenario: str
    mode: str
    valid: bool | None  # None in accuracy mode (LoadGen gives no verdict there)
    samples_per_second: float | None
    tokens_per_second: float | None
    sample_count: int
    invalid_reasons: tuple[str, ...]
    loadgen_errors: tuple[str, ...]
    loadgen_warnings: tuple[str, ...]
    loadgen_version: str

    def render(self) -> str:
        verdict = {True: "VALID", False: "INVALID", None: "(no verdict in this mode)"}[self.valid]
        lines = [f"LoadGen {self.scenario} {self.mode}: {verdict}"]
        if self.tokens_per_second is not None:
            lines.append(f"  tokens/s   {self.tokens_per_second:,.1f}")
        if self.samples_per_second is not None:
            lines.append(f"  samples/s  {self.samples_per_second:,.3f}")
        lines.append(f"  samples    {self.sample_count:,}")
        lines += [f"  INVALID because: {r}" for r in self.invalid_reasons]
        lines += [f"  LoadGen error: {e}" for e in self.loadgen_errors]
        lines += [f"  LoadGen warning: {w}" for w in self.loadgen_warnings]
        return "\n".join(lines)


_REASONS = (
    ("result_min_duration_met", "the run was shorter than min_duration: raise target_qps "
                                "or the sample count in user.conf"),
    ("result_min_queries_met", "fewer queries than min_query_count"),
    ("early_stopping_met", "early stopping criterion not met"),
)


def parse_run(log_dir: Path) -> RunSummary:
    log = read_detail_log(log_dir / "mlperf_log_detail.txt")
    v = log.values
    validity = v.get("result_validity")
    reasons = tuple(text for key, text in _REASONS if v.get(key) is False)

    def number(key: str) -> float | None:
        value = v.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    samples = int(v.get("generated_samples_per_query") or 0) * int(v.get("generated_query_count") or 0)
    return RunSummary(
        scenario=str(v.get("effective_scenario", "?")),
        mode=str(v.get("effective_test_mode", "?")),
        valid=None if validity is None else validity == "VALID",
        samples_per_second=number("result_samples_per_second"),
        tokens_per_second=number("result_tokens_per_second"),
        sample_count=samples,
        invalid_reasons=reasons if validity == "INVALID" else (),
        loadgen_errors=log.errors,
        loadgen_warnings=log.warnings,
        loadgen_version=str(v.get("loadgen_version", "?")),
    )
