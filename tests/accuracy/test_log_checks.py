"""Bad accuracy logs and output paths give one error line and the documented exit code; a
log covering part of the dataset, or holding 0-token answers, is scored with a warning."""

import json

import numpy as np
import pytest

from accuracy import mmlu, rouge
from accuracy.checks import warn_about_coverage
from accuracy.log import LoggedOutput
from tests.conftest import run_cli

REFS = ["the cat sat on the mat", "a big red dog", "one two three"]
MMLU_RECORDS = [{"input": f"Question {i}?\nA. one\nB. two\nC. three\nD. four\nAnswer:",
                 "output": "ABC"[i], "subject": s, "tok_input": [128000]}
                for i, s in enumerate(["anatomy", "astronomy", "philosophy"])]
SCORERS = {"accuracy.rouge": rouge.main, "accuracy.mmlu": mmlu.main}


def _entry(idx, ids, dtype=np.int32):
    return {"seq_id": idx, "qsl_idx": idx, "data": np.asarray(ids, dtype=dtype).tobytes().hex()}


@pytest.fixture
def files(tmp_path):
    """write(entries or raw text, module) -> the CLI arguments for that log and the
    module's dataset (3 records each)."""
    cnn, mm = tmp_path / "cnn.json", tmp_path / "mmlu.json"
    cnn.write_text(json.dumps([{"input": "x", "tok_input": [128000], "output": r} for r in REFS]))
    mm.write_text(json.dumps(MMLU_RECORDS))

    def write(content, module="accuracy.rouge"):
        log = tmp_path / "mlperf_log_accuracy.json"
        log.write_text(content if isinstance(content, str) else json.dumps(content))
        dataset = cnn if module == "accuracy.rouge" else mm
        return ["--mlperf-accuracy-file", str(log), "--dataset-file", str(dataset)]

    return write


def _ids(tokenizer, text):
    return tokenizer.encode(text, add_special_tokens=False)


BAD_LOGS = [
    ("0 bytes", "", "the accuracy log is empty (0 bytes)"),
    ("empty list", "[]", "the accuracy log holds no samples; LoadGen logs outputs in accuracy "
                         "mode only"),
    ("id past the vocabulary", [_entry(0, [791]), _entry(1, [128256])],
     "qsl_idx 1 holds token id 128256, outside the tokenizer's vocabulary [0, 128256)"),
    ("negative id", [_entry(0, [-5])], "qsl_idx 0 holds token id -5, outside the tokenizer's"),
    ("qsl_idx true", [{"qsl_idx": True, "data": "01000000"}], "qsl_idx True is not an integer"),
]


@pytest.mark.parametrize("module", SCORERS)
@pytest.mark.parametrize("name,content,message", BAD_LOGS, ids=[b[0] for b in BAD_LOGS])
def test_bad_logs_are_one_accuracy_error(files, capsys, module, name, content, message):
    args = files(content, module)
    assert SCORERS[module](args) == 6
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_int32_log_read_as_int64_names_the_dtype(files, capsys):
    args = files([_entry(0, [791, 8415])])  # two int32 ids read as one int64: 8415 << 32 | 791
    assert rouge.main([*args, "--dtype", "int64"]) == 6
    err = capsys.readouterr().err
    assert "outside the tokenizer's vocabulary" in err
    assert "the --dtype the SUT wrote (this harness: int32)" in err


@pytest.mark.parametrize("module", SCORERS)
def test_empty_and_undecodable_logs_through_the_real_cli(files, module):
    res = run_cli(*files("[]", module), module=module)
    assert res.returncode == 6 and "Traceback" not in res.stderr
    assert "holds no samples" in res.stderr
    res = run_cli(*files([_entry(0, [999999])], module), module=module)
    assert res.returncode == 6 and "Traceback" not in res.stderr
    assert "qsl_idx 0 holds token id 999999, outside the tokenizer's vocabulary" in res.stderr


def _unwritable(tmp_path, kind):
    if kind == "missing folder":
        return tmp_path / "no" / "scores.json", "No such file or directory"
    if kind == "a directory":
        return tmp_path, "Is a directory"
    (tmp_path / "a_file").write_text("x")
    return tmp_path / "a_file" / "scores.json", "Not a directory"


