"""bench-gpu's case parsing and result table (its runs need an engine: see docs/PERFORMANCE.md)."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.bench.gpu import Measurement, parse_case, render_table
from harness.errors import ConfigError
from tests.conftest import REPO, run_cli


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
                          _m("a", "remote", 3920.4, True), _m("a", "ref", 1800.0, True),
                          _m("b", "harness", 5000.0, False),
                          _m("c", "raw", None), _m("c", "harness", 100.0, True)]).splitlines()
    assert table[1].split() == ["a", "4,000.0", "3,960.0", "3,920.4", "1,800.0", "0.990", "0.990",
                                "2.200"]
    assert table[2].split() == ["b", "-", "5,000.0", "INV", "-", "-", "-", "-", "-"]
    assert table[3].split() == ["c", "failed", "100.0", "-", "-", "-", "-", "-"]


def test_unknown_case_in_raw_is_a_clear_error(tmp_path):
    data = tmp_path / "d.json"
    data.write_text("[]")
    res = run_cli("--model", str(tmp_path), "--dataset", str(data), "--out", str(tmp_path / "o"),
                  "--case", "a", "--raw", "b", module="harness.bench.gpu")
    assert res.returncode == 2 and "--raw names unknown case(s) b; cases: a" in res.stderr


@pytest.mark.vllm
def test_bench_runs_raw_harness_and_remote_on_the_cpu_engine(tmp_path, demo_assets):
    data = tmp_path / "prompts.json"
    assert run_cli("synthetic-dataset", "--out", str(data), "--count", "8").returncode == 0
    out = tmp_path / "bench"
    res = run_cli("--model", str(demo_assets.model_dir), "--dataset", str(data), "--out", str(out),
                  "--case", "tiny=--max-num-seqs 4", "--raw", "all", "--remote", "all",
                  "--reference", "all",
                  module="harness.bench.gpu", timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["raw", "harness", "remote", "ref"]
    assert all(r["samples"] == 8 and r["tokens_per_s"] > 0 and not r["error"] for r in rows)
    assert [r["valid"] for r in rows] == [None, True, True, True]
    # the case's engine flag reached all three engines (vLLM's "non-default args" line,
    # the harness's "engine:" line)
    for log in ("raw.log", "harness.log", "server.log", "ref.log"):
        assert re.search(r"max_num_seqs'?:? 4\b", (out / "tiny" / log).read_text()), log
    table = res.stdout.splitlines()[-1].split()
    assert table[0] == "tiny" and len(table) == 8 and all(float(x) > 0 for x in table[5:])


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            pass  # ended meanwhile
    return pids


def test_sigterm_stops_the_bench_and_the_engine_it_started(tmp_path, demo_assets):
    """A scheduler's SIGTERM must not leave the running case's harness and engine
    processes behind (on a GPU they would keep its memory)."""
    out = tmp_path / "bench"
    bench = subprocess.Popen(
        [sys.executable, "-m", "harness.bench.gpu", "--model", str(demo_assets.model_dir),
         "--dataset", str(demo_assets.dataset_path), "--out", str(out), "--case", "a"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = out / "a" / "harness.log"
    deadline = time.monotonic() + 120
    while "starting the vllm backend" not in (log.read_text() if log.is_file() else ""):
        assert bench.poll() is None and time.monotonic() < deadline, "the case never started"
        time.sleep(0.2)
    time.sleep(3)  # the engine's processes are starting
    assert _processes_mentioning(str(out))
    bench.send_signal(signal.SIGTERM)
    stdout, stderr = bench.communicate(timeout=120)
    assert bench.returncode == 130, stderr[-3000:]
    assert "bench-gpu: stopped; finished measurements are in" in stderr
    time.sleep(1)
    assert _processes_mentioning(str(out)) == []
