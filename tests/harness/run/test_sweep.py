"""The sweep: rate lists, and real LoadGen tests at each rate on one fake engine."""

import json

import pandas as pd
import pytest

from harness.errors import ConfigError
from harness.run.sweep import parse_rates
from tests.conftest import REPO, run_cli
from tests.loadgen_summary import loadgen_summary


@pytest.mark.parametrize("text,rates", [
    ("2,4,8", (2.0, 4.0, 8.0)), ("2:10:2", (2.0, 4.0, 6.0, 8.0, 10.0)),
    ("0.5:1.5:0.5", (0.5, 1.0, 1.5)), ("3", (3.0,)), ("1:1:1", (1.0,))])
def test_rates_parse(text, rates):
    assert parse_rates(text) == rates


@pytest.mark.parametrize("text", ["a,b", "2:1:1", "1:5:0", "0,1", "1:2", "", "1:1000:1"])
def test_bad_rates_say_how_to_write_them(text):
    with pytest.raises(ConfigError, match="--rates"):
        parse_rates(text)


def test_sweep_on_a_fake_engine_writes_the_frontier(tmp_path):
    # 2 slots, 20 ms a request: about 100 samples/s at most. 20 QPS holds; 400 cannot.
    res = run_cli("sweep", "--scenario", "Server", "--rates", "20,400", "--backend",
                  "fake-latency", "--fake-ttft-ms", "5", "--fake-itl-ms", "1",
                  "--fake-output-tokens", "16", "--fake-slots", "2", "--duration", "1",
                  "--min-queries", "100", "--output-dir", str(tmp_path / "runs"),
                  "--progress-interval", "0")
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("starting the latency backend") == 1  # one engine
    root = next((tmp_path / "runs" / "sweep").iterdir())
    table = pd.read_csv(root / "rates.csv")
    assert table["target_qps"].tolist() == [20.0, 400.0]
    # every figure is LoadGen's own, from each test's summary
    for row in table.itertuples():
        lg = loadgen_summary(root / row.folder.split("/")[-1])
        assert row.valid == (lg["Result is"] == "VALID")
        # (the summary rounds to 2 decimals; the detail log the table reads has more)
        assert row.tokens_per_second == pytest.approx(lg["Completed tokens per second"], abs=0.01)
        assert row.ttft_p99_ms == pytest.approx(
            lg["99.00 percentile first token latency (ns)"] / 1e6, abs=1e-6)
        assert row.per_user_tokens_per_second == pytest.approx(1e3 / row.tpot_p99_ms)
    assert table["ttft_p99_ms"][1] > 10 * table["ttft_p99_ms"][0]  # queueing past capacity
    assert json.loads((root / "rates.json").read_text())["kind"] == "sweep"
    page = (root / "report.html").read_text()
    assert "Throughput against interactivity" in page and page.count("<svg") == 2
    assert f"sweep table {root / 'rates.csv'}; report {root / 'report.html'}" in res.stdout


def test_sweep_refuses_offline(tmp_path):
    res = run_cli("sweep", "--scenario", "Offline", "--rates", "1", "--backend", "fake-oracle")
    assert res.returncode == 2 and "invalid choice: 'Offline'" in res.stderr
    conf = tmp_path / "u.conf"
    conf.write_text((REPO / "user.conf").read_text())
    res = run_cli("sweep", "--rates", "x", "--backend", "fake-oracle", "--user-conf", str(conf))
    assert res.returncode == 2 and res.stderr.strip().endswith(
        "give rates as 2,4,8 or start:stop:step (e.g. 2:10:2), each > 0")
