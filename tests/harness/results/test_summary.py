"""Parsing LoadGen's detail log into a RunSummary, and rendering it."""

import json

from harness.results.summary import parse_run


def _detail(tmp_path, **values):
    lines = [":::MLLOG " + json.dumps({"key": k, "value": v, "metadata": {}})
             for k, v in values.items()]
    lines.append(":::MLLOG " + json.dumps({"key": "error_invalid_config", "value": "bad",
                                           "metadata": {"is_error": True}}))
    (tmp_path / "mlperf_log_detail.txt").write_text("\n".join(lines) + "\n")
    return parse_run(tmp_path, "Interactive")


def test_server_invalid_reasons_name_the_limit(tmp_path):
    s = _detail(tmp_path, effective_scenario="Server", effective_test_mode="PerformanceOnly",
                result_validity="INVALID", result_perf_constraints_met=False,
                early_stopping_met=True, result_completed_tokens_per_second=1234.5,
                **{"result_first_token_99.00_percentile_latency_ns": 612_000_000,
                   "result_time_per_output_token_99.00_percentile_ns": 20_000_000},
                requested_server_ttft_latency=500_000_000,
                requested_server_tpot_latency=30_000_000)
    assert s.valid is False and s.tokens_per_second == 1234.5
    assert s.invalid_reasons == ("TTFT p99 612.0 ms exceeds 500 ms: lower target_qps",)
    text = s.render()
    assert "LoadGen Interactive (Server) PerformanceOnly: INVALID" in text
    assert "TTFT p99    612.0 ms (limit 500 ms)" in text
    assert "LoadGen error: error_invalid_config: bad" in text


def test_server_without_token_latencies_renders(tmp_path):
    s = _detail(tmp_path, effective_scenario="Server", effective_test_mode="PerformanceOnly",
                result_validity="VALID")
    assert "VALID" in s.render() and s.ttft_limit_ms is None
