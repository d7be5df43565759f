"""LoadGen's own mlperf_log_summary.txt, read as {label: value}: what a test compares the
harness's figures with (the harness itself reads mlperf_log_detail.txt, never this file)."""

from __future__ import annotations

from pathlib import Path


def loadgen_summary(run_dir: Path, name: str = "mlperf_log_summary.txt") -> dict[str, float | str]:
    """Each 'label : value' line of LoadGen's summary (e.g. "Tokens per second",
    "Mean First Token latency (ns)"); numbers as floats, other values as text."""
    values: dict[str, float | str] = {}
    for line in (run_dir / name).read_text().splitlines():
        label, sep, value = line.partition(":")
        if not sep or not label.strip() or label.lstrip().startswith("*"):
            continue
        value = value.strip()
        try:
            values[label.strip()] = float(value)
        except ValueError:
            values[label.strip()] = value
    return values
