"""Server, Interactive and SingleStream through the real CLI and real LoadGen, with fakes."""

import json

import numpy as np
import pytest

from harness.results.summary import parse_run
from tests.conftest import REPO, run_cli

QUIET = ("--progress-interval", "0")


@pytest.fixture
def short_conf(tmp_path):
    """The project's user.conf, then 48 queries at 16 QPS for Server and Interactive (short,
    too few for early stopping: these tests look at latencies, not verdicts)."""
    conf = tmp_path / "short.conf"
    conf.write_text((REPO / "user.conf").read_text() + "".join(
        f"{m}.Server.{k} = {v}\n" for m in ("llama3_1-8b", "llama3_1-8b-interactive")
        for k, v in (("min_query_count", 48), ("target_qps", 16))))
    return str(conf)


@pytest.mark.parametrize("scenario", ["Server", "Interactive", "SingleStream"])
def test_oracle_streams_first_tokens_and_scores_100(tmp_path, scenario):
    res = run_cli("run-accuracy", "--scenario", scenario, "--backend", "fake-oracle",
                  "--output-dir", str(tmp_path), *QUIET)
    assert res.returncode == 0, res.stderr
    acc_dir = tmp_path / scenario / "accuracy"
    scores = json.loads((acc_dir / "accuracy.json").read_text())
    assert scores["rouge1"] == pytest.approx(100.0) and scores["gen_num"] == 32
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == list(range(32))  # each sample completed once
    for e in log:
        data = np.frombuffer(bytes.fromhex(e["data"]), np.int32)
        first = np.frombuffer(bytes.fromhex(e["token_data"]), np.int32)
        assert first.size >= 1 and (data[:first.size] == first).all()  # what TEST06 checks
        assert int(e["token_count"]) == data.size


def test_latency_fake_percentiles_reported_as_configured(tmp_path, short_conf):
    res = run_cli("run-server", "--backend", "fake-latency", "--fake-ttft-ms", "50",
                  "--fake-itl-ms", "5", "--user-conf", short_conf, "--output-dir", str(tmp_path),
                  *QUIET)
    assert res.returncode == 0, res.stderr
    s = parse_run(tmp_path / "Server" / "performance" / "run_1")
    assert 50 <= s.ttft_p99_ms < 65
    assert 5 <= s.tpot_p99_ms < 6.5
    assert s.ttft_limit_ms == 2000 and s.tpot_limit_ms == 100
    assert "TTFT p99" in res.stdout and "(limit 2,000 ms)" in res.stdout


def test_interactive_uses_its_own_model_name_limits_and_folder(tmp_path, short_conf):
    res = run_cli("run-interactive", "--backend", "fake-latency", "--fake-ttft-ms", "10",
                  "--fake-itl-ms", "1", "--user-conf", short_conf, "--output-dir", str(tmp_path),
                  *QUIET)
    assert res.returncode == 0, res.stderr
    s = parse_run(tmp_path / "Interactive" / "performance" / "run_1", "Interactive")
    assert (s.ttft_limit_ms, s.tpot_limit_ms) == (500, 30)
    assert "LoadGen Interactive (Server) PerformanceOnly" in res.stdout
    assert "llama3_1-8b-interactive" in res.stderr


def test_singlestream_reports_p90_latency(tmp_path):
    res = run_cli("run-singlestream", "--backend", "fake-latency", "--fake-ttft-ms", "5",
                  "--fake-itl-ms", "10", "--fake-output-tokens", "8", "--output-dir",
                  str(tmp_path), *QUIET)
    assert res.returncode == 0, res.stderr
    s = parse_run(tmp_path / "SingleStream" / "performance" / "run_1")
    assert s.valid is True
    assert 5 + 7 * 10 <= s.latency_p90_ms < 110
