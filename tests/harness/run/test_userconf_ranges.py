"""user.conf values are range-checked as LoadGen reads them, before LoadGen starts."""

import pytest

from harness.errors import ConfigError
from harness.run.runner import MLPERF_CONF
from harness.run.userconf import (
    LOADGEN_KEYS,
    MLPERF_CONF_ONLY,
    RANGES,
    _ranges,
    load_user_conf,
)
from tests.conftest import run_cli

U64 = 2**64 - 1
MAX_MS = 4611686018427  # (2**63 - 1) // (2 * 10**6)
BOOLS = ("print_timestamps", "performance_issue_unique", "performance_issue_same",
         "sample_concatenate_permutation", "use_token_latencies", "infer_token_latencies",
         "coalesce_queries")


def _load(tmp_path, line):
    path = tmp_path / "user.conf"
    path.write_text("# ok\n" + line + "\n")
    return path, load_user_conf(path, demo=False)


def test_every_loadgen_key_has_one_kind():
    # TestSettings::FromConfig's keys in LoadGen 6.0.17.
    assert LOADGEN_KEYS == set("""
        min_duration max_duration min_query_count max_query_count qsl_rng_seed
        sample_index_rng_seed schedule_rng_seed accuracy_log_rng_seed accuracy_log_probability
        accuracy_log_sampling_target print_timestamps performance_issue_unique
        performance_issue_same performance_issue_same_index performance_sample_count_override
        accuracy_sample_count_override sample_concatenate_permutation test05
        test05_qsl_rng_seed test05_sample_index_rng_seed test05_schedule_rng_seed
        target_latency_percentile target_latency target_qps samples_per_query max_async_queries
        coalesce_queries use_token_latencies ttft_latency tpot_latency infer_token_latencies
        token_latency_scaling_factor""".split())
    assert not set(RANGES) & MLPERF_CONF_ONLY


def test_mlperf_conf_values_are_all_in_range():
    """LoadGen's own settings for this harness's models must pass (e.g. Server
    target_latency = 0, percentiles 90 and 99)."""
    checked = 0
    for line in MLPERF_CONF.read_text().splitlines():
        tokens = line.split()
        if len(tokens) == 3 and tokens[1] == "=" and not line.startswith("#"):
            model, scenario, name = tokens[0].rsplit(".", 2)
            if model not in ("*", "llama3_1-8b", "llama3_1-8b-edge", "llama3_1-8b-interactive"):
                continue
            for legal in _ranges(scenario, name) if name in RANGES else []:
                assert legal.problem(tokens[2]) is None, line
                checked += 1
    assert checked > 30


LEGAL = [
    "llama3_1-8b.Offline.target_qps = 1e-9",
    "llama3_1-8b.Server.target_qps = 0x10",  # LoadGen's strtod reads hex too
    "*.*.min_duration = 0",
    f"*.*.min_duration = {MAX_MS}",
    "*.*.max_duration = 0",
    "*.*.min_query_count = 1",
    "*.*.min_query_count = 0x20",
    "*.*.min_query_count = +5",
    "*.*.max_query_count = 0",
    "*.*.max_async_queries = 0",
    "*.*.accuracy_sample_count_override = 0",
    "*.*.accuracy_log_sampling_target = 0",
    "*.*.performance_issue_same_index = 0",
    "*.*.performance_sample_count_override = 1",
    "*.MultiStream.samples_per_query = 1",
    "*.*.token_latency_scaling_factor = 1",
    "*.*.accuracy_log_rng_seed = 0",
    f"*.*.accuracy_log_rng_seed = {U64}",
    "*.Server.target_latency_percentile = 0.001",
    "*.Server.target_latency_percentile = 99.999",
    "*.Server.ttft_latency = 1",
    f"*.Server.tpot_latency = {MAX_MS}",
    "*.Server.target_latency = 0",
    "*.SingleStream.target_latency = 0.001",
    "*.Offline.target_latency = -1",  # LoadGen never reads target_latency for Offline
    *(f"*.*.{name} = {v}" for name in BOOLS for v in (0, 1)),
]


@pytest.mark.parametrize("line", LEGAL)
def test_legal_boundary_values_pass(tmp_path, line):
    assert line in _load(tmp_path, line)[1].text


