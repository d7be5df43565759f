"""The QPS finder: the search on a pure fake, and end to end on a fake with a known capacity."""

import json
import math

import pytest

from harness.results.rate_report import RatePoint
from harness.results.summary import read_detail_log
from harness.rules import SCENARIO_SPECS
from harness.run.find_qps import probes_to_resolve, search, write_target_qps
from harness.run.userconf import load_user_conf
from tests.conftest import REPO, run_cli

SEARCH_TOLERANCE = 0.03  # the end-to-end test's --resolution


def _oracle(capacity):
    def run(qps):
        return RatePoint(qps, qps <= capacity, None, None, None, ())
    return run


@pytest.mark.parametrize("start", [5.0, 30.0, 37.5, 60.0, 400.0])
def test_search_converges_below_capacity_in_few_probes(start):
    result = search(_oracle(37.5), start, tolerance=0.03, max_probes=12)
    assert result.best is not None
    assert 37.5 * 0.97 <= result.best.qps <= 37.5
    higher = [p.qps for p in result.probes if not p.valid]
    assert higher and min(higher) > 37.5  # the bracket's top was really invalid
    # it stopped because the bracket closed to the tolerance, before the probe limit
    assert (min(higher) - result.best.qps) / result.best.qps <= 0.03
    assert len(result.probes) < 12


@pytest.mark.parametrize("ceiling", [38.0, 45.0])
def test_search_steps_up_no_further_than_the_measured_capacity_first(ceiling):
    result = search(_oracle(37.5), 30.0, tolerance=0.03, max_probes=12, ceiling=ceiling)
    assert [p.qps for p in result.probes[:3]] == [30.0, 37.5, ceiling]
    assert 37.5 * 0.97 <= result.best.qps <= 37.5
    unbounded = search(_oracle(37.5), 30.0, tolerance=0.03, max_probes=12)
    assert max(p.qps for p in unbounded.probes) > 45.0  # what the ceiling saves


def test_search_grows_past_an_underestimated_capacity():
    result = search(_oracle(60.0), 30.0, tolerance=0.03, max_probes=12, ceiling=35.0)
    assert [p.qps for p in result.probes[:2]] == [30.0, 35.0]
    assert 60.0 * 0.97 <= result.best.qps <= 60.0


@pytest.mark.parametrize("tolerance", [0.03, 0.01, 0.003])
def test_the_stated_bisection_count_is_what_the_search_spends(tolerance):
    """Bracketed within one 1.25 step, bisection to `tolerance` takes the stated probes."""
    capacity = 37.5
    result = search(_oracle(capacity), 36.0, tolerance=tolerance, max_probes=40)
    bracketing = 2  # 36 (valid) then 45 (invalid)
    assert [p.valid for p in result.probes[:bracketing]] == [True, False]
    assert len(result.probes) - bracketing <= probes_to_resolve(1.25, tolerance)
    higher = min(p.qps for p in result.probes if not p.valid)
    assert (higher - result.best.qps) / result.best.qps <= tolerance


def test_search_reports_nothing_valid():
    result = search(_oracle(0.001), 10.0, max_probes=5)
    assert result.best is None and len(result.probes) == 5


