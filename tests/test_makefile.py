"""Every Make verb resolves to one `python -m ...` call, with no duplicate or broken recipe."""

import subprocess
import sys

import pytest

from tests.conftest import REPO

VERBS = ["run-offline", "run-server", "run-interactive", "run-singlestream", "run-accuracy",
         "run-compliance", "find-qps", "submission", "check-submission", "dataset",
         "validate-dataset", "dataset-mmlu", "run-mmlu", "bench", "bench-gpu", "demo-assets", "test", "test-all",
         "probes"]


@pytest.mark.parametrize("verb", VERBS)
def test_make_verb_dry_run(verb):
    res = subprocess.run(["make", "-n", verb, "PYTHON=python3", "ORG=o", "SYSTEM=s",
                          "DATASET=d.json", "INFERENCE=/x"], cwd=REPO, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    assert "warning" not in res.stderr.lower(), res.stderr
    commands = [ln for ln in res.stdout.splitlines() if ln.startswith("python3 -m ")]
    assert len(commands) == 1, res.stdout
    module = commands[0].split()[2]
    assert module in ("harness", "harness.bench.cpu", "harness.bench.gpu", "pytest", "tests.probes")
    if module == "harness":
        sub = commands[0].split()[3]  # the subcommand exists and parses its --help
        help_run = subprocess.run([sys.executable, "-m", "harness", sub, "--help"], cwd=REPO,
                                  capture_output=True, text=True)
        assert help_run.returncode == 0, help_run.stderr
