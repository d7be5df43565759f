"""Packaging tiny CPU runs (fake backends through real LoadGen) into the submission tree."""

import hashlib
import json
import shutil

import pytest

from accuracy.rouge import RougeScores, read_scores
from harness.results.summary import parse_run
from harness.rules import (
    DATACENTER_SAMPLE_COUNT,
    MIN_DURATION_MS,
    ROUND_SEEDS,
    SUBMISSION_ROUND,
)
from harness.run import status
from harness.run.layout import ConfigRecord, read_config_record
from harness.submission.package import check_accuracy, check_performance, weights_as_run
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
    assert (root / "src" / "harness" / "submission" / "package.py").is_file()
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
    for problem in (f"Offline/performance/run_1: min_duration 0 ms < {MIN_DURATION_MS}",
                    f"Offline/accuracy: accuracy run over 32 samples, not "
                    f"{DATACENTER_SAMPLE_COUNT:,}",
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


def test_an_accuracy_run_without_accuracy_json_is_named(runs, yaml_file, tmp_path):
    old = tmp_path / "old"  # as a harness before accuracy.json left it
    shutil.copytree(runs, old)
    (old / "Offline" / "accuracy" / "accuracy.json").unlink()
    res = _package(old, tmp_path / "sub", yaml_file)
    assert res.returncode == 7
    assert (f"Offline file accuracy/accuracy.json (make run-accuracy SCENARIO=Offline again: "
            f"older harness versions did not write it) not found: "
            f"{old / 'Offline' / 'accuracy' / 'accuracy.json'}") in res.stderr
    assert not (tmp_path / "sub").exists()


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


SUBMITTABLE = {"effective_scenario": "Offline", "result_validity": "VALID",
               **{f"effective_{k}": v for k, v in ROUND_SEEDS.items()},
               "effective_min_duration_ms": MIN_DURATION_MS,
               "effective_performance_sample_count": DATACENTER_SAMPLE_COUNT,
               "effective_samples_per_query": DATACENTER_SAMPLE_COUNT,
               "effective_sample_concatenate_permutation": True,
               "requested_use_token_latencies": True,
               "effective_accuracy_sample_count": DATACENTER_SAMPLE_COUNT}


def _run(tmp_path, name, **values):
    """parse_run over a detail log holding these MLLOG values."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mlperf_log_detail.txt").write_text("".join(
        ":::MLLOG " + json.dumps({"key": k, "value": v}) + "\n" for k, v in values.items()))
    return parse_run(folder)


def test_performance_checks_read_loadgens_record(tmp_path):
    assert check_performance("Offline", _run(tmp_path, "ok", **SUBMITTABLE)) == []
    seed = next(iter(ROUND_SEEDS))
    bad = _run(tmp_path, "bad", **{**SUBMITTABLE, "result_validity": "INVALID",
                                   f"effective_{seed}": 7, "effective_min_duration_ms": 1000,
                                   "effective_sample_concatenate_permutation": False})
    where = "Offline/performance/run_1: "
    assert [str(f) for f in check_performance("Offline", bad)] == [
        where + "LoadGen says INVALID",
        where + f"{seed} 7 is not the {SUBMISSION_ROUND} seed {ROUND_SEEDS[seed]} (user.conf "
                f"overrides it?)",
        where + f"min_duration 1000 ms < {MIN_DURATION_MS}",
        where + "sample_concatenate_permutation is off"]
    server = _run(tmp_path, "server", **{
        **SUBMITTABLE, "effective_scenario": "Server", "early_stopping_met": False,
        "result_first_token_99.00_percentile_latency_ns": 2_500_000_000,
        "result_time_per_output_token_99.00_percentile_ns": 20_000_000})
    assert [str(f) for f in check_performance("Server", server)] == [
        "Server/performance/run_1: TTFT p99 2,500.0 ms not below 2000 ms",
        "Server/performance/run_1: early stopping not met"]


def test_accuracy_checks_read_the_scores_record(tmp_path):
    scores = RougeScores(38.9, 15.1, 24.6, 35.9, gen_len=8_000_000, gen_num=13368)
    path = tmp_path / "accuracy.json"
    path.write_text(json.dumps(scores.as_dict(), indent=2) + "\n")  # as the scorer writes it
    assert read_scores(path) == scores
    run = _run(tmp_path, "acc", **{**SUBMITTABLE, "effective_accuracy_sample_count": 32})
    assert [str(f) for f in check_accuracy("Offline", run, read_scores(path))] == [
        "Offline/accuracy: rouge2 15.1 misses >= 15.7484 (99% of 15.9075)",
        "Offline/accuracy: accuracy run over 32 samples, not 13,368"]


def test_a_run_without_harness_config_reads_as_an_empty_record(tmp_path):
    assert read_config_record(tmp_path) == ConfigRecord()
    (tmp_path / "harness_config.json").write_text(json.dumps(
        {"model_dir": "/m/Llama-3.1-8B", "dataset": "/d/cnn.json", "engine_args": ["-q", "fp8"],
         "scenario": "Offline"}))
    assert read_config_record(tmp_path) == ConfigRecord("/m/Llama-3.1-8B", "/d/cnn.json",
                                                        ("-q", "fp8"))
