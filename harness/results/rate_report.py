"""Several LoadGen tests of one engine at different rates (find-qps probes, a sweep): their
table (rates.json, rates.csv) and report.html, with TTFT/TPOT p99 against the rate and the
throughput–interactivity frontier."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from harness.results import figures
from harness.results import html_page as h
from harness.results.summary import RunSummary
from harness.run.layout import RATES_CSV, RATES_JSON, REPORT_FILE
from harness.run.status import write_atomically


@dataclass(frozen=True)
class RatePoint:
    """One test at one target rate: LoadGen's verdict and figures."""

    qps: float
    valid: bool
    ttft_p99_ms: float | None
    tpot_p99_ms: float | None
    tokens_per_second: float | None
    reasons: tuple[str, ...]
    folder: str = ""  # the test's folder, relative to the search's
    samples_per_second: float | None = None
    too_short: bool = False  # INVALID only on early stopping's query count

    @classmethod
    def of(cls, summary: RunSummary, folder: Path) -> "RatePoint":
        return cls(summary.target_qps or 0.0, bool(summary.valid), summary.ttft_p99_ms,
                   summary.tpot_p99_ms, summary.tokens_per_second, summary.invalid_reasons,
                   folder.name, summary.samples_per_second, summary.too_short_only)

    def line(self) -> str:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:,.1f}"

        verdict = "VALID" if self.valid else "INVALID"
        why = f"  ({'; '.join(self.reasons)})" if self.reasons else ""
        tok = "-" if self.tokens_per_second is None else f"{self.tokens_per_second:,.0f}"
        return (f"QPS {self.qps:9.3f}  TTFT p99 {ms(self.ttft_p99_ms):>8} ms  "
                f"TPOT p99 {ms(self.tpot_p99_ms):>7} ms  {tok:>8} tok/s  {verdict}{why}")


@dataclass(frozen=True)
class RateRecord:
    """What rates.json holds: the kind of search, its scenario and limits, every point."""

    kind: str  # "find-qps" or "sweep"
    scenario: str
    ttft_limit_ms: float | None
    tpot_limit_ms: float | None
    points: tuple[RatePoint, ...]
    answer: float | None = None  # find-qps: the highest VALID rate
    notes: tuple[str, ...] = field(default=())


def frame(points: tuple[RatePoint, ...]) -> pd.DataFrame:
    rows = [{"target_qps": p.qps, "valid": p.valid, "tokens_per_second": p.tokens_per_second,
             "samples_per_second": p.samples_per_second, "ttft_p99_ms": p.ttft_p99_ms,
             "tpot_p99_ms": p.tpot_p99_ms,
             "per_user_tokens_per_second": 1e3 / p.tpot_p99_ms if p.tpot_p99_ms else None,
             "too_short": p.too_short, "reasons": "; ".join(p.reasons), "folder": p.folder}
            for p in points]
    return pd.DataFrame(rows)


def write_rates(root: Path, record: RateRecord) -> Path:
    """rates.json, rates.csv and report.html in root; returns the report's path."""
    data = asdict(record)
    write_atomically(root / RATES_JSON, json.dumps(data, indent=1) + "\n")
    write_atomically(root / RATES_CSV, frame(record.points).to_csv(index=False))
    return write_rate_report(root)


def read_rates(root: Path) -> RateRecord:
    data = json.loads((root / RATES_JSON).read_text())
    points = tuple(RatePoint(**{**p, "reasons": tuple(p["reasons"])}) for p in data["points"])
    return RateRecord(data["kind"], data["scenario"], data["ttft_limit_ms"],
                      data["tpot_limit_ms"], points, data.get("answer"),
                      tuple(data.get("notes", ())))


def render_rate_report(record: RateRecord, root: Path) -> str:
    table = frame(record.points)
    if record.kind == "find-qps":
        title = f"find-qps, {record.scenario}"
        verdict = (h.banner("ok", f"Highest VALID target QPS: {record.answer:g}")
                   if record.answer is not None else
                   h.banner("bad", "No probe was VALID"))
    else:
        title = f"Sweep, {record.scenario}"
        verdict = h.banner("info", f"{len(table)} rates, {int(table['valid'].sum())} VALID")
    parts = [verdict, h.key_values([("folder", root), ("scenario", record.scenario),
                                    ("TTFT p99 limit", f"{record.ttft_limit_ms:,.0f} ms"
                                     if record.ttft_limit_ms else "-"),
                                    ("TPOT p99 limit", f"{record.tpot_limit_ms:,.0f} ms"
                                     if record.tpot_limit_ms else "-")])]
    parts += [h.note(n) for n in record.notes]
    shown = table.drop(columns=["folder"]).round(
        {"tokens_per_second": 1, "samples_per_second": 3, "ttft_p99_ms": 1, "tpot_p99_ms": 2,
         "per_user_tokens_per_second": 1}).rename(columns={
        "target_qps": "target QPS", "tokens_per_second": "tokens/s",
        "samples_per_second": "samples/s", "ttft_p99_ms": "TTFT p99 ms",
        "tpot_p99_ms": "TPOT p99 ms", "per_user_tokens_per_second": "per-user tok/s",
        "too_short": "too few queries only"})
    parts += [h.heading("Tests (LoadGen's figures)"), h.table(shown)]
    measured = table.dropna(subset=["ttft_p99_ms", "tpot_p99_ms", "tokens_per_second"])
    if len(measured):
        parts += [h.heading("Latency against rate"),
                  h.figure(figures.rate_latencies(measured, record.ttft_limit_ms,
                                                  record.tpot_limit_ms)),
                  h.heading("Throughput against interactivity"),
                  h.note("Each point is one LoadGen test: the system's output tokens/s against "
                         "what one user sees (1 / TPOT p99, and TTFT p99)."),
                  h.figure(figures.frontier(measured))]
    parts += [h.heading("Each test's report"),
              h.links([(f"{p.qps:g} QPS: {p.folder}", f"{p.folder}/{REPORT_FILE}")
                       for p in record.points if p.folder])]
    return h.page(title, parts)


def write_rate_report(root: Path, out: Path | None = None) -> Path:
    target = out or root / REPORT_FILE
    target.write_text(render_rate_report(read_rates(root), root))
    return target
