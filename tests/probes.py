"""Reliability probes: bad inputs and faults tried through the real command lines, as a user
would, each with the outcome it must have. Writes the table of docs/RELIABILITY.md.

    python -m tests.probes                          # run all, print the table
    python -m tests.probes --write docs/RELIABILITY.md   # and put it into the document
    python -m tests.probes --only user.conf         # one area

A probe passes when the exit code is the expected one, the expected text is printed, no
Python traceback is, and (for a run) nothing it left behind reads as a result. A fault
(signals, killed processes) is injected into a running harness; it passes when, besides,
the screen after it has no traceback or warning (but for a dead engine's own report, which
holds the root cause), no process of the run is left, and the run folder does not read as a
result. About 15 minutes on 2 cores (--no-engine: 5).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- probes:begin -->", "<!-- probes:end -->"
FAKE = ("--backend", "fake-oracle", "--progress-interval", "0", "--warmup", "0")


@dataclass(frozen=True)
class Probe:
    area: str
    tried: str  # what the user did, in words
    argv: tuple[str, ...]  # after `python -m`; "{d}" is the probe's own folder
    rc: int  # the documented exit code
    says: str  # text the output must hold
    setup: Callable[[Path], None] = lambda d: None
    not_a_result: tuple[str, ...] = ()  # run folders (under {d}) that must not read as results


@dataclass
class Outcome:
    probe: "Probe | Fault"
    rc: int
    line: str  # the line that says it
    seconds: float
    problems: list[str] = field(default_factory=list)


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text)


def _record(tokens: list) -> dict:
    return {"instruction": "x", "input": "x", "tok_input": tokens, "output": "y"}


def _conf(*lines: str) -> Callable[[Path], None]:
    base = (REPO / "user.conf").read_text()
    return _write("u.conf", base + "\n".join(lines) + "\n")


def _acc_log(entries: list[tuple[int, list[int]]], dtype=np.int32) -> str:
    return json.dumps([{"seq_id": i, "qsl_idx": q, "data": np.asarray(t, dtype).tobytes().hex(),
                        "token_count": len(t)} for i, (q, t) in enumerate(entries)])


def _oracle_log(indices: list[int], empty: tuple[int, ...] = ()) -> Callable[[Path], None]:
    """A log answering the demo samples `indices` with their reference tokens."""
    def setup(d: Path) -> None:
        from harness.assets.demo import ensure_demo_assets
        from qsl.tokenizer import load_tokenizer

        assets = ensure_demo_assets()
        tok = load_tokenizer(assets.tokenizer_dir)
        refs = [r["output"] for r in json.loads(assets.dataset_path.read_text())]
        (d / "acc.json").write_text(_acc_log(
            [(i, [] if i in empty else tok.encode(refs[i], add_special_tokens=False))
             for i in indices]))
    return setup


def _mmlu_and_empty_log(d: Path) -> None:
    from qsl.synthetic import write_synthetic_dataset

    write_synthetic_dataset(d / "mmlu.json", "mmlu", 5, 0)
    (d / "acc.json").write_text("")


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _runs(marks: dict[str, str]) -> Callable[[Path], None]:
    """A copy of a complete fake-backend run tree, with some runs marked failed/running."""
    def setup(d: Path) -> None:
        from harness.run import status

        shutil.copytree(_complete_runs(), d / "runs")
        for folder, mark in marks.items():
            if mark == "failed":
                status.mark_failed(d / "runs" / folder, "stopped by SIGTERM")
            else:
                status.mark_running(d / "runs" / folder)
    return setup


_RUNS_CACHE: list[Path] = []


def _complete_runs() -> Path:
    """A complete tree of fake-backend runs, made once."""
    from tests.conftest import make_submission_runs

    if not _RUNS_CACHE:
        _RUNS_CACHE.append(make_submission_runs(Path(tempfile.mkdtemp(prefix="probe-runs-"))))
    return _RUNS_CACHE[0]


YAML = ("host_storage_capacity: 1 TB\nhost_storage_type: SSD\nhost_networking: none\n"
        "host_network_card_count: '0'\nhost_networking_topology: N/A\n"
        "host_memory_configuration: 1x 24 GB\naccelerator_host_interconnect: N/A\n"
        "accelerator_memory_configuration: N/A\naccelerator_interconnect: N/A\ncooling: air\n")
SUBMIT = ("harness", "submission", "--runs", "{d}/runs", "--org", "Demo", "--system", "cpu",
          "--system-yaml", "{d}/s.yaml", "--out", "{d}/sub")


def _conf_probe(tried: str, line: str, says: str, command: str = "run-offline",
                rc: int = 2) -> Probe:
    backend = "fake-latency" if command != "run-offline" else "fake-oracle"
    return Probe("user.conf", tried, ("harness", command, "--backend", backend,
                                      "--progress-interval", "0", "--warmup", "0",
                                      "--user-conf", "{d}/u.conf", "--output-dir", "{d}/runs"),
                 rc, says, _conf(line))


def _validate(tried: str, records: list[dict], rc: int, says: str, *extra: str) -> Probe:
    return Probe("dataset", tried, ("harness", "dataset", "validate", "{d}/data.json", *extra),
                 rc, says, _write("data.json", json.dumps(records)))


def _load(tried: str, records: list[dict], says: str) -> Probe:
    return Probe("dataset", tried, ("harness", "run-offline", *FAKE, "--dataset",
                                    "{d}/data.json", "--output-dir", "{d}/runs"),
                 3, says, _write("data.json", json.dumps(records)))


def _rouge(tried: str, setup, rc: int, says: str, *extra: str) -> Probe:
    return Probe("accuracy log", tried,
                 ("accuracy.rouge", "--mlperf-accuracy-file", "{d}/acc.json", "--dataset-file",
                  "{demo_data}", *extra), rc, says, setup)


def probes() -> list[Probe]:
    bos = 128000
    good = [bos, 791, 374]
    u = "llama3_1-8b"
    return [
        # --- datasets ---
        Probe("dataset", "--dataset that does not exist",
              ("harness", "run-offline", *FAKE, "--dataset", "{d}/nope.json"), 3,
              "dataset file not found"),
        Probe("dataset", "dataset that is not JSON",
              ("harness", "run-offline", *FAKE, "--dataset", "{d}/data.json"), 3, "data.json",
              _write("data.json", "{not json")),
        _load("dataset that is an empty list", [], "data.json"),
        _load("record without tok_input", [{"input": "x", "output": "y"}], "tok_input"),
        _load("token id `true` (a JSON boolean)", [_record([bos, True, 5])],
              "holds true at position 1, not an integer token id"),
        _load("token id 1.0", [_record([bos, 1.0])], "holds 1.0 at position 1"),
        _load("token id null", [_record([bos, None])], "holds null at position 1"),
        _load("token id past the vocabulary", [_record([bos, 10 ** 9])], "outside"),
        _load("negative token id", [_record([bos, -3])], "outside"),
        _validate("`dataset validate` on a boolean token", [_record([bos, True])], 3,
                  "holds true at position 1"),
        _validate("`dataset validate`, an 8,101-token prompt, no --model",
                  [_record([bos] + [791] * 8100)], 3, "8,101 tokens > 8,000"),
        _validate("`dataset validate --model` without config.json", [_record(good)], 2,
                  "no usable config.json", "--model", "{d}"),
        _validate("`dataset validate`, a clean file", [_record(good)], 0, "OK"),
        Probe("dataset", "real-model settings over the 32-sample demo set",
              ("harness", "run-offline", *FAKE, "--model", "{demo_model}", "--dataset",
               "{demo_data}", "--output-dir", "{d}/runs"), 2,
              "ask for 13,368 performance samples"),
        # --- user.conf ---
        Probe("user.conf", "--user-conf that does not exist",
              ("harness", "run-offline", *FAKE, "--user-conf", "{d}/none.conf"), 2,
              "user.conf not found"),
        _conf_probe("misspelled key", f"{u}.Offline.target_qsp = 3", "did you mean 'target_qps'"),
        _conf_probe("comment after a value", f"{u}.Offline.target_qps = 3 # fast",
                    "only one value may follow '='"),
        _conf_probe("a mode line", f"{u}.Offline.mode = 2", "the test mode comes from the command"),
        _conf_probe("Offline target_qps = 0 (was: VALID)", f"{u}.Offline.target_qps = 0",
                    "must be a positive finite number"),
        _conf_probe("Offline target_qps = 1e400 (was: crash, exit 139)",
                    f"{u}.Offline.target_qps = 1e400", "must be a positive finite number"),
        _conf_probe("Server target_qps = 0 (was: hang, no logs)", f"{u}.Server.target_qps = 0",
                    "must be a positive finite number", "run-server"),
        _conf_probe("min_duration = -5 (was: VALID)", f"{u}.Offline.min_duration = -5",
                    "LoadGen would read it as 18446744073709551611"),
        _conf_probe("min_query_count = 0 (was: crash, exit 139)",
                    f"{u}.Offline.min_query_count = 0", "must be a whole number >= 1"),
        _conf_probe("min_query_count = 1.5 (was: read as 1)",
                    f"{u}.Offline.min_query_count = 1.5", "digits before '.'"),
        _conf_probe("min_query_count = 040 (was: read as octal 32)",
                    f"{u}.Offline.min_query_count = 040", "leading 0 as octal"),
        _conf_probe("performance_sample_count_override = 0 (was: crash)",
                    f"{u}.*.performance_sample_count_override = 0", "0 crashes"),
        _conf_probe("use_token_latencies = 2 (was: read as 0, INVALID)",
                    f"{u}.*.use_token_latencies = 2", "must be 0 or 1", "run-server"),
        _conf_probe("qsl_rng_seed in user.conf (was: ignored)", f"{u}.*.qsl_rng_seed = 5",
                    "only from its built-in mlperf.conf"),
        _conf_probe("ttft_latency = -1", f"{u}.Server.ttft_latency = -1",
                    "must be a whole number of milliseconds from 1", "run-server"),
        _conf_probe("target_latency_percentile = 150 (was: VALID)",
                    f"{u}.Server.target_latency_percentile = 150", "above 0 and below 100",
                    "run-server"),
        _conf_probe("SingleStream target_latency = 0 (was: hang)",
                    f"{u}-edge.SingleStream.target_latency = 0", "(> 0) for SingleStream",
                    "run-singlestream"),
        _conf_probe("target_qps = 0x10 (hex, as LoadGen reads it)",
                    f"{u}.Offline.target_qps = 0x10", "VALID", rc=0),
        # --- accuracy logs ---
        _rouge("empty (0-byte) accuracy log", _write("acc.json", ""), 6,
               "the accuracy log is empty (0 bytes)"),
        _rouge("accuracy log `[]` (a performance run's)", _write("acc.json", "[]"), 6,
               "holds no samples"),
        _rouge("accuracy log that is not JSON", _write("acc.json", "[{"), 6, "acc.json"),
        _rouge("token id past the vocabulary", _write("acc.json", _acc_log([(0, [999999])])),
               6, "holds token id 999999, outside the tokenizer's vocabulary"),
        _rouge("an int32 log read with --dtype int64",
               _write("acc.json", _acc_log([(0, [791, 374])])), 6, "outside", "--dtype", "int64"),
        _rouge("qsl_idx `true`", _write("acc.json", json.dumps(
            [{"seq_id": 0, "qsl_idx": True, "data": "00", "token_count": 1}])), 6,
            "is not an integer"),
        _rouge("--output-json in a folder that does not exist", _oracle_log([0]), 2,
               "cannot write this file", "--output-json", "{d}/no/s.json"),
        _rouge("--output-json that is a folder", _oracle_log([0]), 2, "(Is a directory)",
               "--output-json", "{d}"),
        _rouge("log covering 3 of the 32 samples", _oracle_log([0, 1, 2]), 0,
               "warning: the accuracy log covers 3 of the 32 samples"),
        _rouge("two answers of 0 tokens", _oracle_log(list(range(32)), empty=(4, 9)), 0,
               "warning: 2 of the 32 logged answers have 0 tokens (qsl_idx 4, 9)"),
        _rouge("the oracle's answers (control)", _oracle_log(list(range(32))), 0, "100.0"),
        Probe("accuracy log", "MMLU scorer on an empty log",
              ("accuracy.mmlu", "--mlperf-accuracy-file", "{d}/acc.json", "--dataset-file",
               "{d}/mmlu.json"), 6, "the accuracy log is empty", _mmlu_and_empty_log),
        # --- command line ---
        Probe("CLI", "unknown backend", ("harness", "run-offline", "--backend", "vlm"), 2,
              "unknown backend 'vlm'. Did you mean 'vllm'?"),
        Probe("CLI", "negative warm-up", ("harness", "run-offline", *FAKE, "--warmup", "-1"), 2,
              "must be >= 0"),
        Probe("CLI", "engine flags with a fake backend",
              ("harness", "run-offline", *FAKE, "--max-num-seqs", "8"), 2, "takes none"),
        Probe("CLI", "misspelled vLLM flag", ("harness", "run-offline", "--max-num-seqz", "8",
                                              "--output-dir", "{d}/runs"), 2,
              "did you mean --max-num-seqs?"),
        Probe("CLI", "--model folder that does not exist",
              ("harness", "run-offline", "--model", "{d}/none", "--dataset", "{demo_data}"), 2,
              "model folder not found"),
        Probe("CLI", "--model without --dataset", ("harness", "run-offline", "--model", "{d}"),
              2, "a model was given without a dataset"),
        Probe("CLI", "run-mmlu without a dataset", ("harness", "run-mmlu", *FAKE), 2,
              "run-mmlu needs an MMLU prompt file"),
        # --- remote endpoints ---
        Probe("remote", "--remote-url foo", ("harness", "run-offline", "--backend", "remote",
                                             "--remote-url", "foo"), 2, "is not a URL"),
        Probe("remote", "--remote-url localhost:8000 (no scheme)",
              ("harness", "run-offline", "--backend", "remote", "--remote-url",
               "localhost:8000"), 2, "did you mean http://localhost:8000?"),
        Probe("remote", "--remote-url ftp://x", ("harness", "run-offline", "--backend", "remote",
                                                 "--remote-url", "ftp://x"), 2, "http or https"),
        Probe("remote", "the same endpoint twice",
              ("harness", "run-offline", "--backend", "remote", "--remote-url",
               "http://127.0.0.1:8000", "--remote-url", "HTTP://127.0.0.1:8000/"), 2,
              "give each endpoint once"),
        Probe("remote", "--remote-url without --backend remote",
              ("harness", "run-offline", "--remote-url", "http://127.0.0.1:8000"), 2,
              "add --backend remote"),
        Probe("remote", "nothing listening at the URL (was: 600 s of silence)",
              ("harness", "run-offline", "--backend", "remote", "--remote-url",
               "http://127.0.0.1:{port}", "--output-dir", "{d}/runs"), 4,
              "nothing answers at http://127.0.0.1"),
        # --- output folders ---
        Probe("output folder", "--output-dir is a file",
              ("harness", "run-offline", *FAKE, "--output-dir", "{d}/f"), 2,
              "is a file, not a folder", _write("f", "mine")),
        Probe("output folder", "--output-dir that cannot be written (/proc)",
              ("harness", "run-offline", *FAKE, "--output-dir", "/proc/runs"), 2,
              "cannot be used"),
        # --- packaging ---
        Probe("submission", "RUNS that does not exist",
              ("harness", "submission", "--runs", "{d}/none", "--org", "Demo", "--system", "cpu"),
              7, "run folder not found"),
        Probe("submission", "ORG with a slash",
              ("harness", "submission", "--runs", "{d}", "--org", "A/B", "--system", "cpu"), 7,
              "ORG and SYSTEM may hold"),
        Probe("submission", "system YAML that is a list", SUBMIT, 7,
              "expected a mapping", lambda d: (_runs({})(d), _write("s.yaml", "- a\n")(d))),
        Probe("submission", "a stopped Server performance run (was: packaged as VALID)", SUBMIT,
              7, "FAILED: stopped by SIGTERM: not packaged",
              lambda d: (_runs({"Server/performance/run_1": "failed"})(d),
                         _write("s.yaml", YAML)(d)),
              not_a_result=("runs/Server/performance/run_1",)),
        Probe("submission", "an accuracy run whose harness was killed", SUBMIT, 7,
              "never finished", lambda d: (_runs({"Offline/accuracy": "running"})(d),
                                           _write("s.yaml", YAML)(d))),
    ]


@dataclass(frozen=True)
class Fault:
    """A fault injected into a running harness (tests.harness_process.Harness drives it)."""

    area: str
    tried: str
    args: tuple[str, ...]  # harness arguments
    inject: Callable  # (harness) -> None, once the run is under way
    rc: int
    says: str
    run_folder: str | None = "Server/performance/run_1"  # None: a signal before any run
    engine: bool = False  # the real CPU vLLM on the demo model (a minute or two each)
    quiet: bool = True  # no traceback or warning after the fault (a dead engine reports why)


def _signal(target: str, *sigs: int, wait_for: str = "") -> Callable:
    def inject(h) -> None:
        pids = {"group": -h.proc.pid, "supervisor": h.proc.pid, "harness": h.harness_pid()}
        for i, sig in enumerate(sigs):
            if i:
                h.read_err_until(wait_for)
            pid = pids[target if i == 0 else "group"]
            os.killpg(-pid, sig) if pid < 0 else os.kill(pid, sig)
    return inject


def _kill_engine(h) -> None:
    from harness.run.supervisor import group_members

    engine = [pid for pid, name in group_members(h.harness_pid()) if "EngineCor" in name]
    os.kill(engine[0], signal.SIGKILL)


def faults() -> list[Fault]:
    fake = ("--backend", "fake-latency", "--fake-itl-ms", "50")
    stopping = "stopping. Every query"
    return [
        Fault("signal", "Ctrl-C to the terminal's group, Server", ("run-server", *fake),
              _signal("group", signal.SIGINT), 5, "run FAILED: interrupted by the user"),
        Fault("signal", "SIGINT to the harness process alone, Server", ("run-server", *fake),
              _signal("harness", signal.SIGINT), 5, "run FAILED: interrupted by the user"),
        Fault("signal", "SIGTERM to `python -m harness` (a scheduler's limit), Server",
              ("run-server", *fake), _signal("supervisor", signal.SIGTERM), 5,
              "run FAILED: stopped by SIGTERM"),
        Fault("signal", "SIGTERM to the harness, SingleStream", ("run-singlestream", *fake),
              _signal("harness", signal.SIGTERM), 5, "run FAILED: stopped by SIGTERM",
              "SingleStream/performance/run_1"),
        Fault("signal", "Ctrl-C, Offline (LoadGen ends within the grace)",
              ("run-offline", "--backend", "fake-latency", "--fake-itl-ms", "200"),
              _signal("group", signal.SIGINT), 5, "run FAILED: interrupted by the user",
              "Offline/performance/run_1"),
        Fault("signal", "a second Ctrl-C", ("run-server", *fake),
              _signal("group", signal.SIGINT, signal.SIGINT, wait_for=stopping), 130,
              "abandoned at once"),
        Fault("signal", "the harness process killed (-9)", ("run-server", *fake),
              _signal("harness", signal.SIGKILL), 137, ""),
        Fault("engine", "Ctrl-C to the terminal's group, Server, real engine", ("run-server",),
              _signal("group", signal.SIGINT), 5, "run FAILED: interrupted by the user",
              engine=True),
        Fault("engine", "SIGTERM to the harness, then a second Ctrl-C, real engine",
              ("run-server",), _signal("harness", signal.SIGTERM, signal.SIGINT,
                                       wait_for=stopping), 130, "abandoned at once",
              engine=True),
        Fault("engine", "the engine process killed (-9) mid-run", ("run-server",), _kill_engine,
              5, "EngineDeadError", engine=True, quiet=False),
        Fault("engine", "Ctrl-C while the engine starts", ("run-server",),
              _signal("group", signal.SIGINT), 130, "stopped: interrupted by the user",
              run_folder=None, engine=True),
    ]


def run_fault(fault: Fault, work: Path, engine_args: tuple[str, ...] = ()) -> Outcome:
    """Inject the fault; engine_args go to the harness of an engine fault (another model)."""
    from harness.run.status import not_a_result
    from harness.run.supervisor import group_members
    from tests.harness_process import Harness

    d = Path(tempfile.mkdtemp(dir=work))
    h = Harness(d, *fault.args, *(engine_args if fault.engine else ()))
    try:
        if fault.run_folder:
            h.wait_for_loadgen(h.out / fault.run_folder)
        else:
            h.read_err_until("starting the vllm backend")
            while not any("EngineCor" in n for _, n in group_members(h.harness_pid())):
                time.sleep(0.2)
        group = h.harness_pid()
        mark = h.err_so_far()
        t0 = time.monotonic()
        fault.inject(h)
        rc, out, err = h.finish()
    finally:
        h.kill()
    outcome = Outcome(fault, rc, "", time.monotonic() - t0)
    said = [ln for ln in err.splitlines() if fault.says and fault.says in ln]
    outcome.line = said[0].strip() if said else f"(killed: exit {rc})"
    noise = [w for w in ("Traceback", "WARNING", "leaked") if w in err[mark:]] if fault.quiet \
        else []
    if rc != fault.rc:
        outcome.problems.append(f"exit {rc}, not {fault.rc}")
    if fault.says and not said:
        outcome.problems.append(f"never said {fault.says!r}")
    if noise:
        outcome.problems.append(f"printed {', '.join(noise)}")
    if "VALID" in out:
        outcome.problems.append("printed VALID")
    if fault.run_folder and not not_a_result(h.out / fault.run_folder):
        outcome.problems.append("its run folder reads as a result")
    if group_members(group):
        outcome.problems.append(f"left processes: {group_members(group)}")
    return outcome


def _fill(arg: str, d: Path, port: str) -> str:
    from harness.assets.demo import ensure_demo_assets

    assets = ensure_demo_assets()
    return (arg.replace("{d}", str(d)).replace("{port}", port)
            .replace("{demo_model}", str(assets.model_dir))
            .replace("{demo_data}", str(assets.dataset_path)))


def run(probe: Probe, work: Path) -> Outcome:
    from harness.run.status import not_a_result

    d = Path(tempfile.mkdtemp(dir=work))
    probe.setup(d)
    argv = [_fill(a, d, _free_port()) for a in probe.argv]
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    seconds = time.monotonic() - t0
    text = res.stdout + res.stderr
    lines = [ln for ln in text.splitlines() if probe.says in ln]
    said = next((ln for ln in text.splitlines() if ln.startswith(("error:", "warning:"))), "")
    outcome = Outcome(probe, res.returncode, (lines or [said])[0].strip(), seconds)
    if res.returncode != probe.rc:
        outcome.problems.append(f"exit {res.returncode}, not {probe.rc}")
    if not lines:
        outcome.problems.append(f"never said {probe.says!r}")
    if "Traceback" in text:
        outcome.problems.append("printed a traceback")
    for folder in probe.not_a_result:
        if not not_a_result(d / folder):
            outcome.problems.append(f"{folder} reads as a result")
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rows = ["| # | area | input | expected | observed (exit code, time, the line printed) | ok |",
            "|---|---|---|---|---|---|"]
    for i, o in enumerate(outcomes, 1):
        line = re.sub(r"(/tmp|/root/\.cache)/[^\s:;,)]+", "…", o.line).replace("|", "\\|")
        ok = "yes" if not o.problems else "**NO**: " + "; ".join(o.problems)
        rows.append(f"| {i} | {o.probe.area} | {o.probe.tried} | exit {o.probe.rc} | "
                    f"exit {o.rc}, {o.seconds:.1f} s: `{line[:220]}` | {ok} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="put the table into this document")
    parser.add_argument("--only", help="run one area only")
    parser.add_argument("--no-engine", action="store_true",
                        help="leave out the faults that start the real engine")
    parser.add_argument("--engine-args", default="",
                        help="more harness flags for the engine faults, e.g. on a GPU: "
                             "'--model M --dataset D --user-conf U --load-format dummy'")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="probes-"))
    outcomes = []
    for probe in [*probes(), *faults()]:
        if args.only and probe.area != args.only or \
                args.no_engine and getattr(probe, "engine", False):
            continue
        outcomes.append(o := run(probe, work) if isinstance(probe, Probe) else
                        run_fault(probe, work, tuple(args.engine_args.split())))
        print(f"{'ok ' if not o.problems else 'BAD'} {o.probe.area}: {o.probe.tried} "
              f"-> exit {o.rc} {'; '.join(o.problems)}", file=sys.stderr, flush=True)
    text = table(outcomes)
    if args.write:
        doc = args.write.read_text()
        head, rest = doc.split(BEGIN, 1)
        args.write.write_text(head + BEGIN + "\n" + text + "\n" + END + rest.split(END, 1)[1])
    else:
        print(text)
    bad = sum(bool(o.problems) for o in outcomes)
    print(f"{len(outcomes) - bad} passed, {bad} failed", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
