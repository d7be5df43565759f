"""The round constants in harness.rules agree with the project's mlperf.conf (LoadGen's own)."""

import pytest

from harness.rules import (
    DATACENTER_SAMPLE_COUNT,
    EDGE_SAMPLE_COUNT,
    LOADGEN_MODEL_DATACENTER,
    LOADGEN_MODEL_EDGE,
    LOADGEN_MODEL_INTERACTIVE,
    MIN_DURATION_MS,
    ROUND_SEEDS,
    SCENARIO_SPECS,
    TOKEN_LATENCY_LIMITS_MS,
)
from tests.conftest import REPO


def _mlperf_conf() -> dict[tuple[str, str, str], str]:
    entries = {}
    for line in (REPO / "mlperf.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, value = (part.strip() for part in line.split("=", 1))
            model, scenario, name = key.rsplit(".", 2)
            entries[(model, scenario, name)] = value
    return entries


def _value(model: str, scenario: str, name: str) -> int:
    """What LoadGen reads for a key: the most specific of model/scenario over '*'."""
    conf = _mlperf_conf()
    for m, s in ((model, scenario), (model, "*"), ("*", scenario), ("*", "*")):
        if (m, s, name) in conf:
            return int(conf[(m, s, name)])
    raise KeyError(f"{model}.{scenario}.{name} not in mlperf.conf")


@pytest.mark.parametrize("seed", sorted(ROUND_SEEDS))
def test_round_seeds_are_mlperf_confs(seed):
    assert _value(LOADGEN_MODEL_DATACENTER, "Offline", seed) == ROUND_SEEDS[seed]


@pytest.mark.parametrize("scenario", ["Offline", "Server", "Interactive"])
def test_min_duration_is_mlperf_confs(scenario):
    spec = SCENARIO_SPECS[scenario]
    assert _value(spec.loadgen_model, spec.loadgen_scenario, "min_duration") == MIN_DURATION_MS


@pytest.mark.parametrize("scenario", sorted(TOKEN_LATENCY_LIMITS_MS))
def test_token_latency_limits_are_mlperf_confs(scenario):
    spec = SCENARIO_SPECS[scenario]
    limits = (_value(spec.loadgen_model, "Server", "ttft_latency"),
              _value(spec.loadgen_model, "Server", "tpot_latency"))
    assert limits == TOKEN_LATENCY_LIMITS_MS[scenario]


@pytest.mark.parametrize("model, count", [(LOADGEN_MODEL_DATACENTER, DATACENTER_SAMPLE_COUNT),
                                          (LOADGEN_MODEL_INTERACTIVE, DATACENTER_SAMPLE_COUNT),
                                          (LOADGEN_MODEL_EDGE, EDGE_SAMPLE_COUNT)])
def test_dataset_sizes_are_mlperf_confs(model, count):
    assert _value(model, "Offline", "performance_sample_count_override") == count


def test_mlperf_conf_holds_only_comments_and_key_value_lines():
    for number, line in enumerate((REPO / "mlperf.conf").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        assert not line or (line.count("=") == 1 and line.split("=")[0].count(".") >= 2), (
            f"mlperf.conf line {number}: {line!r}")
