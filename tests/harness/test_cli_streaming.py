"""Server, Interactive and SingleStream through the real CLI and real LoadGen, with fakes."""

import json

import numpy as np
import pytest

from harness.results.summary import parse_run
from harness.rules import LOADGEN_MODEL_INTERACTIVE, TOKEN_LATENCY_LIMITS_MS
from tests.conftest import REPO, run_cli
from tests.loadgen_summary import loadgen_summary

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
        # the oracle streams one token per chunk: the first chunk was reported as it came,
        # not the whole answer at its end
        assert first.tolist() == data[:1].tolist()
        assert int(e["token_count"]) == data.size


def _assert_streamed_as_shaped(run_dir, tokens, ttft_ms, itl_ms):
    """LoadGen's own figures (its summary) for a fake-latency run, held against the fake's
    shape (sleeps only ever last longer, so its TTFT and ITL are lower bounds); returns
    (LoadGen's summary, the harness clock)."""
    m = loadgen_summary(run_dir)
    ttft, tpot = m["Mean First Token latency (ns)"], m["Mean Time per Output Token (ns)"]
    # LoadGen's TPOT of a sample is (latency - TTFT) / (tokens - 1), with the token count the
    # harness reported: the means add up only if every answer reached LoadGen with all of
    # the fake's tokens and its first token's time
    assert m["Mean latency (ns)"] == pytest.approx(ttft + (tokens - 1) * tpot, rel=1e-5)
    # the first token was reported as it came: before the fake's second one, one ITL later
    # (not with the whole answer) ...
    assert m["50.00 percentile first token latency (ns)"] < (ttft_ms + itl_ms) * 1e6, m
    # ... and the rest of the answer after it, at least one ITL per token
    assert m["Min Time per Output Token (ns)"] >= itl_ms * 1e6, m
    clock = json.loads((run_dir / "harness_clock.json").read_text())
    assert clock["output_tokens"] == clock["samples"] * tokens
    return m, clock


def test_server_reports_first_tokens_as_they_come_and_every_token_to_loadgen(tmp_path,
                                                                              short_conf):
    ttft_ms, itl_ms, tokens = 50, 20, 32
    res = run_cli("run-server", "--backend", "fake-latency", "--fake-ttft-ms", str(ttft_ms),
                  "--fake-itl-ms", str(itl_ms), "--fake-output-tokens", str(tokens),
                  "--user-conf", short_conf, "--output-dir", str(tmp_path), *QUIET)
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "Server" / "performance" / "run_1"
    m, clock = _assert_streamed_as_shaped(run_dir, tokens, ttft_ms, itl_ms)
    s = parse_run(run_dir)
    # LoadGen counted the samples and tokens the harness counted, over the same time
    assert clock["samples"] == s.sample_count
    assert s.tokens_per_second * clock["seconds"] == pytest.approx(clock["output_tokens"],
                                                                   rel=0.05)
    # the screen shows LoadGen's p99s, against the round's limits
    ttft_limit, tpot_limit = TOKEN_LATENCY_LIMITS_MS["Server"]
    assert (s.ttft_limit_ms, s.tpot_limit_ms) == (ttft_limit, tpot_limit)
    assert s.ttft_p99_ms * 1e6 == pytest.approx(m["99.00 percentile first token latency (ns)"])
    assert s.tpot_p99_ms * 1e6 == pytest.approx(m["99.00 percentile time to output token (ns)"])
    shown = res.stdout.splitlines()
    assert f"  TTFT p99    {s.ttft_p99_ms:,.1f} ms (limit {ttft_limit:,} ms)" in shown, shown
    assert f"  TPOT p99    {s.tpot_p99_ms:,.2f} ms (limit {tpot_limit:,} ms)" in shown, shown


def test_interactive_uses_its_own_model_name_limits_and_folder(tmp_path, short_conf):
    res = run_cli("run-interactive", "--backend", "fake-latency", "--fake-ttft-ms", "10",
                  "--fake-itl-ms", "1", "--user-conf", short_conf, "--output-dir", str(tmp_path),
                  *QUIET)
    assert res.returncode == 0, res.stderr
    s = parse_run(tmp_path / "Interactive" / "performance" / "run_1", "Interactive")
    assert (s.ttft_limit_ms, s.tpot_limit_ms) == TOKEN_LATENCY_LIMITS_MS["Interactive"]
    assert "LoadGen Interactive (Server) PerformanceOnly" in res.stdout
    assert f"({LOADGEN_MODEL_INTERACTIVE})" in res.stderr


def test_singlestream_streams_first_tokens_and_reports_loadgens_p90(tmp_path):
    ttft_ms, itl_ms, tokens = 5, 10, 8
    res = run_cli("run-singlestream", "--backend", "fake-latency", "--fake-ttft-ms",
                  str(ttft_ms), "--fake-itl-ms", str(itl_ms), "--fake-output-tokens",
                  str(tokens), "--output-dir", str(tmp_path), *QUIET)
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "SingleStream" / "performance" / "run_1"
    m, clock = _assert_streamed_as_shaped(run_dir, tokens, ttft_ms, itl_ms)
    s = parse_run(run_dir)
    assert s.valid is True and clock["samples"] == s.sample_count
    assert s.latency_p90_ms * 1e6 == pytest.approx(m["90.0th percentile latency (ns)"])
    assert f"  p90 latency {s.latency_p90_ms:,.1f} ms" in res.stdout.splitlines(), res.stdout
