"""MMLU: answer extraction, scoring against hand-computed values, and runs through LoadGen."""

import json

import numpy as np
import pytest

from accuracy.decode import decode_outputs
from accuracy.mmlu import extract_answer, score
from harness.tasks import TASKS
from tests.conftest import run_cli

datasets = pytest.importorskip("datasets")

CHOICES = ["London", "Paris", "Rome", "Berlin"]
EXTRACTION = [
    ("C", "C"), ("C.", "C"), ("(C)", "C"), ("**C**", "C"), ("c", "C"), ("  \n B", "B"),
    ("The best answer is C.", "C"), ("The best answer is **D**", "D"), ("Answer: A", "A"),
    ("The answer is: b", "B"), ("D) Rome", "D"), ("B. Paris", "B"), ("Paris", "B"),
    ("rome.", "C"), ("I think the answer is (C), because ... The best answer is D", "D"),
    ("", None), ("I don't know", None), ("a big city", None), ("Madrid", None),
    ("To answer a question you read it", None),
]


@pytest.mark.parametrize("text,letter", EXTRACTION)
def test_extraction(text, letter):
    assert extract_answer(text, CHOICES) == letter


def test_score_micro_macro_categories_by_hand():
    recs = [{"input": "q", "output": g, "subject": s} for g, s in
            [("A", "anatomy"), ("B", "anatomy"), ("C", "anatomy"), ("D", "anatomy"),
             ("A", "astronomy"), ("B", "astronomy"), ("C", "philosophy")]]
    answers = {0: "A", 1: "B", 2: "D", 3: "no idea",   # anatomy 2/4
               4: "A", 5: "The best answer is B",      # astronomy 2/2
               6: "A"}                                  # philosophy 0/1
    r = score(recs, answers)
    assert (r.correct, r.total) == (4, 7)
    assert r.micro_accuracy == pytest.approx(100 * 4 / 7, abs=1e-4)
    assert r.macro_accuracy == pytest.approx(100 * (0.5 + 1.0 + 0.0) / 3, abs=1e-4)
    assert r.per_category["STEM"] == {"correct": 2, "total": 2, "accuracy": 100.0}  # astronomy
    assert r.per_category["other"]["accuracy"] == 50.0  # anatomy is "health"
    assert r.per_category["humanities"]["accuracy"] == 0.0
    assert r.unparsed["count"] == 1 and r.unparsed["examples"][0]["qsl_idx"] == 3


SUBJECTS = ["anatomy", "astronomy", "philosophy"]


def _split(n_per_subject, tag):
    rows = {"question": [], "subject": [], "choices": [], "answer": []}
    for s in SUBJECTS:
        for i in range(n_per_subject):
            rows["question"].append(f"{tag} question {i} about {s}?")
            rows["subject"].append(s)
            rows["choices"].append([f"{s} choice {k} of {tag}{i}" for k in range(4)])
            rows["answer"].append((i + len(s)) % 4)
    return datasets.Dataset.from_dict(rows)


@pytest.fixture(scope="module")
def mmlu_copy(tmp_path_factory):
    """cais/mmlu as the hub stores it: all/<split>-00000-of-00001.parquet."""
    root = tmp_path_factory.mktemp("mmlu")
    (root / "all").mkdir()
    for split, n in (("test", 4), ("dev", 5), ("validation", 2)):
        _split(n, split).to_parquet(str(root / "all" / f"{split}-00000-of-00001.parquet"))
    return root


def test_meta_style_prompts_are_chat_with_five_shots(mmlu_copy, tmp_path, tokenizer):
    out = tmp_path / "mmlu.json"
    res = run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--out", str(out))
    assert res.returncode == 0, res.stderr
    recs = json.loads(out.read_text())
    assert len(recs) == 12 and {r["subject"] for r in recs} == set(SUBJECTS)
    r = recs[0]
    assert r["input"].startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                                 "Given the following question and four candidate answers")
    assert r["input"].count("<|start_header_id|>user") == 6  # 5 shots + the question
    assert r["input"].count("<|start_header_id|>assistant<|end_header_id|>\n\nThe best answer is ") == 5
    assert r["input"].endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert "dev question 0 about anatomy?" in r["input"]  # shots from the same subject's dev
    assert r["tok_input"][0] == 128000 and r["tok_input"].count(128000) == 1
    assert r["tok_input"] == tokenizer.encode(r["input"], add_special_tokens=False)
    assert r["output"] == "ABCD"[(0 + len("anatomy")) % 4]


def test_plain_zero_shot_style(mmlu_copy, tmp_path):
    out = tmp_path / "mmlu0.json"
    res = run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--style", "plain-0shot",
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())[0]
    assert r["input"] == ("The following are multiple choice questions (with answers) about "
                          "anatomy.\n\ntest question 0 about anatomy?\nA. anatomy choice 0 of "
                          "test0\nB. anatomy choice 1 of test0\nC. anatomy choice 2 of test0\n"
                          "D. anatomy choice 3 of test0\nAnswer:")


def _logged_answers(acc_dir):
    """qsl_idx -> the token ids LoadGen logged; asserts each sample was answered once."""
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    answers = {e["qsl_idx"]: np.frombuffer(bytes.fromhex(e["data"]), np.int32) for e in log}
    assert len(answers) == len(log), "a sample answered twice"
    return answers


