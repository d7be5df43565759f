"""The ROUGE evaluator, end to end through its CLI, against an independent ROUGE computation."""

import json
from collections import Counter

import numpy as np
import pytest

from accuracy.rouge import RougeScores, score_texts
from tests.conftest import run_cli

EOT = 128009


# --- an independent ROUGE (plain words that the Porter stemmer leaves unchanged) ---------
def _grams(words, n):
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def _f1(overlap, n_pred, n_ref):
    if not overlap:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def _rouge_n(pred, ref, n):
    gp, gr = _grams(pred.split(), n), _grams(ref.split(), n)
    return _f1(sum((gp & gr).values()), sum(gp.values()), sum(gr.values()))


def _lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def _rouge_l(pred, ref):
    p, r = pred.split(), ref.split()
    return _f1(_lcs(p, r), len(p), len(r))


def _expected(pairs):
    mean = lambda f: round(float(np.mean([f(p, r) for p, r in pairs])) * 100, 4)
    return {"rouge1": mean(lambda p, r: _rouge_n(p, r, 1)), "rouge2": mean(lambda p, r: _rouge_n(p, r, 2)),
            "rougeL": mean(_rouge_l), "rougeLsum": mean(_rouge_l),
            "gen_len": sum(len(p) for p, _ in pairs), "gen_num": len(pairs)}


REFS = ["the cat sat on the mat", "a big red dog", "one two three"]


def _log_entry(idx, ids, dtype=np.int32):
    return {"seq_id": idx, "qsl_idx": idx, "data": np.asarray(ids, dtype=dtype).tobytes().hex().upper()}


@pytest.fixture
def case(tmp_path, tokenizer):
    """A dataset with REFS and a log with: a partial answer + end token, an exact answer,
    a duplicate of sample 0 (must be ignored), and an empty answer."""
    dataset = tmp_path / "cnn_eval.json"
    dataset.write_text(json.dumps([{"input": "x", "tok_input": [128000], "output": r} for r in REFS]))

    def write_log(dtype=np.int32, name="mlperf_log_accuracy.json"):
        enc = lambda t: tokenizer.encode(t, add_special_tokens=False)
        entries = [_log_entry(0, enc("the cat sat") + [EOT], dtype), _log_entry(1, enc("a big red dog"), dtype),
                   _log_entry(0, enc("one two three"), dtype), _log_entry(2, [], dtype)]
        log = tmp_path / name
        log.write_text(json.dumps(entries))
        return log

    return dataset, write_log


def _cli(dataset, log, demo_assets, *extra):
    out = run_cli("--mlperf-accuracy-file", str(log), "--dataset-file", str(dataset),
                  "--tokenizer", str(demo_assets.tokenizer_dir), *extra, module="accuracy.rouge")
    return out


def test_cli_matches_independent_rouge(case, demo_assets, tmp_path):
    dataset, write_log = case
    out_json = tmp_path / "scores.json"
    res = _cli(dataset, write_log(), demo_assets, "--output-json", str(out_json))
    assert res.returncode == 0, res.stderr
    expected = _expected([("the cat sat", REFS[0]), ("a big red dog", REFS[1]), ("", REFS[2])])
    got = json.loads(out_json.read_text())
    assert got == pytest.approx(expected, abs=1e-4)
    assert got["gen_num"] == 3 and got["gen_len"] == 24
    assert json.loads(res.stdout.splitlines()[0]) == got  # plain JSON numbers on stdout too


def test_int64_logs_with_dtype_flag(case, demo_assets, tmp_path):
    dataset, write_log = case
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert _cli(dataset, write_log(), demo_assets, "--output-json", str(a)).returncode == 0
    res = _cli(dataset, write_log(np.int64, "log64.json"), demo_assets, "--dtype", "int64",
               "--output-json", str(b))
    assert res.returncode == 0, res.stderr
    assert json.loads(a.read_text()) == json.loads(b.read_text())


def test_mean_of_per_sample_f1_not_corpus_aggregate():
    # Sample 1 is perfect, sample 2 shares nothing: the per-sample mean is exactly 50.
    scores = score_texts(["a b c d e f g h", "x"], ["a b c d e f g h", "y z"])
    assert (scores.rouge1, scores.rouge2, scores.rougeL) == (50.0, 50.0, 50.0)


def test_rougelsum_splits_sentences():
    pred, ref = "the cat sat. the dog ran.", "the dog ran. the cat sat."
    scores = score_texts([pred], [ref])
    assert scores.rougeLsum == 100.0 and scores.rougeL < 100.0


def test_score_record_is_plain_numbers():
    s = score_texts(["a b"], ["a b"])
    assert s == RougeScores(100.0, 100.0, 100.0, 100.0, gen_len=3, gen_num=1)
    assert all(type(v) in (int, float) for v in s.as_dict().values())


@pytest.mark.parametrize("content,message", [
    (None, "accuracy log not found"),
    ("[{", "not valid JSON"),
    ('[{"qsl_idx": 0, "data": "ZZ"}]', "entry 0 is not a LoadGen accuracy entry"),
    ('[{"qsl_idx": 7, "data": "01000000"}]', "qsl_idx 7 is outside"),
    ('[{"qsl_idx": 0, "data": "010000"}]', "not a whole number of int32 token ids"),
])
def test_bad_logs_exit_with_accuracy_error(tmp_path, demo_assets, case, content, message):
    dataset, _ = case
    log = tmp_path / "bad.json"
    if content is not None:
        log.write_text(content)
    res = _cli(dataset, log, demo_assets)
    assert res.returncode == 6
    assert message in res.stderr
