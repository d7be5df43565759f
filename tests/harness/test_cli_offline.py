"""The Offline slice end to end through the real CLI and real LoadGen, with fake backends."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from harness.rules import DATACENTER_SAMPLE_COUNT
from tests.conftest import REPO, run_cli

FAST = ("--progress-interval", "0")


def _run(tmp_path, command, *extra):
    return run_cli(command, "--backend", "fake-oracle", "--output-dir", str(tmp_path / "runs"),
                   *FAST, *extra)


def test_oracle_performance_run_is_valid_and_laid_out(tmp_path):
    res = _run(tmp_path, "run-offline")
    assert res.returncode == 0, res.stderr
    assert "LoadGen Offline PerformanceOnly: VALID" in res.stdout
    assert "samples     32" in res.stdout
    scen = tmp_path / "runs" / "Offline"
    run_dir = scen / "performance" / "run_1"
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "harness_config.json"):
        assert (run_dir / name).is_file(), name
    assert "performance_sample_count_override = 32" in (scen / "user.conf").read_text()
    assert (scen / "mlperf.conf").read_text() == (REPO / "mlperf.conf").read_text()
    assert f"logs: {run_dir} (report {run_dir / 'report.html'})" in res.stdout
    timings = (run_dir / "harness_samples.csv").read_text().splitlines()
    assert len(timings) == 1 + 32  # a header, then each sample LoadGen issued (32 in one query)
    page = (run_dir / "report.html").read_text()
    assert "<title>Offline performance run: VALID</title>" in page
    assert "Sample latency (issue to last token)" in page and "Requests in flight" not in page


def test_oracle_accuracy_run_scores_100_through_real_loadgen(tmp_path, demo_assets, tokenizer):
    res = _run(tmp_path, "run-accuracy")
    assert res.returncode == 0, res.stderr
    acc_dir = tmp_path / "runs" / "Offline" / "accuracy"
    scores = json.loads((acc_dir / "accuracy.json").read_text())
    for metric in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert scores[metric] == pytest.approx(100.0, abs=1e-3), metric
    assert scores["gen_num"] == 32
    assert "not comparable" in res.stdout  # 32 samples: the full-dataset targets do not apply
    # Every sample was completed once, with its own reference tokens (id -> sample chain).
    refs = [r["output"] for r in json.loads(demo_assets.dataset_path.read_text())]
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == list(range(32))
    for e in log:
        ids = np.frombuffer(bytes.fromhex(e["data"]), np.int32).tolist()
        assert ids == tokenizer.encode(refs[e["qsl_idx"]], add_special_tokens=False) + [128009]
    assert (acc_dir / "accuracy.txt").read_text().startswith("{'rouge1': 100.0")
    page = (acc_dir / "report.html").read_text()  # written again once scored
    assert "<title>Offline accuracy run: scored below</title>" in page
    assert "<td>rouge1</td>\n      <td>100.0</td>" in page
    lengths = [len(e["data"]) // 8 for e in log]
    assert f"Output length (32 answers, mean {np.mean(lengths):,.1f} tokens)" in page


HIDE_ROUGE_SCORE = "import sys\nsys.modules['rouge_score'] = None  # import fails\n"


def test_missing_rouge_package_fails_before_the_run(tmp_path):
    """A machine without the scorer's packages learns it before the engine runs, not after."""
    hide = tmp_path / "site"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_ROUGE_SCORE)
    env = {**os.environ, "PYTHONPATH": f"{hide}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    res = subprocess.run([sys.executable, "-m", "harness", "run-accuracy", "--backend",
                          "fake-oracle", "--output-dir", str(tmp_path / "runs"), *FAST],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 4, res.stderr
    assert "ROUGE scoring needs the Python package(s) rouge_score" in res.stderr
    assert "pip install -r requirements-gpu.txt" in res.stderr
    assert "starting the" not in res.stderr and not (tmp_path / "runs").exists()


def test_rerun_moves_previous_run_to_history(tmp_path):
    assert _run(tmp_path, "run-offline").returncode == 0
    assert _run(tmp_path, "run-offline").returncode == 0
    kept = list((tmp_path / "runs" / "history").iterdir())
    assert len(kept) == 1 and (kept[0] / "mlperf_log_summary.txt").is_file()


def test_failed_sample_fails_the_run_and_keeps_logs(tmp_path):
    res = run_cli("run-offline", "--backend", "fake-failing", "--warmup", "0", "--output-dir",
                  str(tmp_path / "runs"), *FAST)
    assert res.returncode == 5
    assert "run FAILED: sample 1 failed: SampleFailure: injected failure for sample 1" in res.stderr
    run_dir = tmp_path / "runs" / "Offline" / "performance" / "run_1"
    assert "qsl_idx=1" in (run_dir / "FAILED.txt").read_text()
    # LoadGen's summary (VALID: the failed answers were timed as empty ones) is kept only
    # under a name that says so.
    assert "Result is : VALID" in (run_dir / "FAILED-mlperf_log_summary.txt").read_text()
    assert not (run_dir / "mlperf_log_summary.txt").exists()
    assert "VALID" not in res.stdout
    page = (run_dir / "report.html").read_text()  # says FAILED, whatever LoadGen said
    assert "<title>Offline performance run: FAILED</title>" in page
    assert "FAILED: not a result" in page and "injected failure for sample 1" in page
    assert "LoadGen: VALID" not in page


@pytest.mark.parametrize("args,code,message", [
    (("--dataset", "/nonexistent/cnn_eval.json"), 3, "dataset file not found: /nonexistent/cnn_eval.json"),
    (("--model", "/tmp"), 2, "a model was given without a dataset"),
    (("--user-conf", "/nonexistent.conf"), 2, "user.conf not found"),
    (("--backend", "vlm"), 2, "unknown backend 'vlm'. Did you mean 'vllm'?"),
    (("--max-num-seqs", "8"), 2, "engine flags '--max-num-seqs 8' given, but the fake-oracle backend"),
    (("--warmup", "-1"), 2, "argument --warmup: must be >= 0, got -1"),
])
def test_bad_input_clear_error_and_exit_code(tmp_path, args, code, message):
    res = _run(tmp_path, "run-offline", *args)
    assert res.returncode == code, res.stderr
    assert message in res.stderr


def test_real_model_settings_need_the_full_dataset(tmp_path, demo_assets):
    # A non-demo model: the demo section is left out, so LoadGen wants the full dataset.
    res = _run(tmp_path, "run-offline", "--model", str(demo_assets.model_dir),
               "--dataset", str(demo_assets.dataset_path))
    assert res.returncode == 2
    assert f"ask for {DATACENTER_SAMPLE_COUNT:,} performance samples" in res.stderr
    assert "performance_sample_count_override = 32" in res.stderr


def test_progress_line_reports_counts(tmp_path):
    res = run_cli("run-offline", "--backend", "fake-latency", "--fake-itl-ms", "20",
                  "--output-dir", str(tmp_path / "runs"), "--progress-interval", "0.5")
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("[Offline]")]
    assert lines and "32/32 samples (100.0%)" in lines[-1] and "tok/s" in lines[-1]
