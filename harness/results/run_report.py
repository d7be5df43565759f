"""report.html for one LoadGen test folder: LoadGen's verdict and figures as it logged them,
the run's settings, and plots of what the data in the folder allows.

    python -m harness report RUN_DIR [--out FILE]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.results import figures
from harness.results import html_page as h
from harness.results.engine_report import render_engine
from harness.results.run_record import RunRecord, read_run_record
from harness.rules import MAX_NEW_TOKENS, TOKEN_LATENCY_LIMITS_MS, rouge_targets_for
from harness.run.layout import REPORT_FILE

MODE_WORDS = {"PerformanceOnly": "performance", "AccuracyOnly": "accuracy"}
PERCENTILES = ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")
# (label, LoadGen key, unit): the headline figures, in LoadGen's words
HEADLINE_KEYS = (
    ("result", "result_validity", ""),
    ("samples/s", "result_samples_per_second", ""),
    ("tokens/s", "result_tokens_per_second", ""),
    ("completed samples/s", "result_completed_samples_per_sec", ""),
    ("completed tokens/s", "result_completed_tokens_per_second", ""),
    ("scheduled samples/s", "result_scheduled_samples_per_sec", ""),
    ("target QPS", "effective_target_qps", ""),
    ("TTFT limit", "requested_server_ttft_latency", "ms"),
    ("TPOT limit", "requested_server_tpot_latency", "ms"),
    ("min duration", "effective_min_duration_ms", "s"),
    ("min query count", "effective_min_query_count", ""),
    ("queries", "result_query_count", ""),
    ("min duration met", "result_min_duration_met", ""),
    ("min queries met", "result_min_queries_met", ""),
    ("latency constraints met", "result_perf_constraints_met", ""),
    ("early stopping met", "early_stopping_met", ""),
    ("early stopping (TTFT)", "early_stopping_ttft_result", ""),
    ("early stopping (TPOT)", "early_stopping_tpot_result", ""),
    ("early stopping", "early_stopping_result", ""),
)


def _format(value: object, unit: str) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        if unit == "ms":
            return f"{value / 1e6:,.3f} ms"
        if unit == "s":
            return f"{value / 1e3:,.0f} s"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4f}"
    return " ".join(str(value).replace("*", " ").split())


def _label(rec: RunRecord) -> str:
    """The harness scenario: the record's, else Interactive told from its TTFT limit."""
    s = rec.summary
    if rec.config is None and s.scenario == "Server" and s.ttft_limit_ms == \
            TOKEN_LATENCY_LIMITS_MS["Interactive"][0]:
        return "Interactive"
    return s.label


def _verdict(rec: RunRecord) -> str:
    s = rec.summary
    if rec.failure:
        return h.banner("bad", "FAILED: not a result", [rec.failure])
    if s.valid is True:
        return h.banner("ok", "LoadGen: VALID")
    if s.valid is False:
        return h.banner("bad", "LoadGen: INVALID", s.invalid_reasons)
    return h.banner("info", "Accuracy run: LoadGen gives no performance verdict in this mode")


def _facts(rec: RunRecord) -> str:
    v, s, cfg = rec.detail.values, rec.summary, rec.config or {}
    rows = [("scenario", f"{_label(rec)} (LoadGen {s.scenario})"), ("mode", s.mode),
            ("folder", rec.log_dir), ("LoadGen", f"{s.loadgen_version}, test "
                                                 f"{v.get('test_datetime', '?')}")]
    if cfg:
        rows += [("model", cfg.get("model_dir")), ("dataset", cfg.get("dataset")),
                 ("backend", cfg.get("backend")),
                 ("engine flags", " ".join(cfg.get("engine_args") or ()) or "(defaults)")]
    rows += [("engine", render_engine(e)) for e in rec.engines]
    rows += [(f"replica {r.name}", f"{r.samples:,} samples, {r.output_tokens:,} tokens, "
                                   f"{r.tokens_per_s:,.1f} tok/s, {r.errors} errors")
             for r in rec.replicas]
    if not cfg:
        rows.append(("harness", "none recorded: a folder with LoadGen's logs only"))
    return h.key_values(rows)


def _loadgen_figures(rec: RunRecord) -> str:
    v = rec.detail.values
    rows = [(label, _format(v[key], unit), key) for label, key, unit in HEADLINE_KEYS
            if key in v and v[key] not in ("", None)]
    headline = pd.DataFrame(rows, columns=["figure", "value", "LoadGen key"])
    series = {"TTFT": "result_first_token_{}_percentile_latency_ns",
              "TPOT": "result_time_per_output_token_{}_percentile_ns",
              "latency": "result_{}_percentile_latency_ns"}
    pct_rows = []
    for pct in PERCENTILES:
        row = {"percentile": f"p{float(pct):g}"}
        for name, key in series.items():
            value = v.get(key.format(pct))
            if isinstance(value, (int, float)):
                row[f"{name} (ms)"] = f"{value / 1e6:,.3f}"
        if len(row) > 1:
            pct_rows.append(row)
    parts = [h.heading("LoadGen's figures"), h.table(headline)]
    if pct_rows:
        parts.append(h.table(pd.DataFrame(pct_rows)))
    if rec.detail.errors or rec.detail.warnings:
        parts.append(h.banner("warn", "LoadGen's errors and warnings",
                              rec.detail.errors + rec.detail.warnings))
    if rec.summary_text:
        parts.append(h.preformatted("mlperf_log_summary.txt", rec.summary_text))
    return "".join(parts)


