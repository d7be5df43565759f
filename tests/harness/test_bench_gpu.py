"""bench-gpu's case parsing and result table (its runs need an engine: see docs/PERFORMANCE.md)."""

import pytest

from harness.bench_gpu import Measurement, parse_case, render_table
from harness.errors import ConfigError
from tests.conftest import run_cli


def test_case_flags_split_between_harness_and_engine():
    case = parse_case("bf16-lf=--max-num-seqs 512 --longest-first --kv-cache-dtype fp8")
    assert case.name == "bf16-lf"
    assert case.harness_flags == ("--longest-first",)
    assert case.engine_flags == ("--max-num-seqs", "512", "--kv-cache-dtype", "fp8")
    assert parse_case("plain") == parse_case("plain=")


@pytest.mark.parametrize("text", ["", "=--max-num-seqs 8", "a b=--x", "../x"])
def test_bad_case_name_is_a_config_error(text):
    with pytest.raises(ConfigError, match="the name must be"):
        parse_case(text)


def _m(case, kind, tok_s, valid=None):
    return Measurement(case, kind, tok_s, 10.0 if tok_s else None, 100, valid,
                       None if tok_s else "exit 1", "x.log")


def test_table_ratios_per_case():
    table = render_table([_m("a", "raw", 4000.0), _m("a", "harness", 3960.0, True),
                          _m("a", "remote", 3920.4, True), _m("b", "harness", 5000.0, False),
                          _m("c", "raw", None), _m("c", "harness", 100.0, True)]).splitlines()
    assert table[1].split() == ["a", "4,000.0", "3,960.0", "3,920.4", "0.990", "0.990"]
    assert table[2].split() == ["b", "-", "5,000.0", "INV", "-", "-", "-"]
    assert table[3].split() == ["c", "failed", "100.0", "-", "-", "-"]


def test_unknown_case_in_raw_is_a_clear_error(tmp_path):
    data = tmp_path / "d.json"
    data.write_text("[]")
    res = run_cli("--model", str(tmp_path), "--dataset", str(data), "--out", str(tmp_path / "o"),
                  "--case", "a", "--raw", "b", module="harness.bench_gpu")
    assert res.returncode == 2 and "--raw names unknown case(s) b; cases: a" in res.stderr
