"""The campaign: its plan, every run on one engine per scenario, packaging, and resuming
after a stop (finished runs kept, the rest completed, nothing finished lost)."""

import json
import signal

import pytest

from harness.run.loadgen import ExpectedTest, expected_test
from tests.conftest import REPO, run_cli
from tests.harness.submission.test_package import SYSTEM_YAML
from tests.harness_process import wait_until

SCENARIOS = ("Offline", "Server", "Interactive")
RUNS = [f"{s}/{k}" for s in SCENARIOS for k in ("performance", "accuracy", "TEST06")]


@pytest.fixture
def fast_conf(tmp_path):
    """The demo settings at a fake engine's pace: Server runs of 600 queries at 200 QPS,
    enough for LoadGen's early-stopping estimate when every query is fast (VALID)."""
    conf = tmp_path / "fast.conf"
    conf.write_text((REPO / "user.conf").read_text() + "".join(
        f"{m}.Server.{k} = {v}\n" for m in ("llama3_1-8b", "llama3_1-8b-interactive")
        for k, v in (("min_query_count", 600), ("target_qps", 200))))
    return conf


def _table(stdout: str) -> dict[str, tuple[str, str]]:
    """The final table: run -> (state, verdict)."""
    rows = {}
    for line in stdout.splitlines():
        name = line.split(" ", 1)[0]
        if name in RUNS:
            state, verdict = line[27:].split(None, 1)
            rows[name] = (state, verdict)
    return rows


def test_dry_run_prints_the_plan_from_loadgen_settings_and_writes_nothing(tmp_path, fast_conf):
    res = run_cli("campaign", "--dry-run", "--backend", "fake-oracle", "--user-conf",
                  str(fast_conf), "--output-dir", str(tmp_path / "runs"))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    # Server: 600 queries at 200 QPS; its TEST06 100 queries; accuracy the 32 samples
    assert "  Server/performance         about 0:00:03" in lines
    assert "  Server/TEST06              about 0:00:00" in lines
    assert "  3 engine start(s), about 0:01:00 each; expected total 0:03:" in res.stdout
    assert not (tmp_path / "runs").exists()


def test_expected_durations_follow_loadgen_rules():
    class Settings:
        min_query_count, min_duration_ms = 100, 600_000
        server_target_qps, offline_expected_qps = 50.0, 40.0
        sample_concatenate_permutation, performance_sample_count_override = True, 13368
        single_stream_expected_latency_ns = 2_000_000_000

    s = Settings()
    # 600 s at 50 QPS is 30,000 queries: LoadGen issues three whole sets of 13,368
    assert expected_test(s, "Server", 13368) == ExpectedTest(3 * 13368, 3 * 13368 / 50)
    assert expected_test(s, "Offline", 13368).seconds == 2 * 13368 / 40
    assert expected_test(s, "Offline", 13368, accuracy=True).seconds == 13368 / 40
    assert expected_test(s, "Server", 13368, audit=True) == ExpectedTest(100, 100 / 50)
    assert expected_test(s, "SingleStream", 5000) == ExpectedTest(300, 600)
    assert expected_test(s, "SingleStream", 5000, accuracy=True).seconds == 5000 * 2.0
    s.sample_concatenate_permutation = False
    assert expected_test(s, "Offline", 13368).seconds == 600  # min_duration


