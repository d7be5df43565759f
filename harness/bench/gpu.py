"""`make bench-gpu`: the harness against the raw engine on a real accelerator, case by case.

A case is a name and flags (vLLM engine flags, plus the harness's --longest-first).
For each case, one after another and each in its own process (so each has the whole
device):
  raw      vLLM's own LLM.generate over every prompt in one call, the same engine flags
           (cases named in --raw; one engine: on a machine with several GPUs give the
           cases --data-parallel-size 1, or the harness side fills every GPU);
  harness  LoadGen Offline through the harness, in-process vLLM (every case);
  remote   the harness's remote backend against a `vllm serve` started here with the
           same flags (cases named in --remote);
  ref      the public reference's style under LoadGen Offline: 16 samples per blocking
           LLM.generate call (cases named in --reference; harness/bench/reference.py).
With --task mmlu the harness runs run-mmlu (accuracy mode, the whole file) and raw uses
MMLU's generation settings; tokens/s then come from the harness's clock (LoadGen gives
no throughput in accuracy mode).

Each measurement is appended to <out>/results.jsonl as soon as it exists (a cut-off
run keeps what it measured), with every process's log next to it; a table with the
ratios ends the run. Works on any vLLM build (CPU too, for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.project_files import REPO_ROOT
from harness.results.summary import parse_run
from harness.run.layout import CLOCK_FILE, DETAIL_LOG, RunLayout
from harness.run.userconf import one_pass_offline_conf
from harness.tasks import TASKS
from qsl.dataset import read_records

HARNESS_CASE_FLAGS = ("--longest-first",)  # harness options a case may set; the rest go to vLLM
SERVER_START_TIMEOUT_S = 900


@dataclass(frozen=True)
class Case:
    name: str
    harness_flags: tuple[str, ...]
    engine_flags: tuple[str, ...]


def parse_case(text: str) -> Case:
    """NAME or NAME=FLAGS, e.g. 'fp8=--quantization fp8 --kv-cache-dtype fp8'."""
    name, _, flags = text.partition("=")
    name = name.strip()
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"--case {text!r}: the name must be letters, digits, - or _ "
                          f"(write NAME or NAME=FLAGS)")
    words = shlex.split(flags)
    return Case(name, tuple(w for w in words if w in HARNESS_CASE_FLAGS),
                tuple(w for w in words if w not in HARNESS_CASE_FLAGS))


@dataclass(frozen=True)
class Measurement:
    case: str
    kind: str  # raw | harness | remote | ref
    tokens_per_s: float | None
    seconds: float | None  # generation time (engine start excluded)
    samples: int | None
    valid: bool | None  # LoadGen's verdict (performance runs only)
    error: str | None
    log: str


def _start_logged(cmd: list[str], log: Path, **popen) -> subprocess.Popen:
    """Start `cmd` with its output in `log`, after a line giving the command."""
    with open(log, "w") as out:
        out.write("$ " + shlex.join(cmd) + "\n")
        out.flush()
        return subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, **popen)


def _run_logged(cmd: list[str], log: Path) -> int:
    """Run `cmd` to its end in a session of its own: if the bench stops first (Ctrl-C,
    SIGTERM), the child and the engine processes it started are stopped with it."""
    child = _start_logged(cmd, log, start_new_session=True)
    try:
        return child.wait()
    finally:
        _stop(child)


def _tail(log: Path, lines: int = 3) -> str:
    text = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return " | ".join(text[-lines:])[-600:]


class Bench:
    def __init__(self, model: Path, dataset: Path, task: str, out: Path,
                 common_flags: tuple[str, ...]) -> None:
        self.model, self.dataset, self.task, self.out = model, dataset, task, out
        self.common = common_flags
        self.samples = len(read_records(dataset))
        self.conf = one_pass_offline_conf(out, self.samples, self.samples)
        self.results = out / "results.jsonl"

    def _record(self, m: Measurement) -> Measurement:
        with open(self.results, "a") as f:
            f.write(json.dumps(asdict(m)) + "\n")
        rate = f"{m.tokens_per_s:,.1f} tok/s in {m.seconds:,.1f} s" if m.tokens_per_s else m.error
        verdict = {True: " VALID", False: " INVALID", None: ""}[m.valid]
        print(f"  {m.case:<16} {m.kind:<8} {rate}{verdict}   (log {m.log})", flush=True)
        return m

    def _engine_flags(self, case: Case) -> list[str]:
        """The user's vLLM flags of a case (every path puts the harness's flags for the
        task's Offline runs before them)."""
        return [*self.common, *case.engine_flags]

    def _failed(self, case: Case, kind: str, why: str, log: Path) -> Measurement:
        return self._record(Measurement(case.name, kind, None, None, None, None,
                                        f"{why}: {_tail(log)}", str(log)))

    def raw(self, case: Case) -> Measurement:
        log = self.out / case.name / "raw.log"
        cmd = [sys.executable, "-m", "harness.bench.raw_engine", str(self.model),
               str(self.dataset), self.task, *self._engine_flags(case)]
        rc = _run_logged(cmd, log)
        lines = [ln for ln in log.read_text(errors="replace").splitlines()
                 if ln.startswith("RESULT ")]
        if rc or not lines:
            return self._failed(case, "raw", f"exit {rc}", log)
        r = json.loads(lines[-1][7:])
        return self._record(Measurement(case.name, "raw", r["tokens_per_s"], r["seconds"],
                                        r["prompts"], None, None, str(log)))

    def harness(self, case: Case, kind: str = "harness",
                backend: tuple[str, ...] = ()) -> Measurement:
        root = self.out / case.name / kind
        log = self.out / case.name / f"{kind}.log"
        verb, mode = ("run-mmlu", "accuracy") if self.task == "mmlu" else ("run-offline",
                                                                           "performance")
        engine = () if backend else (*self.common, *case.engine_flags)
        cmd = [sys.executable, "-m", "harness", verb, "--model", str(self.model), "--dataset",
               str(self.dataset), "--user-conf", str(self.conf), "--output-dir", str(root),
               "--progress-interval", "30", *backend, *case.harness_flags, *engine]
        rc = _run_logged(cmd, log)
        run_dir = RunLayout(root, "Offline").mode_dir(mode)
        clock_file = run_dir / CLOCK_FILE
        if rc or not clock_file.is_file():
            return self._failed(case, kind, f"exit {rc}", log)
        clock = json.loads(clock_file.read_text())
        if mode == "accuracy":
            tok_s, valid = clock["output_tokens"] / clock["seconds"], None
        else:
            summary = parse_run(run_dir)
            tok_s, valid = summary.tokens_per_second, summary.valid
        return self._record(Measurement(case.name, kind, tok_s, clock["seconds"],
                                        clock["samples"], valid, None, str(log)))

    def reference(self, case: Case) -> Measurement:
        log = self.out / case.name / "ref.log"
        run_dir = self.out / case.name / "ref"
        cmd = [sys.executable, "-m", "harness.bench.reference", str(self.model),
               str(self.dataset), str(self.conf), str(run_dir), *self._engine_flags(case)]
        rc = _run_logged(cmd, log)
        if rc or not (run_dir / DETAIL_LOG).is_file():
            return self._failed(case, "ref", f"exit {rc}", log)
        summary = parse_run(run_dir)
        seconds = summary.sample_count / summary.samples_per_second
        return self._record(Measurement(case.name, "ref", summary.tokens_per_second, seconds,
                                        summary.sample_count, summary.valid, None, str(log)))

    def remote(self, case: Case) -> Measurement:
        from sut.vllm.engine_args import engine_env, serve_command
        from sut.vllm.flags import EngineJob

        port = _free_port()
        log = self.out / case.name / "server.log"
        cmd = serve_command(str(self.model), self._engine_flags(case),
                            EngineJob(self.task, "Offline"), "127.0.0.1", port)
        url = f"http://127.0.0.1:{port}"
        server = _start_logged(cmd, log, start_new_session=True,
                               env={**os.environ, **engine_env()})
        try:
            problem = _wait_healthy(url, server, SERVER_START_TIMEOUT_S)
            if problem:
                return self._failed(case, "remote", problem, log)
            return self.harness(case, "remote", ("--backend", "remote", "--remote-url", url))
        finally:
            _stop(server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return f"vllm serve exited with {server.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return None
        except OSError:
            pass
        time.sleep(2)
    return f"vllm serve not healthy after {timeout_s:.0f} s"


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM to a running child's session (the harness then ends its run with its logs),
    SIGKILL after a minute."""
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _ratio(a: Measurement | None, b: Measurement | None) -> str:
    if a and b and a.tokens_per_s and b.tokens_per_s:
        return f"{a.tokens_per_s / b.tokens_per_s:.3f}"
    return "-"


def render_table(rows: list[Measurement]) -> str:
    """One line per case: tok/s of each path, then harness/raw, remote/harness, harness/ref."""
    by_case: dict[str, dict[str, Measurement]] = {}
    for m in rows:
        by_case.setdefault(m.case, {})[m.kind] = m

    def cell(m: Measurement | None) -> str:
        if m is None:
            return "-"
        if m.tokens_per_s is None:
            return "failed"
        return f"{m.tokens_per_s:,.1f}" + {True: "", False: " INV", None: ""}[m.valid]

    lines = [f"{'case':<16} {'raw tok/s':>12} {'harness tok/s':>14} {'remote tok/s':>14} "
             f"{'ref tok/s':>12} {'harness/raw':>12} {'remote/harness':>15} {'harness/ref':>12}"]
    for name, kinds in by_case.items():
        raw, har, rem, ref = (kinds.get(k) for k in ("raw", "harness", "remote", "ref"))
        lines.append(f"{name:<16} {cell(raw):>12} {cell(har):>14} {cell(rem):>14} "
                     f"{cell(ref):>12} {_ratio(har, raw):>12} {_ratio(rem, har):>15} "
                     f"{_ratio(har, ref):>12}")
    return "\n".join(lines)


def _names(text: str, cases: list[Case], flag: str) -> set[str]:
    known = {c.name for c in cases}
    names = known if text == "all" else {n for n in text.split(",") if n}
    if names - known:
        raise ConfigError(f"{flag} names unknown case(s) {', '.join(sorted(names - known))}; "
                          f"cases: {', '.join(c.name for c in cases)}")
    return names


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.bench.gpu",
                                description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--model", type=Path, required=True, help="model folder")
    p.add_argument("--dataset", type=Path, required=True,
                   help="prompt file (e.g. `python -m harness synthetic-dataset`)")
    p.add_argument("--task", choices=sorted(TASKS), default="cnn")
    p.add_argument("--out", type=Path, default=Path("bench-gpu"), help="results and logs")
    p.add_argument("--common", default="",
                   help="engine flags for every case, e.g. '--load-format dummy'")
    p.add_argument("--case", action="append", default=[], dest="cases",
                   help="NAME or NAME=FLAGS; repeat (default: one case 'default', no flags)")
    p.add_argument("--raw", default="", help="cases to measure raw too: a,b or all")
    p.add_argument("--remote", default="", help="cases to measure via vllm serve too: a,b or all")
    p.add_argument("--reference", default="",
                   help="cases to measure the public reference's style too (cnn task): a,b or all")
    args = p.parse_args(argv)
    try:
        cases = [parse_case(c) for c in args.cases] or [parse_case("default")]
        if len({c.name for c in cases}) != len(cases):
            raise ConfigError("two --case entries share a name")
        raw, remote = _names(args.raw, cases, "--raw"), _names(args.remote, cases, "--remote")
        reference = _names(args.reference, cases, "--reference")
        if reference and args.task != "cnn":
            raise ConfigError("--reference measures the reference's Offline performance SUT: "
                              "the cnn task only")
        if not args.dataset.is_file():
            raise ConfigError(f"dataset not found: {args.dataset}")
        for c in cases:
            (args.out / c.name).mkdir(parents=True, exist_ok=True)
        bench = Bench(args.model, args.dataset, args.task, args.out,
                      tuple(shlex.split(args.common)))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(f"bench-gpu: {bench.samples:,} prompts ({args.task}), {len(cases)} case(s); "
          f"results appended to {bench.results}", flush=True)
    rows = []
    signal.signal(signal.SIGTERM, _interrupt)  # stop the running case's processes too
    try:
        for c in cases:
            if c.name in raw:
                rows.append(bench.raw(c))
            rows.append(bench.harness(c))
            if c.name in remote:
                rows.append(bench.remote(c))
            if c.name in reference:
                rows.append(bench.reference(c))
    except KeyboardInterrupt:
        print(f"bench-gpu: stopped; finished measurements are in {bench.results}",
              file=sys.stderr)
        print(render_table(rows))
        return 130
    print(render_table(rows))
    return 1 if any(m.error for m in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
