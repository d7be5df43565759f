"""Dataset loading: good files load as int32 samples; each broken file gets a precise error."""

import json

import numpy as np
import pytest

from harness.errors import DatasetError
from qsl.dataset import load_dataset, load_references

GOOD = {"input": "text", "tok_input": [128000, 9906, 1917], "output": "ref", "instruction": "x"}


def test_loads_samples_in_file_order(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "tok_input": [128000, 5], "output": "r2"}]))
    ds = load_dataset(path, vocab_size=128256)
    assert [s.index for s in ds.samples] == [0, 1]
    assert ds.samples[1].token_ids.dtype == np.int32
    assert ds.samples[1].token_ids.tolist() == [128000, 5]
    assert ds.samples[1].reference == "r2"
    assert ds.longest_prompt == 3
    assert load_references(path) == ["ref", "r2"]


BROKEN = [
    ("missing", None, "dataset file not found"),
    ("bad json", "[{", "not valid JSON"),
    ("not a list", json.dumps({"a": 1}), "expected a JSON list"),
    ("empty list", "[]", "holds no records"),
    ("record not object", json.dumps([GOOD, 3]), "record 1 is a int"),
    ("missing field", json.dumps([{"input": "a", "output": "b"}]), "record 0 is missing field(s) tok_input"),
    ("empty tokens", json.dumps([{**GOOD, "tok_input": []}]), "record 0 field 'tok_input' is empty"),
    ("tokens not list", json.dumps([{**GOOD, "tok_input": "1 2"}]), "must be a list of token ids"),
    ("float token", json.dumps([{**GOOD, "tok_input": [128000, 2.5]}]),
     "record 0 field 'tok_input' holds 2.5 at position 1, not an integer token id"),
    ("whole float token", json.dumps([GOOD, {**GOOD, "tok_input": [128000, 1.0]}]),
     "record 1 field 'tok_input' holds 1.0 at position 1, not an integer token id"),
    ("string token", json.dumps([{**GOOD, "tok_input": [128000, "2"]}]),
     "record 0 field 'tok_input' holds \"2\" at position 1, not an integer token id"),
    ("true token", json.dumps([GOOD, {**GOOD, "tok_input": [128000, 9906, True]}]),
     "record 1 field 'tok_input' holds true at position 2, not an integer token id"),
    ("false token", json.dumps([{**GOOD, "tok_input": [128000, False]}]),
     "record 0 field 'tok_input' holds false at position 1, not an integer token id"),
    ("only booleans", json.dumps([{**GOOD, "tok_input": [True, False]}]),
     "record 0 field 'tok_input' holds true at position 0, not an integer token id"),
    ("null token", json.dumps([{**GOOD, "tok_input": [128000, None]}]),
     "record 0 field 'tok_input' holds null at position 1, not an integer token id"),
    ("huge id", json.dumps([{**GOOD, "tok_input": [128000, 10 ** 30]}]),
     f"holds token id {10 ** 30}, outside the model's vocabulary"),
    ("out of vocab", json.dumps([GOOD, {**GOOD, "tok_input": [128000, 128256]}]),
     "record 1 field 'tok_input' holds token id 128256, outside the model's vocabulary"),
    ("negative id", json.dumps([{**GOOD, "tok_input": [128000, -1, 5]}]), "holds token id -1"),
    ("no BOS", json.dumps([{**GOOD, "tok_input": [9906, 1917]}]), "starts with token 9906, not BOS"),
    ("output not text", json.dumps([{**GOOD, "output": 5}]), "record 0 field 'output' must be text"),
]


@pytest.mark.parametrize("name,content,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_files_get_precise_errors(tmp_path, name, content, message):
    path = tmp_path / "cnn_eval.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DatasetError) as err:
        load_dataset(path, vocab_size=128256)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_prompt_too_long_names_the_record(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "tok_input": [128000] * 50}]))
    ds = load_dataset(path, vocab_size=128256)
    ds.check_prompt_lengths(50)
    with pytest.raises(DatasetError, match=r"longest is record 1 with 50 tokens.*--max-model-len"):
        ds.check_prompt_lengths(49)


def test_one_checker_serves_loading_and_validation(tmp_path):
    from qsl.validate import validate_file

    path = tmp_path / "d.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "tok_input": [5, 128300]}]))  # no BOS, bad id
    with pytest.raises(DatasetError, match=r"record 1 field 'tok_input' holds token id 128300.*"
                                           r"1 more problem\(s\) in this record"):
        load_dataset(path, vocab_size=128256)
    report = validate_file(path)
    assert set(report.errors) == {"token ids outside the vocabulary", "first token not BOS"}


@pytest.mark.parametrize("bad,shown", [(True, "true"), (1.0, "1.0"), (None, "null")])
def test_booleans_floats_and_null_are_not_token_ids_to_validate(tmp_path, bad, shown):
    from qsl.validate import validate_file

    path = tmp_path / "d.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "tok_input": [128000, 5, bad]}]))
    report = validate_file(path)
    assert report.errors == {"wrong types": [
        f"record 1 field 'tok_input' holds {shown} at position 2, not an integer token id"]}