def test_oracle_mmlu_run_scores_100_through_loadgen(mmlu_copy, tmp_path):
    data = tmp_path / "mmlu.json"
    assert run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--out", str(data)).returncode == 0
    res = run_cli("run-mmlu", "--backend", "fake-oracle", "--dataset", str(data),
                  "--output-dir", str(tmp_path / "runs"), "--progress-interval", "0")
    assert res.returncode == 0, res.stderr
    result = json.loads((tmp_path / "runs" / "Offline" / "accuracy" / "mmlu.json").read_text())
    assert result["micro_accuracy"] == 100.0 and result["macro_accuracy"] == 100.0
    assert result["unparsed"]["count"] == 0 and result["total"] == 12
    acc_dir = tmp_path / "runs" / "Offline" / "accuracy"
    clock = json.loads((acc_dir / "harness_clock.json").read_text())
    # the harness counted exactly the tokens of the answers LoadGen logged, and says so
    logged = _logged_answers(acc_dir)
    assert sorted(logged) == list(range(12))
    assert clock["samples"] == 12 and clock["output_tokens"] == sum(a.size for a in logged.values())
    assert (f"harness clock: 12 samples, {clock['output_tokens']:,} output tokens in "
            f"{clock['seconds']:,.1f} s") in res.stdout
    page = (acc_dir / "report.html").read_text()  # rewritten once scored: the subject chart
    assert "MMLU: micro 100.00 %, macro 100.00 %" in page and "anatomy" in page
    assert page.count("<svg") >= 2


def test_mmlu_cli_on_a_handmade_log(mmlu_copy, tmp_path, tokenizer):
    data = tmp_path / "mmlu.json"
    assert run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--style", "plain-0shot",
                   "--out", str(data)).returncode == 0
    recs = json.loads(data.read_text())
    answers = ["The best answer is " + r["output"] for r in recs[:6]] + ["?"] * 6
    log = tmp_path / "log.json"
    log.write_text(json.dumps([
        {"qsl_idx": i, "data": np.asarray(tokenizer.encode(a, add_special_tokens=False),
                                          np.int32).tobytes().hex()} for i, a in enumerate(answers)]))
    out = tmp_path / "r.json"
    res = run_cli("--mlperf-accuracy-file", str(log), "--dataset-file", str(data),
                  "--output-json", str(out), module="accuracy.mmlu")
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())
    assert r["micro_accuracy"] == 50.0 and r["unparsed"]["count"] == 6
    assert r["per_subject"]["anatomy"]["accuracy"] == 100.0  # the first 4 records
    assert r["macro_accuracy"] == pytest.approx((100 + 50 + 0) / 3, abs=1e-4)


@pytest.mark.vllm
@pytest.mark.slow  # MMLU scoring: the oracle runs; its engine flag: test_backend.py
def test_tiny_model_mmlu_run_on_cpu_vllm(mmlu_copy, tmp_path, tokenizer):
    data = tmp_path / "mmlu.json"
    assert run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--out", str(data)).returncode == 0
    res = run_cli("run-mmlu", "--dataset", str(data), "--output-dir", str(tmp_path / "runs"),
                  "--progress-interval", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    acc_dir = tmp_path / "runs" / "Offline" / "accuracy"
    r = json.loads((acc_dir / "mmlu.json").read_text())
    # a random model: any accuracy, but the scores are those of exactly the answers LoadGen
    # logged, one per record, each within MMLU's answer limit
    records = json.loads(data.read_text())
    logged = _logged_answers(acc_dir)
    assert sorted(logged) == list(range(len(records))) == list(range(r["total"]))
    limit = TASKS["mmlu"].params.max_new_tokens
    sizes = {i: a.size for i, a in logged.items()}
    assert all(1 <= n <= limit for n in sizes.values()), sizes
    texts = decode_outputs(tokenizer, list(logged.values()))
    rescored = score(records, dict(zip(logged, texts))).as_dict()
    assert r == json.loads(json.dumps(rescored))
    assert {s: v["total"] for s, v in r["per_subject"].items()} == {s: 4 for s in SUBJECTS}
    assert f"MMLU: micro {r['micro_accuracy']:.2f} %" in res.stdout


def test_dataset_kind_must_fit_the_verb(mmlu_copy, tmp_path, demo_assets):
    data = tmp_path / "mmlu.json"
    assert run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--out", str(data)).returncode == 0
    res = run_cli("run-accuracy", "--backend", "fake-oracle", "--dataset", str(data),
                  "--output-dir", str(tmp_path / "a"))
    assert res.returncode == 2 and "is an MMLU file; use run-mmlu" in res.stderr
    res = run_cli("run-mmlu", "--backend", "fake-oracle", "--dataset",
                  str(demo_assets.dataset_path), "--output-dir", str(tmp_path / "b"))
    assert res.returncode == 2 and "is a CNN-DailyMail file" in res.stderr


def test_missing_scoring_tokenizer_fails_before_the_run(mmlu_copy, tmp_path):
    data = tmp_path / "mmlu.json"
    assert run_cli("dataset", "mmlu", "--source", str(mmlu_copy), "--out", str(data)).returncode == 0
    res = run_cli("run-mmlu", "--backend", "fake-latency", "--dataset", str(data),
                  "--tokenizer", str(tmp_path / "nowhere"), "--output-dir", str(tmp_path / "runs"))
    assert res.returncode == 4, res.stderr
    assert f"tokenizer folder not found: {tmp_path / 'nowhere'}" in res.stderr
    assert "starting the" not in res.stderr and not (tmp_path / "runs").exists()
