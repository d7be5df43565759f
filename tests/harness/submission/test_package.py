"""Packaging tiny CPU runs (fake backends through real LoadGen) into the submission tree."""

import hashlib
import json
import shutil

import pytest

from harness.run import status
from harness.submission.package import weights_as_run
from harness.submission.system_description import SYSTEM_FIELDS
from tests.conftest import make_submission_runs, run_cli

SYSTEM_YAML = """\
host_storage_capacity: 1 TB
host_storage_type: NVMe SSD
host_networking: none
host_network_card_count: "0"
host_networking_topology: N/A
host_memory_configuration: 1x 24 GB
accelerator_host_interconnect: N/A
accelerator_memory_configuration: N/A
accelerator_interconnect: N/A
cooling: air
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_submission_runs(tmp_path_factory.mktemp("runs"))


@pytest.fixture
def yaml_file(tmp_path):
    path = tmp_path / "system.yaml"
    path.write_text(SYSTEM_YAML)
    return path


def _package(runs, out, yaml_file, *extra):
    return run_cli("submission", "--runs", str(runs), "--org", "Demo", "--system", "cpu2",
                   "--system-yaml", str(yaml_file), "--out", str(out), *extra)


def test_tree_files_truncation_and_hash(runs, yaml_file, tmp_path):
    res = _package(runs, tmp_path / "sub", yaml_file)
    root = tmp_path / "sub" / "closed" / "Demo"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                   if p.is_file() and not str(p.relative_to(root)).startswith("src/"))
    expected = ["documentation/calibration.md", "systems/cpu2.json"]
    for s in ("Offline", "Server"):
        base = f"results/cpu2/llama3.1-8b/{s}/"
        expected += [base + f for f in (
            "README.md", "TEST06/accuracy/mlperf_log_accuracy.json", "TEST06/verify_accuracy.txt",
            "accuracy/accuracy.txt", "accuracy/mlperf_log_accuracy.json",
            "accuracy/mlperf_log_detail.txt", "accuracy/mlperf_log_summary.txt",
            "measurements.json", "performance/run_1/mlperf_log_detail.txt",
            "performance/run_1/mlperf_log_summary.txt", "user.conf")]
    assert files == sorted(expected)
    assert (root / "src" / "harness" / "submission.py").is_file()
    full = (runs / "Offline" / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
    acc = root / "results" / "cpu2" / "llama3.1-8b" / "Offline" / "accuracy"
    cut = (acc / "mlperf_log_accuracy.json").read_text()
    assert len(full) > 8192 and len(cut.encode()) <= 10 * 1024
    assert cut.startswith(full.decode()[:4096]) and cut.endswith(full.decode()[-4096:])
    text = (acc / "accuracy.txt").read_text()
    assert text.startswith("{'rouge1': 100.0")
    assert text.rstrip().endswith(f"hash={hashlib.sha256(full).hexdigest()}")
    system = json.loads((root / "systems" / "cpu2.json").read_text())
    assert set(system) == set(SYSTEM_FIELDS)
    assert system["submitter"] == "Demo" and system["cooling"] == "air"
    assert system["host_processor_core_count"].isdigit()
    m = json.loads((acc.parent / "measurements.json").read_text())
    assert all(m[k] for k in ("input_data_types", "retraining", "starting_weights_filename",
                              "weight_data_types", "weight_transformations"))
    # Tiny demo runs are not submittable; the harness says why, before the official checker.
    assert res.returncode == 7
    for problem in ("Offline/performance/run_1: min_duration 0 ms < 600000",
                    "Offline/accuracy: accuracy run over 32 samples, not 13,368",
                    "Server/performance/run_1: early stopping not met"):
        assert problem in res.stdout


def test_missing_fields_are_asked_for(runs, tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text("cooling: air\n")
    res = _package(runs, tmp_path / "sub", short)
    assert res.returncode == 7
    assert "host_storage_capacity: ..." in res.stderr and "cooling: ..." not in res.stderr


def test_missing_scenarios_and_stray_folders(runs, yaml_file, tmp_path):
    only_offline = tmp_path / "only"
    shutil.copytree(runs / "Offline", only_offline / "Offline")
    res = _package(only_offline, tmp_path / "a", yaml_file)
    assert res.returncode == 7 and "needs Offline and Server and/or Interactive" in res.stderr
    stray = tmp_path / "stray"
    shutil.copytree(runs / "Offline", stray / "Offline")
    shutil.copytree(runs / "Server", stray / "server")
    res = _package(stray, tmp_path / "b", yaml_file)
    assert res.returncode == 7 and "unknown scenario folder(s) server" in res.stderr


def test_missing_test06_is_named(runs, yaml_file, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(runs, partial)
    shutil.rmtree(partial / "Server" / "TEST06")
    res = _package(partial, tmp_path / "c", yaml_file)
    assert res.returncode == 7 and "Server file TEST06/verify_accuracy.txt (make run-compliance)" in res.stderr


@pytest.mark.parametrize("folder, mark, said", [
    ("Server/performance/run_1", "failed", "FAILED: stopped by SIGTERM"),
    ("Offline/accuracy", "failed", "FAILED: stopped by SIGTERM"),
    ("Server/TEST06/run", "running", "never finished"),
])
def test_a_failed_or_unfinished_run_is_never_packaged(runs, yaml_file, tmp_path, folder, mark,
                                                       said):
    bad = tmp_path / "bad"
    shutil.copytree(runs, bad)
    if mark == "failed":
        status.mark_failed(bad / folder, "stopped by SIGTERM")
    else:
        status.mark_running(bad / folder)  # as a harness killed with -9 leaves it
    res = _package(bad, tmp_path / "sub", yaml_file)
    assert res.returncode == 7, res.stderr
    assert f"the run in {bad / folder} {said}" in res.stderr and "not packaged" in res.stderr
    assert not (tmp_path / "sub").exists()


def test_packaging_replaces_only_what_it_builds(runs, yaml_file, tmp_path):
    out = tmp_path / "sub"
    org = out / "closed" / "Demo"
    others = {org / "results" / "gpu8" / "llama3.1-8b" / "Offline" / "README.md": "other system",
              org / "results" / "cpu2" / "resnet" / "Offline" / "README.md": "other benchmark",
              org / "systems" / "gpu8.json": "{}",
              org / "documentation" / "calibration.md": "# my own recipe",
              out / "closed" / "OtherOrg" / "systems" / "x.json": "{}"}
    for path, text in others.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _package(runs, out, yaml_file)
    readme = org / "results" / "cpu2" / "llama3.1-8b" / "Offline" / "README.md"
    readme.write_text("an earlier packaging")
    res = _package(runs, out, yaml_file)
    assert res.returncode == 7, res.stderr  # tiny runs: findings, but the tree is written
    for path, text in others.items():
        assert path.read_text() == text, path
    assert readme.read_text().startswith("# llama3.1-8b Offline")
    kept = list((tmp_path / "sub.replaced").glob("*/closed/Demo/results/cpu2/llama3.1-8b"))
    assert len(kept) == 1 and (kept[0] / "Offline" / "README.md").read_text() == \
        "an earlier packaging"
    assert "earlier copies are in" in res.stdout
    assert not list(tmp_path.glob(".sub-building-*"))


def test_check_submission_refuses_a_failed_run_copied_into_the_tree(runs, yaml_file, tmp_path):
    out = tmp_path / "sub"
    _package(runs, out, yaml_file)
    perf = out / "closed" / "Demo" / "results" / "cpu2" / "llama3.1-8b" / "Server" / \
        "performance" / "run_1"
    (perf / "FAILED.txt").write_text("stopped by SIGTERM\n")  # as if copied in by hand
    res = run_cli("check-submission", "--org", "Demo", "--out", str(out), "--inference-repo",
                  str(tmp_path / "no-checkout"))
    assert res.returncode == 7, res.stderr
    assert f"the run in {perf} FAILED (stopped by SIGTERM): not a result" in res.stderr


@pytest.mark.parametrize("flags, expected", [
    ([], ("bf16", "none")),
    (["--quantization", "fp8"], ("fp8", "fp8 quantization by vLLM")),
    (["--quantization=fp8", "--kv-cache-dtype", "fp8"], ("fp8", "fp8 quantization by vLLM")),
    (["-q", "awq"], ("awq", "awq quantization by vLLM")),
    (["--dtype", "bfloat16"], ("bf16", "none")),
    (["--dtype=float16"], ("fp16", "cast to fp16 by vLLM")),
    (["--dtype", "float16", "--quantization", "fp8"], ("fp8", "fp8 quantization by vLLM")),
])
def test_weights_from_any_spelling_of_the_flags(flags, expected):
    assert weights_as_run(flags) == expected