ILLEGAL = [
    ("llama3_1-8b.Server.target_qps = 0", "must be a positive finite number (> 0)"),
    ("llama3_1-8b.Offline.target_qps = -1", "must be a positive finite number (> 0)"),
    ("llama3_1-8b.Offline.target_qps = 1e400", "must be a positive finite number (> 0)"),
    ("*.*.min_duration = -5",
     f"from 0 to {MAX_MS} (LoadGen would read it as 18446744073709551611)"),
    (f"*.*.max_duration = {MAX_MS + 1}", f"from 0 (no limit) to {MAX_MS}"),
    ("*.*.min_query_count = 0", "must be a whole number >= 1"),
    ("*.*.min_query_count = 1.5", "LoadGen would keep the digits before '.' or 'e'"),
    ("*.*.min_query_count = 3.2e1", "LoadGen would keep the digits before '.' or 'e'"),
    ("*.*.min_query_count = 040", "LoadGen would read the leading 0 as octal"),
    ("*.*.max_query_count = -1", f"(0: no limit) (LoadGen would read it as {U64})"),
    ("*.*.max_async_queries = -2", "must be a whole number >= 0 (0: no limit)"),
    ("*.*.accuracy_sample_count_override = -1", "(0: the whole dataset)"),
    ("*.*.accuracy_log_sampling_target = 0.5", "must be a whole number >= 0 (0: off)"),
    ("*.*.performance_issue_same_index = -1", "must be a whole number >= 0"),
    ("*.*.performance_sample_count_override = 0", "loads that many samples: 0 crashes"),
    ("*.MultiStream.samples_per_query = 0", "must be a whole number >= 1"),
    ("*.*.token_latency_scaling_factor = 0", "must be a whole number >= 1"),
    (f"*.*.accuracy_log_rng_seed = {U64 + 1}", f"(LoadGen would read it as {U64})"),
    ("*.Server.target_latency_percentile = 0", "must be a percentage above 0 and below 100"),
    ("*.Server.target_latency_percentile = 100", "must be a percentage above 0 and below 100"),
    ("*.SingleStream.target_latency_percentile = 150", "above 0 and below 100"),
    ("*.Server.ttft_latency = 0", f"a whole number of milliseconds from 1 to {MAX_MS}"),
    ("*.Server.tpot_latency = -1", "LoadGen would read it as"),
    ("*.Server.target_latency = -1", f"from 0 to {MAX_MS} for Server"),
    ("*.Server.target_latency = 2.5", "for Server (LoadGen would keep the digits"),
    ("*.SingleStream.target_latency = 0", "positive finite number of milliseconds (> 0)"),
    ("*.*.target_latency = 0", "for SingleStream and MultiStream"),  # legal for Server only
    *((f"*.*.{name} = 2", "must be 0 or 1") for name in BOOLS),
]


@pytest.mark.parametrize("line,message", ILLEGAL)
def test_illegal_values_name_file_line_key_value_and_range(tmp_path, line, message):
    key, value = line.split(" = ")
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, line)
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'user.conf'}:2: {key} = {value}: must be ")
    assert message in text and "\n" not in text


def test_the_message_reads_as_one_line(tmp_path):
    path = tmp_path / "user.conf"
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "llama3_1-8b.Server.target_qps = -1")
    assert str(err.value) == (f"{path}:2: llama3_1-8b.Server.target_qps = -1: "
                              f"must be a positive finite number (> 0)")


@pytest.mark.parametrize("name", sorted(MLPERF_CONF_ONLY))
def test_keys_loadgen_reads_only_from_mlperf_conf_are_refused(tmp_path, name):
    with pytest.raises(ConfigError, match=f"reads '{name}' only from its built-in mlperf.conf"):
        _load(tmp_path, f"*.*.{name} = 1")


@pytest.mark.parametrize("command,line", [
    # Before this check: VALID (LoadGen ran with min_duration -5 ms).
    ("run-offline", "llama3_1-8b.Offline.min_duration = -5"),
    # Before: LoadGen segfaulted (exit 139), logs empty.
    ("run-offline", "llama3_1-8b.Offline.min_query_count = 0"),
    # Before: LoadGen hung generating its schedule until killed.
    ("run-server", "llama3_1-8b.Server.target_qps = 0"),
])
def test_cli_refuses_the_value_before_loadgen_starts(tmp_path, command, line):
    conf = tmp_path / "u.conf"
    conf.write_text("llama3_1-8b.*.performance_sample_count_override = 32\n"
                    "llama3_1-8b.*.min_duration = 0\n" + line + "\n")
    out = tmp_path / "runs"
    res = run_cli(command, "--backend", "fake-oracle", "--user-conf", str(conf),
                  "--output-dir", str(out), "--progress-interval", "0", timeout=120)
    assert res.returncode == 2, res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"error: {conf}:3: {line}: must be "), errors
    assert "Traceback" not in res.stderr + res.stdout
    assert not list(out.rglob("mlperf_log_*"))
