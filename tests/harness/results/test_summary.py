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
    assert s.valid is False and s.validity == "INVALID" and s.tokens_per_second == 1234.5
    assert s.invalid_reasons == ("TTFT p99 612.0 ms exceeds 500 ms: lower target_qps",)
    text = s.render()
    assert "LoadGen Interactive (Server) PerformanceOnly: INVALID" in text
    assert "TTFT p99    612.0 ms (limit 500 ms)" in text
    assert "LoadGen error: error_invalid_config: bad" in text


def test_server_without_token_latencies_renders(tmp_path):
    s = _detail(tmp_path, effective_scenario="Server", effective_test_mode="PerformanceOnly",
                result_validity="VALID")
    assert "VALID" in s.render() and s.ttft_limit_ms is None


def test_the_settings_loadgen_logged_are_read(tmp_path):
    s = _detail(tmp_path, effective_scenario="Offline", effective_test_mode="AccuracyOnly",
                effective_qsl_rng_seed=1, effective_sample_index_rng_seed=2,
                effective_schedule_rng_seed=16159082839903944936,
                effective_min_duration_ms=600000, effective_sample_concatenate_permutation=True,
                requested_use_token_latencies=True, qsl_reported_total_count=13368)
    assert s.validity is None and s.valid is None  # accuracy mode: no verdict
    assert s.settings.seeds == {"qsl_rng_seed": 1, "sample_index_rng_seed": 2,
                                "schedule_rng_seed": 16159082839903944936}
    assert s.settings.min_duration_ms == 600000 and s.settings.use_token_latencies
    assert s.settings.sample_concatenate_permutation is True
    assert s.settings.accuracy_sample_count == 13368  # the QSL's count when none is logged
    assert s.settings.performance_sample_count is None and s.early_stopping_met is None
