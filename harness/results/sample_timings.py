"""Per-sample timings of one LoadGen test, for its report: the harness's own record
(harness_samples.csv, written at the end of every test it runs) or, for a folder another
harness made, LoadGen's trace (mlperf_log_trace.json, when that harness enabled it).

Either way a table with one row per completed sample and seconds since the first issue:
    issued_s, first_token_s (NaN: none reported), done_s, output_tokens (NaN: unknown)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.run.layout import SAMPLES_FILE, TRACE_LOG
from harness.run.status import write_atomically
from sut.progress import RunProgress

COLUMNS = ("qsl_idx", "issued_s", "first_token_s", "done_s", "output_tokens")


def write_sample_timings(log_dir: Path, progress: RunProgress) -> None:
    """Every completed sample's timing, relative to the test's first issue."""
    start = progress.started_ns
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for t in progress.timings:
        first = f"{(t.first_ns - start) / 1e9:.6f}" if t.first_ns else ""
        writer.writerow((t.qsl_index, f"{(t.issued_ns - start) / 1e9:.6f}", first,
                         f"{(t.done_ns - start) / 1e9:.6f}", t.output_tokens))
    write_atomically(log_dir / SAMPLES_FILE, out.getvalue())


@dataclass(frozen=True)
class SampleTable:
    """The per-sample table and where it came from (said in the report)."""

    frame: pd.DataFrame
    source: str


def load_sample_timings(log_dir: Path, prefix: str = "") -> SampleTable | None:
    """The harness's record, else LoadGen's trace (`prefix`: FAILED- for a failed run's
    renamed logs); None when neither holds a completed sample."""
    own = log_dir / SAMPLES_FILE
    if own.is_file():
        frame = pd.read_csv(own)
        if list(frame.columns) == list(COLUMNS) and len(frame):
            return SampleTable(frame, "the harness's per-sample timings")
    trace = log_dir / f"{prefix}{TRACE_LOG}"
    if trace.is_file() and trace.stat().st_size:
        frame = _from_trace(trace)
        if len(frame):
            return SampleTable(frame, "LoadGen's trace (no token counts: samples only)")
    return None


def _from_trace(path: Path) -> pd.DataFrame:
    """LoadGen's trace, one event a line (not strict JSON as a whole): each sample's "Sample"
    begin event is stamped (ts, µs) when it was issued and carries its latency (complete_ns);
    its first token's latency is the "Token_Latency" counter stamped with the same ts."""
    samples, first_by_ts = [], {}
    for line in path.read_text(errors="replace").splitlines():
        if '"Sample"' not in line and '"Token_Latency"' not in line:
            continue
        try:
            event = json.loads(line.rstrip().rstrip(","))
        except json.JSONDecodeError:
            continue
        args = event.get("args") or {}
        if event.get("name") == "Sample" and event.get("ph") == "b":
            samples.append((event.get("ts"), args.get("sample_idx"), args.get("complete_ns")))
        elif event.get("name") == "Token_Latency":
            first_by_ts.setdefault(event.get("ts"), []).append(args.get("issue_to_done"))
    rows = []
    for ts, index, latency_ns in samples:
        if not isinstance(ts, (int, float)) or not isinstance(latency_ns, int):
            continue
        firsts = first_by_ts.get(ts)
        first_ns = firsts.pop(0) if firsts else None
        issued = ts / 1e6
        rows.append((index, issued, None if first_ns is None else issued + first_ns / 1e9,
                     issued + latency_ns / 1e9, None))
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=float)
    if len(frame):
        start = frame["issued_s"].min()
        for column in ("issued_s", "first_token_s", "done_s"):
            frame[column] -= start
    return frame
