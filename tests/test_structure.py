"""The architecture, held: which package may import which (docs/DESIGN.md, "The tree")."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("harness", "sut", "qsl", "accuracy")
HARNESS_LEAVES = {"harness.rules", "harness.errors"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update([node.module] + [f"{node.module}.{a.name}" for a in node.names])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("package", ["sut", "qsl", "accuracy"])
def test_packages_below_harness_use_only_its_leaves(package):
    wrong = [(p.relative_to(REPO), m) for p in _modules(package) for m in _imports(p)
             if _top(m) == "harness" and m != "harness"
             and not any(m == leaf or m.startswith(leaf + ".") for leaf in HARNESS_LEAVES)]
    assert not wrong


def test_the_leaves_import_nothing_of_the_project():
    for leaf in HARNESS_LEAVES:
        path = REPO / (leaf.replace(".", "/") + ".py")
        assert not {m for m in _imports(path) if _top(m) in PACKAGES}, leaf


def test_only_sut_vllm_imports_vllm():
    importers = {p.relative_to(REPO).parent.as_posix() for pkg in PACKAGES
                 for p in _modules(pkg) if any(_top(m) == "vllm" for m in _imports(p))}
    assert importers == {"sut/vllm"}


def test_the_scorers_never_use_sut():
    assert not [p for p in _modules("accuracy") for m in _imports(p) if _top(m) == "sut"]


def test_scoring_loads_neither_torch_nor_vllm(tmp_path, demo_assets):
    """Score a real log in a fresh process; torch and vllm stay out of it."""
    import json

    import numpy as np

    data = json.loads(demo_assets.dataset_path.read_text())[:2]
    dataset = tmp_path / "d.json"
    dataset.write_text(json.dumps(data))
    log = [{"seq_id": i, "qsl_idx": i, "data": np.array(r["tok_input"][-8:], np.int32).tobytes()
            .hex().upper(), "token_count": 8} for i, r in enumerate(data)]
    (tmp_path / "log.json").write_text(json.dumps(log))
    script = ("import sys\nfrom accuracy import rouge\n"
              f"s = rouge.evaluate({str(tmp_path / 'log.json')!r}, {str(dataset)!r}, "
              f"{str(demo_assets.tokenizer_dir)!r})\n"
              "print(s.gen_num, 'torch' in sys.modules, 'vllm' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split()[-3:] == ["2", "False", "False"]
