"""LoadGen's own results, parsed from mlperf_log_detail.txt into a typed record.

Nothing here is recomputed: every figure is what LoadGen logged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RunError
from harness.run.layout import DETAIL_LOG
from harness.run.status import not_a_result

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
class LoggedSettings:
    """The test settings LoadGen logged it ran with, those the submission checker reads
    (None: not logged)."""

    qsl_rng_seed: int | None
    sample_index_rng_seed: int | None
    schedule_rng_seed: int | None
    min_duration_ms: int | None
    performance_sample_count: int | None
    samples_per_query: int | None
    sample_concatenate_permutation: bool | None
    use_token_latencies: bool  # as requested
    accuracy_sample_count: int | None  # the accuracy run's, else the QSL's total

    @property
    def seeds(self) -> dict[str, int | None]:
        """By LoadGen's name (harness.rules.ROUND_SEEDS's keys)."""
        return {"qsl_rng_seed": self.qsl_rng_seed,
                "sample_index_rng_seed": self.sample_index_rng_seed,
                "schedule_rng_seed": self.schedule_rng_seed}


@dataclass(frozen=True)
class RunSummary:
    """LoadGen's verdict and headline figures for one run (None: not logged in this scenario)."""

    label: str  # the harness scenario (Interactive is LoadGen's Server)
    scenario: str
    mode: str
    validity: str | None  # "VALID" or "INVALID"; None in accuracy mode (no verdict there)
    samples_per_second: float | None
    tokens_per_second: float | None
    target_qps: float | None
    ttft_p99_ms: float | None
    tpot_p99_ms: float | None
    ttft_limit_ms: float | None
    tpot_limit_ms: float | None
    latency_p90_ms: float | None
    sample_count: int
    invalid_reasons: tuple[str, ...]
    loadgen_errors: tuple[str, ...]
    loadgen_warnings: tuple[str, ...]
    loadgen_version: str
    early_stopping_met: bool | None
    settings: LoggedSettings
    latency_met: bool | None = None  # LoadGen's result_perf_constraints_met
    early_stopping_short_by: int | None = None  # more queries its estimate would need

    @property
    def valid(self) -> bool | None:
        return None if self.validity is None else self.validity == "VALID"

    @property
    def too_short_only(self) -> bool:
        """INVALID only because the run had too few queries for LoadGen's early-stopping
        estimate: every latency limit held. Not an answer about the rate."""
        return (self.valid is False and self.latency_met is True
                and self.early_stopping_met is False and len(self.invalid_reasons) == 1)

    def render(self) -> str:
        verdict = {True: "VALID", False: "INVALID", None: "(no verdict in this mode)"}[self.valid]
        title = self.scenario if self.label == self.scenario else f"{self.label} ({self.scenario})"
        lines = [f"LoadGen {title} {self.mode}: {verdict}"]

        def row(name: str, value: float | None, fmt: str, extra: str = "") -> None:
            if value is not None:
                lines.append(f"  {name:<12}{format(value, fmt)}{extra}")

        row("tokens/s", self.tokens_per_second, ",.1f")
        row("samples/s", self.samples_per_second, ",.3f")
        if self.scenario == "Server":
            row("target QPS", self.target_qps, ",.3f")
            for name, value, limit, fmt in (("TTFT p99", self.ttft_p99_ms, self.ttft_limit_ms, ",.1f"),
                                            ("TPOT p99", self.tpot_p99_ms, self.tpot_limit_ms, ",.2f")):
                row(name, value, fmt, f" ms (limit {limit:,.0f} ms)" if limit else " ms")
        row("p90 latency", self.latency_p90_ms, ",.1f", " ms")
        lines.append(f"  {'samples':<12}{self.sample_count:,}   (LoadGen {self.loadgen_version})")
        lines += [f"  INVALID because: {r}" for r in self.invalid_reasons]
        lines += [f"  LoadGen error: {e}" for e in self.loadgen_errors]
        lines += [f"  LoadGen warning: {w}" for w in self.loadgen_warnings]
        return "\n".join(lines)


def _ms(value: object) -> float | None:
    return float(value) / 1e6 if isinstance(value, (int, float)) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _logged_settings(v: dict[str, object]) -> LoggedSettings:
    return LoggedSettings(
        qsl_rng_seed=_int(v.get("effective_qsl_rng_seed")),
        sample_index_rng_seed=_int(v.get("effective_sample_index_rng_seed")),
        schedule_rng_seed=_int(v.get("effective_schedule_rng_seed")),
        min_duration_ms=_int(v.get("effective_min_duration_ms")),
        performance_sample_count=_int(v.get("effective_performance_sample_count")),
        samples_per_query=_int(v.get("effective_samples_per_query")),
        sample_concatenate_permutation=_flag(v.get("effective_sample_concatenate_permutation")),
        use_token_latencies=bool(v.get("requested_use_token_latencies")),
        accuracy_sample_count=_int(v.get("effective_accuracy_sample_count")
                                   or v.get("qsl_reported_total_count")),
    )