def test_campaign_stopped_then_resumed_keeps_what_finished(tmp_path, fast_conf,
                                                           start_harness):
    yaml = tmp_path / "system.yaml"
    yaml.write_text(SYSTEM_YAML)
    common = ("--backend", "fake-oracle", "--user-conf", str(fast_conf), "--org", "Org",
              "--system", "sys", "--system-yaml", str(yaml), "--out", str(tmp_path / "sub"))
    runs = tmp_path / "runs"
    h = start_harness(tmp_path, "campaign", *common)
    h.read_err_until("campaign: Server/accuracy")  # Offline done, Server's engine started
    offline = runs / "Offline" / "performance" / "run_1" / "mlperf_log_detail.txt"
    kept_mtime = offline.stat().st_mtime_ns
    server_perf = runs / "Server" / "performance" / "run_1" / "mlperf_log_summary.txt"
    wait_until("Server's performance summary", server_perf.is_file, 60, h.proc)
    h.proc.send_signal(signal.SIGINT)
    out, _ = h.proc.communicate(timeout=120)
    assert h.proc.returncode == 130
    first = _table(out)  # the table still comes, with what finished
    assert first["Offline/TEST06"][0] == "ran" and "Interactive/performance" not in first

    res = run_cli("campaign", *common, "--output-dir", str(runs), "--progress-interval", "0")
    assert res.returncode == 7, res.stderr[-3000:]  # a demo-sized tree is not submittable
    table = _table(res.stdout)
    assert list(table) == RUNS
    for run in ("Offline/performance", "Offline/accuracy", "Offline/TEST06",
                "Server/performance"):
        assert table[run][0] == "kept", (run, table[run])
    assert all(table[r][0] == "ran" for r in RUNS[4:]), table
    assert table["Server/performance"][1].startswith("VALID")
    assert offline.stat().st_mtime_ns == kept_mtime  # not run again, not touched
    assert res.stderr.count("campaign: ") == 5  # 9 runs, 4 kept
    assert res.stderr.count("backend ready") == 2  # Server (rest of it) and Interactive
    # the run the stop cut short was moved aside, never lost
    history = [p.name for p in (runs / "history").iterdir()]
    assert any(name.startswith("Server-accuracy-") for name in history), history
    # and the tree was packaged from all nine; its only problems are the demo's sizes
    problems = [ln for ln in res.stdout.splitlines() if ln.startswith("  submission: ")]
    assert problems and all(any(demo in p for demo in (
        "32 samples, not 13,368", "min_duration 0 ms", "count 32 <", "per query 32 <", "gen_len"))
        for p in problems), problems
    assert f"{len(problems)} problem(s) the checker would reject" in res.stdout
    assert (tmp_path / "sub" / "closed" / "Org" / "results" / "sys").is_dir()
    summary = json.loads((runs / "Interactive" / "accuracy" / "accuracy.json").read_text())
    assert summary["rouge1"] == pytest.approx(100.0)
    # a third time everything is kept; --redo runs one again
    res = run_cli("campaign", *common, "--output-dir", str(runs), "--progress-interval", "0",
                  "--redo", "Interactive/TEST06")
    assert res.returncode == 7, res.stderr[-3000:]
    table = _table(res.stdout)
    assert [r for r in RUNS if table[r][0] == "ran"] == ["Interactive/TEST06"]


def test_a_failed_run_stops_its_scenario_only(tmp_path, fast_conf):
    res = run_cli("campaign", "--scenarios", "Offline", "Server", "--backend", "fake-failing",
                  "--warmup", "0", "--user-conf", str(fast_conf), "--output-dir",
                  str(tmp_path / "runs"), "--progress-interval", "0")
    assert res.returncode == 5
    table = _table(res.stdout)
    for scenario in ("Offline", "Server"):  # each scenario: its first run fails, the rest wait
        assert table[f"{scenario}/performance"][0] == "FAILED"
        assert table[f"{scenario}/accuracy"] == ("skipped", f"{scenario}/performance failed")
    assert "Offline/performance FAILED: run FAILED: sample 1 failed" in res.stderr


@pytest.mark.slow
def test_the_demo_campaign_on_the_real_engine(tmp_path):
    """`make submission-runs` on the embedded default: nine runs on three vLLM engines (CPU),
    then a packaged tree (about 10 minutes on 2 cores)."""
    yaml = tmp_path / "system.yaml"
    yaml.write_text(SYSTEM_YAML)
    res = run_cli("campaign", "--output-dir", str(tmp_path / "runs"), "--progress-interval",
                  "0", "--org", "Org", "--system", "sys", "--system-yaml", str(yaml), "--out",
                  str(tmp_path / "sub"), timeout=1800)
    table = _table(res.stdout)
    assert list(table) == RUNS, res.stdout
    assert res.stderr.count("backend ready") == 3
    assert table["Offline/performance"][1].startswith("VALID")
    assert table["Server/performance"][1].startswith(("VALID", "INVALID"))
    for scenario in SCENARIOS:
        assert table[f"{scenario}/accuracy"][1].startswith("scored")
        assert table[f"{scenario}/TEST06"] == ("ran", "PASS")
    assert (tmp_path / "sub" / "closed" / "Org" / "results" / "sys").is_dir()
    assert res.returncode in (5, 7)  # the 2-core CPU misses Interactive's TPOT; demo sizes