def test_write_target_qps_replaces_or_adds_in_the_right_section(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text((REPO / "user.conf").read_text())
    spec = SCENARIO_SPECS["Interactive"]
    write_target_qps(conf, spec, 12.3456, demo=False)
    write_target_qps(conf, SCENARIO_SPECS["Server"], 31.5, demo=False)
    write_target_qps(conf, SCENARIO_SPECS["Server"], 2.5, demo=True)
    real = load_user_conf(conf, demo=False).text
    demo = load_user_conf(conf, demo=True).text
    assert "llama3_1-8b-interactive.Server.target_qps = 12.346" in real
    assert "llama3_1-8b.Server.target_qps = 31.500" in real
    assert "llama3_1-8b.Server.target_qps = 2.500" not in real
    assert "llama3_1-8b.Server.target_qps = 2.500" in demo
    assert "llama3_1-8b.Server.target_qps = 3\n" not in demo  # the demo line was replaced
    write_target_qps(conf, SCENARIO_SPECS["Server"], 33.0, demo=False)
    assert load_user_conf(conf, demo=False).text.count("llama3_1-8b.Server.target_qps") == 1


def test_find_qps_end_to_end_on_a_fake_with_known_capacity(tmp_path):
    # 2 slots, each busy 5 ms + 15 x 1 ms = 20 ms: at most 100 samples/s (less with timer
    # overheads). TTFT limit 100 ms: queueing past capacity breaks it quickly.
    slots, ttft_ms, itl_ms, tokens = 2, 5, 1, 16
    capacity = slots / ((ttft_ms + (tokens - 1) * itl_ms) / 1000)
    conf = tmp_path / "user.conf"
    conf.write_text((REPO / "user.conf").read_text() + "llama3_1-8b.Server.ttft_latency = 100\n")
    res = run_cli("find-qps", "--backend", "fake-latency", "--fake-ttft-ms", str(ttft_ms),
                  "--fake-itl-ms", str(itl_ms), "--fake-output-tokens", str(tokens),
                  "--fake-slots", str(slots), "--probe-duration", "5", "--probe-min-queries",
                  "500", "--user-conf", str(conf), "--output-dir", str(tmp_path / "runs"),
                  "--progress-interval", "0", "--write", "--resolution", str(SEARCH_TOLERANCE))
    assert res.returncode == 0, res.stderr
    probes = [ln for ln in res.stdout.splitlines() if ln.startswith("probe QPS")]
    valid = [float(p.split()[2]) for p in probes if p.endswith(" VALID")]
    invalid = [float(p.split()[2]) for p in probes if " INVALID" in p]
    assert len(valid) + len(invalid) == len(probes) and valid and invalid, probes
    # the answer is LoadGen's highest VALID probe, and the search closed its bracket
    best = float(res.stdout.split("highest VALID target QPS for Server: ")[1].split()[0])
    assert best == max(valid) and min(invalid) > best
    assert (min(invalid) - best) / best <= SEARCH_TOLERANCE + 1e-4, probes
    # no rate above the fake's capacity holds, nor above what the harness measured of it
    # (with every request at once); the answer is well above half of that
    measured = float(res.stderr.split("engine capacity with every request at once: ")[1]
                     .split()[0].replace(",", ""))
    assert measured <= capacity and measured / 2 <= best <= capacity, (measured, best)
    assert f"llama3_1-8b.Server.target_qps = {best:.3f}" in load_user_conf(conf, demo=True).text
    # the probes' table and report: one row per LoadGen test, the answer marked
    root = next((tmp_path / "runs" / "find-qps").iterdir())
    rates = json.loads((root / "rates.json").read_text())
    assert [p["qps"] for p in rates["points"]] == pytest.approx(
        [float(p.split()[2]) for p in probes], abs=1e-3)
    assert rates["answer"] == pytest.approx(best, abs=1e-3)
    assert rates["ttft_limit_ms"] == 100
    page = (root / "report.html").read_text()
    assert f"Highest VALID target QPS: {rates['answer']:g}" in page
    assert page.count("<svg") == 2 and "<script" not in page
    assert all((root / p["folder"] / "report.html").is_file() for p in rates["points"])


def test_a_probe_too_short_for_early_stopping_runs_again_longer(tmp_path):
    """100 queries at 50 QPS hold every limit, but LoadGen's p99 estimate needs ~460: the
    probe is run again with the count LoadGen asks for, not taken as an INVALID rate."""
    res = run_cli("find-qps", "--backend", "fake-latency", "--fake-ttft-ms", "2",
                  "--fake-output-tokens", "4", "--start-qps", "50", "--max-probes", "1",
                  "--probe-duration", "1", "--probe-min-queries", "100",
                  "--output-dir", str(tmp_path / "runs"), "--progress-interval", "0")
    assert res.returncode == 0, res.stderr
    probes = [ln for ln in res.stdout.splitlines() if ln.startswith("probe QPS")]
    assert len(probes) == 2 and "INVALID" in probes[0] and probes[1].endswith(" VALID")
    assert "early stopping not met" in probes[0]
    root = next((tmp_path / "runs" / "find-qps").iterdir())
    rates = json.loads((root / "rates.json").read_text())
    first, second = rates["points"]
    assert first["too_short"] and not second["too_short"] and first["qps"] == second["qps"]
    asked = int(first["reasons"][0].split("at least ")[1].split()[0])
    ran = int(first["reasons"][0].split("Processed ")[1].split()[0])
    rerun = read_detail_log(root / second["folder"] / "mlperf_log_detail.txt").values
    assert rerun["effective_min_query_count"] == math.ceil(1.1 * (ran + asked))
    assert f"run again with {math.ceil(1.1 * (ran + asked)):,} queries" in rates["notes"][0]
    assert "highest VALID target QPS for Server: 50.000" in res.stdout