def _invalid_reasons(v: dict[str, object], ttft: float | None, tpot: float | None,
                     ttft_limit: float | None, tpot_limit: float | None) -> tuple[str, ...]:
    reasons = []
    if v.get("result_perf_constraints_met") is False:
        if ttft is not None and ttft_limit and ttft > ttft_limit:
            reasons.append(f"TTFT p99 {ttft:,.1f} ms exceeds {ttft_limit:,.0f} ms: lower target_qps")
        if tpot is not None and tpot_limit and tpot > tpot_limit:
            reasons.append(f"TPOT p99 {tpot:,.2f} ms exceeds {tpot_limit:,.0f} ms: lower target_qps")
        if not reasons:
            reasons.append("latency constraint not met: lower target_qps")
    if v.get("result_min_duration_met") is False:
        reasons.append("the run was shorter than min_duration: raise target_qps or the sample "
                       "count in user.conf")
    if v.get("result_min_queries_met") is False:
        reasons.append("fewer queries than min_query_count")
    if v.get("early_stopping_met") is False:
        failed = [" ".join(str(v.get(k)).replace("*", " ").split()) for k in
                  ("early_stopping_ttft_result", "early_stopping_tpot_result",
                   "early_stopping_result") if "unsuccessful" in str(v.get(k) or "")]
        reasons.append(f"early stopping not met ({' / '.join(failed)})" if failed
                       else "early stopping criterion not met")
    return tuple(reasons)


def parse_run(log_dir: Path, label: str | None = None) -> RunSummary:
    """LoadGen's verdict for the run in log_dir; RunError when the run failed or was stopped
    (harness.run.status): such a folder is never read as a result."""
    if problem := not_a_result(log_dir):
        raise RunError(f"{problem}; not a result")
    return summarize(read_detail_log(log_dir / DETAIL_LOG), label)


def summarize(log: DetailLog, label: str | None = None) -> RunSummary:
    """The typed record of a detail log's entries (whatever the run's status)."""
    v = log.values
    scenario = str(v.get("effective_scenario", "?"))
    validity = v.get("result_validity")
    server = scenario == "Server"
    ttft = _ms(v.get("result_first_token_99.00_percentile_latency_ns")) if server else None
    tpot = _ms(v.get("result_time_per_output_token_99.00_percentile_ns")) if server else None
    ttft_limit = _ms(v.get("requested_server_ttft_latency")) if server else None
    tpot_limit = _ms(v.get("requested_server_tpot_latency")) if server else None
    samples = int(v.get("generated_samples_per_query") or 0) * int(v.get("generated_query_count") or 0)
    return RunSummary(
        label=label or scenario,
        scenario=scenario,
        mode=str(v.get("effective_test_mode", "?")),
        validity=None if validity is None else str(validity),
        samples_per_second=_number(v.get("result_samples_per_second",
                                         v.get("result_completed_samples_per_sec"))),
        tokens_per_second=_number(v.get("result_tokens_per_second",
                                        v.get("result_completed_tokens_per_second"))),
        target_qps=_number(v.get("effective_target_qps")) if server else None,
        ttft_p99_ms=ttft, tpot_p99_ms=tpot, ttft_limit_ms=ttft_limit, tpot_limit_ms=tpot_limit,
        latency_p90_ms=(_ms(v.get("result_90.00_percentile_latency_ns"))
                        if scenario == "SingleStream" else None),
        sample_count=samples,
        invalid_reasons=(_invalid_reasons(v, ttft, tpot, ttft_limit, tpot_limit)
                         if validity == "INVALID" else ()),
        loadgen_errors=log.errors,
        loadgen_warnings=log.warnings,
        loadgen_version=str(v.get("loadgen_version", "?")),
        early_stopping_met=_flag(v.get("early_stopping_met")),
        settings=_logged_settings(v),
        latency_met=_flag(v.get("result_perf_constraints_met")),
        early_stopping_short_by=_queries_short(v),
    )


def _queries_short(v: dict[str, object]) -> int | None:
    """The most further queries LoadGen's early-stopping results ask for, if any."""
    needs = [int(m.group(1)) for k in ("early_stopping_ttft_result", "early_stopping_tpot_result",
                                       "early_stopping_result")
             if (m := re.search(r"at least (\d+) more queries", str(v.get(k) or "")))]
    return max(needs) if needs else None
