"""Shared fixtures: the embedded demo assets, the tokenizer, and running the real CLI (to the
end, or started as a terminal starts it, to be signalled: tests.harness_process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness_process import Harness

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_assets():
    from harness.assets.demo import ensure_demo_assets

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