def _sample_plots(rec: RunRecord) -> list[str]:
    s, table = rec.summary, rec.samples
    frame = table.frame
    parts = [h.heading("Per-sample timings"),
             h.note(f"From {table.source}: {len(frame):,} completed samples. The official "
                    f"percentiles are LoadGen's, above; these plots show where they come from.")]
    first = frame["first_token_s"]
    if first.notna().any():
        ttft = ((first - frame["issued_s"]) * 1e3).dropna()
        parts.append(h.figure(figures.latency_cdf(ttft, "Time to first token (TTFT)",
                                                  s.ttft_limit_ms)))
        long = frame[first.notna() & (frame["output_tokens"] > 1)]
        if len(long):
            tpot = (long["done_s"] - long["first_token_s"]) / (long["output_tokens"] - 1) * 1e3
            parts.append(h.figure(figures.latency_cdf(tpot, "Time per output token (TPOT)",
                                                      s.tpot_limit_ms)))
    else:
        latency = (frame["done_s"] - frame["issued_s"]) * 1e3
        parts.append(h.figure(figures.latency_cdf(latency, "Sample latency (issue to last token)",
                                                  None)))
    parts.append(h.figure(figures.latency_over_run(frame, s.ttft_limit_ms)))
    parts.append(h.figure(figures.throughput_over_time(frame)))
    if s.scenario == "Server":
        parts.append(h.figure(figures.in_flight_over_time(frame)))
    return parts


def _percentile_plots(rec: RunRecord) -> list[str]:
    v, s = rec.detail.values, rec.summary
    parts = []
    for title, key, limit in (
            ("Time to first token (LoadGen's percentiles)",
             "result_first_token_{}_percentile_latency_ns", s.ttft_limit_ms),
            ("Time per output token (LoadGen's percentiles)",
             "result_time_per_output_token_{}_percentile_ns", s.tpot_limit_ms),
            ("Sample latency (LoadGen's percentiles)", "result_{}_percentile_latency_ns", None)):
        points = {f"p{float(p):g}": v[key.format(p)] / 1e6 for p in PERCENTILES
                  if isinstance(v.get(key.format(p)), (int, float))}
        if len(points) > 1:
            parts.append(h.figure(figures.logged_percentiles(points, title, limit)))
    if not parts:
        return []
    return [h.heading("Latency distribution"),
            h.note("No per-sample timings in this folder (neither the harness's record nor "
                   "LoadGen's trace): LoadGen's logged percentiles only.")] + parts


def _accuracy(rec: RunRecord) -> list[str]:
    parts = []
    if rec.rouge:
        targets = rouge_targets_for(int(rec.rouge.get("gen_num", 0)))
        rows = []
        for name in ("rouge1", "rouge2", "rougeL", "rougeLsum", "gen_len", "gen_num"):
            value = rec.rouge.get(name)
            target = next((t for t in targets.targets if t.metric == name), None) \
                if targets else None
            rows.append({"metric": name, "value": value,
                         "target": target.describe() if target else "-",
                         "verdict": ("PASS" if target.passes(float(value)) else "FAIL")
                         if target and value is not None else "-"})
        parts += [h.heading("Accuracy (ROUGE)"), h.table(pd.DataFrame(rows))]
        if targets is None:
            parts.append(h.note(f"{rec.rouge.get('gen_num')} samples scored: no MLPerf target "
                                f"set has that size (13,368 datacenter, 5,000 edge)."))
    if rec.mmlu:
        cats = rec.mmlu.get("per_category", {})
        parts += [h.heading(f"MMLU: micro {rec.mmlu.get('micro_accuracy', 0):.2f} %, macro "
                            f"{rec.mmlu.get('macro_accuracy', 0):.2f} %"),
                  h.table(pd.DataFrame([{"category": c, "accuracy %": v.get("accuracy"),
                                         "correct": v.get("correct"), "total": v.get("total")}
                                        for c, v in cats.items()]))]
        subjects = {k: float(v.get("accuracy", 0))
                    for k, v in rec.mmlu.get("per_subject", {}).items()}
        if subjects:
            parts.append(h.figure(figures.subject_bars(subjects)))
        unparsed = rec.mmlu.get("unparsed", {})
        if unparsed.get("examples"):
            parts += [h.note(f"{unparsed.get('count', 0):,} answers named no choice (scored "
                             f"wrong); the first {len(unparsed['examples'])}:"),
                      h.table(pd.DataFrame(unparsed["examples"]))]
    if rec.output_lengths is not None and len(rec.output_lengths):
        limit = (rec.config or {}).get("max_new_tokens", MAX_NEW_TOKENS)
        parts += [h.heading("Output lengths"),
                  h.figure(figures.output_lengths(np.asarray(rec.output_lengths), limit))]
    return parts


def render_run_report(rec: RunRecord) -> str:
    s = rec.summary
    state = "FAILED" if rec.failure else (s.validity or "scored below")
    parts = [_verdict(rec), _facts(rec), _loadgen_figures(rec)]
    parts += _sample_plots(rec) if rec.samples else _percentile_plots(rec)
    parts += _accuracy(rec)
    mode = MODE_WORDS.get(s.mode, s.mode)
    return h.page(f"{_label(rec)} {mode} run: {state}", parts)


def write_run_report(log_dir: Path, out: Path | None = None) -> Path:
    """Write the report of the test in log_dir (to out, default log_dir/report.html)."""
    target = out or log_dir / REPORT_FILE
    target.write_text(render_run_report(read_run_record(log_dir)))
    return target
