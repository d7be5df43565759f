"""Shared fixtures: the embedded demo assets, the tokenizer, and running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
