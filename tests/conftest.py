"""Shared fixtures: the embedded demo assets, the tokenizer, and running the real CLI (to the\nend, or started as a terminal starts it, to be signalled)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_assets():
    from harness.demo import ensure_demo_assets

    return ensure_demo_assets()


@pytest.fixture(scope="session")
def tokenizer(demo_assets):
    from qsl.tokenizer import load_tokenizer

    return load_tokenizer(demo_assets.tokenizer_dir)


def run_cli(*args: str, timeout: float = 600, module: str = "harness") -> subprocess.CompletedProcess:
    """Run `python -m <module> args...` from the repo root, as a user would (own process:
    LoadGen reads its settings once per process)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def make_submission_runs(root: Path) -> Path:
    """Offline and Server runs (performance, accuracy, TEST06) with the fake backends under
    root, short enough for tests: everything packaging needs."""
    conf = root / "short.conf"
    conf.write_text((REPO / "user.conf").read_text()
                    + "llama3_1-8b.Server.min_query_count = 48\nllama3_1-8b.Server.target_qps = 16\n")
    common = ("--output-dir", str(root), "--progress-interval", "0", "--user-conf", str(conf))
    for args in (("run-offline", "--backend", "fake-oracle"),
                 ("run-accuracy", "--backend", "fake-oracle"),
                 ("run-compliance", "--backend", "fake-oracle"),
                 ("run-server", "--backend", "fake-latency"),
                 ("run-accuracy", "--scenario", "Server", "--backend", "fake-oracle"),
                 ("run-compliance", "--scenario", "Server", "--backend", "fake-oracle")):
        res = run_cli(*args, *common)
        assert res.returncode == 0, res.stderr
    return root


@pytest.fixture
def write_dataset(tmp_path, tokenizer):
    """Write a small MLPerf-layout dataset from (article, reference) pairs; return its path."""
    from harness.rules import PROMPT_TEMPLATE

    def write(pairs, name="data.json"):
        records = [{"instruction": PROMPT_TEMPLATE, "input": a,
                    "tok_input": tokenizer.encode(PROMPT_TEMPLATE.format(input=a)), "output": r}
                   for a, r in pairs]
        path = tmp_path / name
        path.write_text(json.dumps(records))
        return path

    return write


def process_group(pgid: int) -> list[tuple[int, str]]:
    """(pid, name) of the live processes in process group pgid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append((int(stat.parent.name), head.split("(", 1)[1]))
    return found


class Harness:
    """`python -m harness ...` started as a terminal starts a job: its own process group,
    SIGINT at its default (a non-interactive shell's background job would ignore it)."""

    def __init__(self, tmp_path: Path, *args: str, out: Path | None = None) -> None:
        self.out = out or tmp_path / "runs"
        self._harness_pids: set[int] = set()
        self._err = b""  # stderr read by read_err_until
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *args, "--output-dir", str(self.out),
             "--progress-interval", "0", "--warmup", "0"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def wait_for_loadgen(self, run_dir: Path) -> None:
        """Until LoadGen has begun its log (the test is under way)."""
        detail = run_dir / "mlperf_log_detail.txt"
        deadline = time.monotonic() + 400  # the CPU engine's start, on a busy machine
        while not (detail.is_file() and detail.stat().st_size):
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "LoadGen never started"
            time.sleep(0.05)

    def harness_pid(self) -> int:
        """The harness itself: the supervisor's one child (its pid is its group's id)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        self._harness_pids.add(int(children.split()[0]))
        return int(children.split()[0])

    def read_err_until(self, text: str) -> str:
        """stderr so far, read until it holds text (unbuffered: finish() returns it all)."""
        while text not in (seen := self._err.decode(errors="replace")):
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            assert chunk, f"stderr ended before {text!r}: {seen[-3000:]}"
            self._err += chunk
        return seen

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        """Wait for the end: exit code, stdout, all of stderr."""
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, self._err.decode(errors="replace") + err

    def kill(self) -> None:
        """End whatever is left (a test that failed midway): both process groups."""
        if self.proc.poll() is None:
            try:
                self.harness_pid()
            except (OSError, IndexError, ValueError):
                pass
        for pgid in {self.proc.pid, *self._harness_pids}:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()


@pytest.fixture
def start_harness():
    """Start Harness(...) runs; any still running at the test's end is killed."""
    started: list[Harness] = []

    def start(*args, **kwargs) -> Harness:
        started.append(Harness(*args, **kwargs))
        return started[-1]

    yield start
    for h in started:
        if h.proc.poll() is None or h._harness_pids:
            h.kill()
