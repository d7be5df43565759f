"""bench-gpu's case parsing and result table (its runs need an engine: see docs/PERFORMANCE.md)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench.gpu import Measurement, parse_case, render_table
from harness.errors import ConfigError
from harness.run.supervisor import GROUP_TERM_S
from tests.conftest import REPO, run_cli
from tests.harness_process import wait_until
from tests.loadgen_summary import loadgen_summary


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
@pytest.mark.slow  # three engines in turn; the harness-vs-raw equality: test_backend.py
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
    assert all(r["samples"] == 8 and not r["error"] for r in rows)
    assert [r["valid"] for r in rows] == [None, True, True, True]
    tok_s = {r["kind"]: r["tokens_per_s"] for r in rows}
    tiny = out / "tiny"
    # the measured rows are LoadGen's own figures for their runs ...
    for kind, run_dir in (("harness", tiny / "harness" / "Offline" / "performance" / "run_1"),
                          ("remote", tiny / "remote" / "Offline" / "performance" / "run_1"),
                          ("ref", tiny / "ref")):
        assert tok_s[kind] == pytest.approx(loadgen_summary(run_dir)["Tokens per second"],
                                            rel=1e-3), kind
    # ... and vLLM's own generate made the very tokens the harness did (greedy, same flags)
    raw = json.loads([ln for ln in (tiny / "raw.log").read_text().splitlines()
                      if ln.startswith("RESULT ")][-1][7:])
    clock = json.loads((tiny / "harness" / "Offline" / "performance" / "run_1" /
                        "harness_clock.json").read_text())
    assert raw["tokens"] == clock["output_tokens"] and raw["tokens_per_s"] == tok_s["raw"]
    # the case's engine flag reached all three engines (vLLM's "non-default args" line,
    # the harness's "engine:" line)
    for log in ("raw.log", "harness.log", "server.log", "ref.log"):
        assert re.search(r"max_num_seqs'?:? 4\b", (out / "tiny" / log).read_text()), log
    # the table's ratios are those of the rows: harness/raw, remote/harness, harness/ref
    table = res.stdout.splitlines()[-1].split()
    assert table[0] == "tiny" and table[5:] == [
        f"{tok_s['harness'] / tok_s['raw']:.3f}", f"{tok_s['remote'] / tok_s['harness']:.3f}",
        f"{tok_s['harness'] / tok_s['ref']:.3f}"], table


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            pass  # ended meanwhile
    return pids


def _process_tree(root: int) -> dict[int, str]:
    """pid -> name of every living (not zombie) process below root."""
    parent, name = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue  # ended meanwhile
        fields = rest.split()
        if fields[0] != "Z":
            pid = int(stat.parent.name)
            parent[pid], name[pid] = int(fields[1]), head.split("(", 1)[1]
    tree, todo = {}, [root]
    while todo:
        above = todo.pop()
        below = [pid for pid, ppid in parent.items() if ppid == above]
        tree.update((pid, name[pid]) for pid in below)
        todo += below
    return tree


def _living(pids) -> list[int]:
    def alive(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    return [pid for pid in pids if alive(pid)]


@pytest.mark.vllm
@pytest.mark.slow  # the harness's own engine stops: tests/sut/vllm/test_faults.py
def test_sigterm_stops_the_bench_and_the_engine_it_started(tmp_path, demo_assets):
    """A scheduler's SIGTERM must not leave the running case's harness and engine
    processes behind (on a GPU they would keep its memory)."""
    out = tmp_path / "bench"
    bench = subprocess.Popen(
        [sys.executable, "-m", "harness.bench.gpu", "--model", str(demo_assets.model_dir),
         "--dataset", str(demo_assets.dataset_path), "--out", str(out), "--case", "a"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def engine_started():
            tree = _process_tree(bench.pid)
            return tree if any("EngineCor" in n for n in tree.values()) else None

        # the case's harness has started its engine: an engine core process below the bench
        tree = wait_until("the case's engine process", engine_started, 300, alive=bench)
        assert _processes_mentioning(str(out))  # the case's harness, by its command line
        bench.send_signal(signal.SIGTERM)
        stdout, stderr = bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:  # failed midway: leave nothing running
            for pid in [*_process_tree(bench.pid), bench.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            bench.wait()
    assert bench.returncode == 130, stderr[-3000:]
    assert "bench-gpu: stopped; finished measurements are in" in stderr
    # every process it had started ends, the engine's too (the harness's group gets
    # GROUP_TERM_S after SIGTERM)
    wait_until(f"the end of {tree}", lambda: not _living(tree), GROUP_TERM_S + 5)
    assert _processes_mentioning(str(out)) == []
