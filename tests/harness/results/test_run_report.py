"""report.html: from the harness's own runs (its per-sample timings), and from folders with
LoadGen's logs only (another harness's), with and without LoadGen's trace."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from harness.results.sample_timings import load_sample_timings
from harness.results.summary import read_detail_log
from tests.conftest import run_cli
from tests.harness.results.conftest import run_fake_server
from tests.loadgen_summary import loadgen_summary

# A LoadGen test another harness might run: a SUT that answers each query on a thread after
# a few ms with three tokens (the first reported early), trace on. Real LoadGen throughout.
OTHER_HARNESS = """
import array, sys, threading, time
import mlperf_loadgen as lg

def issue(queries):
    def answer():
        time.sleep(0.004)
        for q in queries:
            data = array.array("i", [11, 12, 13])
            ptr, n = data.buffer_info()
            lg.FirstTokenComplete([lg.QuerySampleResponse(q.id, ptr, 4, 1)])
            time.sleep(0.002)
            lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, ptr, n * 4, n)])
    threading.Thread(target=answer).start()

sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(16, 16, lambda s: None, lambda s: None)
settings = lg.TestSettings()
settings.scenario = lg.TestScenario.Server
settings.mode = lg.TestMode.PerformanceOnly
settings.server_target_qps = 200
settings.min_duration_ms = 500
settings.min_query_count = 200
settings.use_token_latencies = True
log = lg.LogSettings()
log.log_output.outdir = sys.argv[1]
log.enable_trace = True
lg.StartTestWithLogSettings(sut, qsl, settings, log)
"""


@pytest.fixture(scope="module")
def other_harness_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other")
    res = subprocess.run([sys.executable, "-c", OTHER_HARNESS, str(folder)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return folder


def _svgs(page: str) -> int:
    return page.count("<svg")


def test_server_report_plots_the_harness_timings(tmp_path):
    res = run_fake_server(tmp_path)
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "runs" / "Server" / "performance" / "run_1"
    assert f"report: {run_dir / 'report.html'}" in res.stderr
    # one row per sample LoadGen counted, each with its first token and 16 tokens
    timings = pd.read_csv(run_dir / "harness_samples.csv")
    lg = loadgen_summary(run_dir)
    assert len(timings) == _queries(run_dir)
    assert (timings["output_tokens"] == 16).all() and timings["first_token_s"].notna().all()
    # the harness's own TTFT p99 is LoadGen's, give or take the callbacks' few ms
    ttft = (timings["first_token_s"] - timings["issued_s"]) * 1e3
    loadgen_p99 = lg["99.00 percentile first token latency (ns)"] / 1e6
    assert abs(np.percentile(ttft, 99) - loadgen_p99) < max(5.0, 0.1 * loadgen_p99)
    page = (run_dir / "report.html").read_text()
    verdict = lg["Result is"]
    assert f"<title>Server performance run: {verdict}</title>" in page
    assert f"LoadGen: {verdict}" in page
    assert f"From the harness&#x27;s per-sample timings: {len(timings):,} completed" in page
    # TTFT and TPOT CDFs, latency over the run, tokens/s over time, requests in flight
    assert _svgs(page) == 5 and "Requests in flight" in page
    assert "<script" not in page and "http://" not in page.split("<svg", 1)[0]


def _queries(run_dir) -> int:
    return read_detail_log(run_dir / "mlperf_log_detail.txt").values["result_query_count"]


def test_report_of_a_folder_with_loadgen_logs_only(other_harness_run, tmp_path):
    res = run_cli("report", str(other_harness_run), "--out", str(tmp_path / "r.html"))
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "r.html").read_text()
    assert "none recorded: a folder with LoadGen&#x27;s logs only" in page
    assert f"From LoadGen&#x27;s trace (no token counts: samples only): " \
           f"{_queries(other_harness_run):,} completed samples" in page
    assert _svgs(page) == 4  # TTFT CDF, latency over the run, samples/s, in flight
    assert "Time per output token" not in page  # no token counts in a trace


def test_trace_timings_agree_with_loadgen_percentiles(other_harness_run):
    table = load_sample_timings(other_harness_run)
    values = read_detail_log(other_harness_run / "mlperf_log_detail.txt").values
    assert len(table.frame) == values["result_query_count"]
    latency_ms = (table.frame["done_s"] - table.frame["issued_s"]) * 1e3
    ttft_ms = (table.frame["first_token_s"] - table.frame["issued_s"]) * 1e3
    for series, key in ((latency_ms, "result_50.00_percentile_latency_ns"),
                        (ttft_ms, "result_first_token_50.00_percentile_latency_ns")):
        assert np.percentile(series, 50) == pytest.approx(values[key] / 1e6, rel=0.02), key
    # issued at the Server schedule's pace: about min_query_count / target_qps seconds
    span = table.frame["issued_s"].max()
    assert 0.5 * values["result_query_count"] / 200 < span < 2 * max(
        0.5, values["result_query_count"] / 200)


def test_without_a_trace_the_report_draws_loadgen_percentiles(other_harness_run, tmp_path):
    folder = tmp_path / "no-trace"
    folder.mkdir()
    for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt"):
        (folder / name).write_bytes((other_harness_run / name).read_bytes())
    res = run_cli("report", str(folder))
    assert res.returncode == 0, res.stderr
    page = (folder / "report.html").read_text()
    assert "LoadGen&#x27;s logged percentiles only" in page
    assert _svgs(page) == 3  # TTFT, TPOT, latency
    p99 = read_detail_log(folder / "mlperf_log_detail.txt").values[
        "result_first_token_99.00_percentile_latency_ns"] / 1e6
    assert f"{p99:,.3f}" in page  # LoadGen's figure, as it logged it


def test_report_verb_errors_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    res = run_cli("report", str(tmp_path / "empty"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (f"error: {tmp_path / 'empty'} holds no LoadGen logs "
                                  f"(mlperf_log_detail.txt) and no find-qps or sweep table: "
                                  f"nothing to report")
    res = run_cli("report", str(tmp_path / "missing"))
    assert res.returncode == 2 and "is not a folder" in res.stderr


def test_report_verb_writes_every_run_below_a_root(tmp_path, other_harness_run):
    for name in ("a", "b"):
        (tmp_path / "root" / name).mkdir(parents=True)
        for log in ("mlperf_log_detail.txt", "mlperf_log_summary.txt"):
            (tmp_path / "root" / name / log).write_bytes((other_harness_run / log).read_bytes())
    res = run_cli("report", str(tmp_path / "root"))
    assert res.returncode == 0, res.stderr
    assert re.findall(r"report: (\S+)", res.stdout) == [
        str(tmp_path / "root" / n / "report.html") for n in ("a", "b")]
    res = run_cli("report", str(tmp_path / "root"), "--out", str(tmp_path / "x.html"))
    assert res.returncode == 2 and "holds 2 runs; --out names one file" in res.stderr
