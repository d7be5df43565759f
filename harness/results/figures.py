"""The reports' plots, drawn with matplotlib and returned as inline SVG text.

matplotlib rather than plotly: a static SVG needs no script, weighs tens of kilobytes instead
of plotly's 3.5 MB bundle in every report, opens offline in any browser and prints as it
shows. Dense per-sample scatters are rasterized inside the SVG so a 24,000-query run stays
small; axes and text stay vector.
"""

from __future__ import annotations

import io
import itertools
from typing import Sequence

import numpy as np
import pandas as pd

_ids = itertools.count()
LIMIT_COLOR = "#c0392b"
MARK_COLORS = {50: "#7f8c8d", 90: "#2980b9", 99: "#8e44ad"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.spines.top": False,
                         "axes.spines.right": False, "figure.dpi": 100})
    return plt


def _svg(fig) -> str:
    """The figure as SVG markup (ids salted so several figures can share one page)."""
    plt = _plt()
    plt.rcParams["svg.hashsalt"] = f"fig{next(_ids)}"
    out = io.StringIO()
    fig.tight_layout()
    fig.savefig(out, format="svg")
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float = 7.5, height: float = 3.0):
    return _plt().subplots(figsize=(width, height))


def _limit(ax, value: float | None, label: str, axis: str = "x") -> None:
    if value:
        line = ax.axvline if axis == "x" else ax.axhline
        line(value, color=LIMIT_COLOR, linestyle="--", linewidth=1.2, label=label)


def latency_cdf(values_ms: Sequence[float], title: str, limit_ms: float | None) -> str:
    """Cumulative distribution with p50/p90/p99 marked and the scenario's limit drawn."""
    values = np.sort(np.asarray(values_ms, dtype=float))
    fig, ax = _figure()
    ax.plot(values, np.arange(1, len(values) + 1) / len(values), color="#2c3e50", linewidth=1.4)
    for pct, color in MARK_COLORS.items():
        at = float(np.percentile(values, pct))
        ax.axvline(at, color=color, linewidth=0.9, linestyle=":",
                   label=f"p{pct} {at:,.1f} ms")
    _limit(ax, limit_ms, f"limit {limit_ms:,.0f} ms" if limit_ms else "")
    ax.set(title=title, xlabel="ms", ylabel="fraction of samples", ylim=(0, 1.02))
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def logged_percentiles(points: dict[str, float], title: str, limit_ms: float | None) -> str:
    """LoadGen's logged percentiles (all a LoadGen-only folder has of a distribution)."""
    fig, ax = _figure(7.5, 2.6)
    names = list(points)
    ax.bar(names, [points[n] for n in names], color="#2c3e50", width=0.5)
    for i, n in enumerate(names):
        ax.annotate(f"{points[n]:,.1f}", (i, points[n]), textcoords="offset points",
                    xytext=(0, 3), ha="center", fontsize=7)
    _limit(ax, limit_ms, f"limit {limit_ms:,.0f} ms" if limit_ms else "", axis="y")
    ax.set(title=title, xlabel="percentile", ylabel="ms")
    if limit_ms:
        ax.legend(loc="upper left", fontsize=8)
    return _svg(fig)


def latency_over_run(frame: pd.DataFrame, ttft_limit_ms: float | None) -> str:
    """Each sample's latency (and time to first token) against when it was issued."""
    fig, ax = _figure()
    latency = (frame["done_s"] - frame["issued_s"]) * 1e3
    ax.scatter(frame["issued_s"], latency, s=4, color="#2c3e50", alpha=0.6,
               label="latency (issue to last token)", rasterized=True)
    if frame["first_token_s"].notna().any():
        ttft = (frame["first_token_s"] - frame["issued_s"]) * 1e3
        ax.scatter(frame["issued_s"], ttft, s=4, color="#e67e22", alpha=0.6,
                   label="time to first token", rasterized=True)
        _limit(ax, ttft_limit_ms, f"TTFT limit {ttft_limit_ms:,.0f} ms" if ttft_limit_ms
               else "", axis="y")
    ax.set(title="Per-sample latency over the run", xlabel="issued at (s since the first issue)",
           ylabel="ms")
    ax.set_yscale("log")
    ax.legend(loc="upper left", fontsize=8, markerscale=3)
    return _svg(fig)