@pytest.mark.parametrize("module", ["accuracy.rouge", "accuracy.mmlu"])
@pytest.mark.parametrize("kind", ["missing folder", "a directory", "under a file"])
def test_unwritable_output_is_a_config_error_before_scoring(files, capsys, tmp_path, module, kind):
    out, reason = _unwritable(tmp_path, kind)
    flag = "--output-json"
    args = files("[]", module)  # a log that cannot be scored: the output check comes first
    assert SCORERS[module]([*args, flag, str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {flag} {out}: cannot write this file ({reason}); give a file path "
                   f"in an existing folder you can write to\n")


def test_unwritable_output_through_the_real_cli(files, tmp_path):
    out = tmp_path / "missing" / "scores.json"
    res = run_cli(*files([_entry(0, [791])]), "--output-json", str(out), module="accuracy.rouge")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"--output-json {out}: cannot write this file (No such file or directory)" in res.stderr
    assert res.stdout == ""  # nothing scored


def test_read_only_folder(files, tmp_path, capsys):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    assert rouge.main([*files("[]"), "--output-json", str(folder / "s.json")]) == 2
    assert "cannot write this file (Permission denied)" in capsys.readouterr().err


def test_existing_output_file_is_kept_until_written(files, tmp_path, capsys):
    out = tmp_path / "scores.json"
    out.write_text("old")
    assert rouge.main([*files("[]"), "--output-json", str(out)]) == 6
    assert out.read_text() == "old"  # the check does not truncate
    fresh = tmp_path / "fresh.json"
    assert rouge.main([*files("[]"), "--output-json", str(fresh)]) == 6
    assert not fresh.exists()  # nor leave an empty file behind


def test_partial_log_warns_and_still_scores(files, tmp_path, tokenizer):
    out = tmp_path / "scores.json"
    args = files([_entry(1, _ids(tokenizer, "a big red dog"))])
    res = run_cli(*args, "--output-json", str(out), module="accuracy.rouge")
    assert res.returncode == 0, res.stderr
    assert (f"warning: the accuracy log covers 1 of the 3 samples of {args[3]}: the scores are "
            f"for those samples only, not a full-dataset score") in res.stderr
    assert json.loads(out.read_text())["gen_num"] == 1
    assert json.loads(res.stdout.splitlines()[0])["rouge1"] == 100.0


def test_partial_mmlu_log_warns_and_still_scores(files, tokenizer):
    res = run_cli(*files([_entry(0, _ids(tokenizer, "A"))], "accuracy.mmlu"),
                  module="accuracy.mmlu")
    assert res.returncode == 0, res.stderr
    assert "warning: the accuracy log covers 1 of the 3 samples of" in res.stderr
    assert "MMLU: micro 100.00 %" in res.stdout


@pytest.mark.parametrize("module", SCORERS)
def test_zero_token_answers_warn_and_still_score(files, capsys, tmp_path, tokenizer, module):
    out = tmp_path / "scores.json"
    args = files([_entry(0, _ids(tokenizer, "A")), _entry(1, []), _entry(2, [])], module)
    assert SCORERS[module]([*args, "--output-json", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("warning: 2 of the 3 logged answers have 0 tokens (qsl_idx 1, 2); they are scored "
            "as empty answers, but an MLPerf SUT generates at least 1 token") in err
    assert "covers" not in err  # the log is complete
    scores = json.loads(out.read_text())
    assert scores.get("gen_num", scores.get("total")) == 3


def test_zero_token_warning_names_the_first_five(capsys):
    logged = [LoggedOutput(i, np.zeros(0, np.int32)) for i in (9, 3, 7, 1, 5, 8, 2)]
    warn_about_coverage(logged, 7, "d.json")
    assert "7 of the 7 logged answers have 0 tokens (qsl_idx 1, 2, 3, 5, 7, ...)" in \
        capsys.readouterr().err


def test_partial_log_of_a_full_mlperf_dataset_fails_gen_num():
    """The MLPerf targets belong to the dataset's size, and gen_num must equal it: a log
    covering part of the 13,368 samples FAILs, as the reference's gen_num check does."""
    scores = rouge.RougeScores(45.0, 22.0, 30.0, 42.0, gen_len=8_000_000, gen_num=13_000,
                               dataset_size=13_368)
    assert rouge.passes_targets(scores) is False
    report = rouge.format_report(scores)
    assert "gen_num            13,000  == 13,368" in report and report.endswith(
        "accuracy: FAIL (datacenter targets, 13,368 samples)")
    # 5,000 samples of the datacenter set are not the edge set
    edge_sized = rouge.RougeScores(45.0, 22.0, 30.0, 42.0, gen_len=3_000_000, gen_num=5_000,
                                   dataset_size=13_368)
    assert rouge.passes_targets(edge_sized) is False
    assert "dataset_size" not in scores.as_dict()  # the scores file keeps the reference's keys


def test_unreadable_log(files, capsys):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads files without read permission")
    args = files([_entry(0, [791])])
    os.chmod(args[1], 0)
    assert rouge.main(args) == 6
    assert "cannot read the accuracy log (Permission denied)" in capsys.readouterr().err