def _spread(frame: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """Output tokens per bucket with each answer's tokens spread evenly from its first token
    (or its issue, when none was reported) to its last: what the engine generated when."""
    start = frame["first_token_s"].fillna(frame["issued_s"]).to_numpy()
    end = np.maximum(frame["done_s"].to_numpy(), start + 1e-9)
    rate = frame["output_tokens"].to_numpy() / (end - start)
    lo, hi = edges[:-1, None], edges[1:, None]
    overlap = np.clip(np.minimum(hi, end) - np.maximum(lo, start), 0, None)
    return (overlap * rate).sum(axis=1)


def throughput_over_time(frame: pd.DataFrame) -> str:
    """Output tokens/s (samples/s when token counts are unknown) per time bucket: credited at
    each answer's completion (bars) and, with token counts, spread over its generation."""
    span = float(frame["done_s"].max())
    bucket = max(span / 60, 1e-3)
    edges = np.arange(0, span + bucket, bucket)
    tokens = frame["output_tokens"].notna().all()
    counts = frame["output_tokens"] if tokens else pd.Series(1.0, index=frame.index)
    done, _ = np.histogram(frame["done_s"], bins=edges, weights=counts)
    fig, ax = _figure(7.5, 2.6)
    what = "output tokens/s" if tokens else "samples/s"
    ax.bar(edges[:-1], done / bucket, width=bucket, align="edge", color="#16a085", alpha=0.7,
           label=f"completed {what} (at each answer's end)")
    if tokens:
        ax.plot(edges[:-1] + bucket / 2, _spread(frame, edges) / bucket, color="#2c3e50",
                linewidth=1.4, label="generated tokens/s (spread first to last token)")
    ax.set(title=f"{what.capitalize()} over the run ({bucket:,.3g} s buckets)",
           xlabel="s since the first issue", ylabel=what)
    ax.legend(loc="upper left", fontsize=8)
    return _svg(fig)


def in_flight_over_time(frame: pd.DataFrame) -> str:
    """Requests issued and not yet complete, at each issue and completion."""
    events = pd.concat([pd.Series(1, index=frame["issued_s"]),
                        pd.Series(-1, index=frame["done_s"])]).sort_index()
    fig, ax = _figure(7.5, 2.6)
    ax.step(events.index, events.cumsum().values, where="post", color="#8e44ad")
    ax.set(title="Requests in flight (issued, not yet complete)",
           xlabel="s since the first issue", ylabel="requests")
    return _svg(fig)


def output_lengths(lengths: np.ndarray, limit: int | None) -> str:
    fig, ax = _figure(7.5, 2.6)
    ax.hist(lengths, bins=min(64, max(8, int(lengths.max()) + 1)), color="#2980b9")
    _limit(ax, limit, f"max_new_tokens {limit}" if limit else "")
    ax.set(title=f"Output length ({len(lengths):,} answers, mean {lengths.mean():,.1f} tokens)",
           xlabel="output tokens", ylabel="answers")
    if limit:
        ax.legend(loc="upper left", fontsize=8)
    return _svg(fig)


def subject_bars(per_subject: dict[str, float]) -> str:
    """MMLU accuracy per subject, sorted, one bar each."""
    items = sorted(per_subject.items(), key=lambda kv: kv[1])
    fig, ax = _figure(7.5, max(2.0, 0.16 * len(items) + 0.8))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#2980b9")
    ax.set(title="MMLU accuracy by subject", xlabel="% correct", xlim=(0, 100))
    ax.tick_params(axis="y", labelsize=6)
    return _svg(fig)


def rate_latencies(rates: pd.DataFrame, ttft_limit_ms: float | None,
                   tpot_limit_ms: float | None) -> str:
    """TTFT p99 and TPOT p99 against the offered rate, VALID runs filled, INVALID hollow."""
    fig, axes = _plt().subplots(1, 2, figsize=(9, 3.2))
    for ax, column, limit, name in ((axes[0], "ttft_p99_ms", ttft_limit_ms, "TTFT p99"),
                                    (axes[1], "tpot_p99_ms", tpot_limit_ms, "TPOT p99")):
        ordered = rates.sort_values("target_qps")
        ax.plot(ordered["target_qps"], ordered[column], color="#7f8c8d", linewidth=0.8)
        for valid, style in ((True, {"color": "#27ae60"}),
                             (False, {"facecolors": "none", "edgecolors": "#c0392b"})):
            part = ordered[ordered["valid"] == valid]
            ax.scatter(part["target_qps"], part[column], s=36,
                       label="VALID" if valid else "INVALID", **style)
        _limit(ax, limit, f"limit {limit:,.0f} ms" if limit else "", axis="y")
        ax.set(title=f"{name} against target QPS", xlabel="target QPS", ylabel="ms")
        ax.legend(fontsize=8)
    return _svg(fig)


def frontier(rates: pd.DataFrame) -> str:
    """System output tokens/s against per-user tokens/s (1/TPOT p99), and against TTFT p99."""
    fig, axes = _plt().subplots(1, 2, figsize=(9, 3.4))
    ordered = rates.sort_values("target_qps")
    per_user = 1e3 / ordered["tpot_p99_ms"]
    for ax, x, label in ((axes[0], per_user, "per-user output tokens/s (1 / TPOT p99)"),
                         (axes[1], ordered["ttft_p99_ms"], "TTFT p99 (ms)")):
        ax.plot(x, ordered["tokens_per_second"], "o-", color="#2c3e50")
        for qps, xv, yv in zip(ordered["target_qps"], x, ordered["tokens_per_second"]):
            ax.annotate(f"{qps:g}", (xv, yv), textcoords="offset points", xytext=(4, 4),
                        fontsize=7)
        ax.set(xlabel=label, ylabel="system output tokens/s")
    axes[0].set_title("Throughput against interactivity (labels: target QPS)")
    axes[1].set_title("Throughput against time to first token")
    return _svg(fig)
