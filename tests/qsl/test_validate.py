"""`dataset validate` catches each class of corruption with a precise report."""

import json

import pytest

from qsl.validate import validate_file
from tests.conftest import run_cli


@pytest.fixture
def good(write_dataset):
    return json.loads(write_dataset([(f"Article {i}. It rained.", f"Ref {i}.") for i in range(4)])
                      .read_text())


def _corrupt(records, i, **changes):
    records = [dict(r) for r in records]
    records[i].update(changes)
    for key, value in changes.items():
        if value is None:
            del records[i][key]
    return records


CASES = [
    ("missing field", lambda r: _corrupt(r, 2, output=None), "missing fields: 1", "record 2 is missing field(s) output"),
    ("not text", lambda r: _corrupt(r, 1, input=5), "wrong types: 1", "record 1 field 'input' must be text"),
    ("empty tokens", lambda r: _corrupt(r, 3, tok_input=[]), "wrong types: 1", "record 3 field 'tok_input' is empty"),
    ("out of vocab", lambda r: _corrupt(r, 0, tok_input=r[0]["tok_input"] + [200000]),
     "token ids outside the vocabulary: 1",
     "record 0 field 'tok_input' holds token id 200000, outside the model's vocabulary [0, 128256)"),
    ("no BOS", lambda r: _corrupt(r, 1, tok_input=r[1]["tok_input"][1:]), "first token not BOS: 1", "record 1 field 'tok_input' starts with"),
    ("wrong tokens", lambda r: _corrupt(r, 2, tok_input=r[2]["tok_input"][:-1] + [13]),
     "tok_input is not the tokenized prompt: 1", "record 2: differs at token"),
    ("too long", lambda r: r, "prompts too long: 4", "record 0:"),
]


@pytest.mark.parametrize("name,corrupt,kind,detail", CASES, ids=[c[0] for c in CASES])
def test_each_corruption_is_reported(tmp_path, good, demo_assets, name, corrupt, kind, detail):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(corrupt(good)))
    args = ["dataset", "validate", str(path), "--tokenizer", str(demo_assets.tokenizer_dir)]
    if name == "too long":
        args += ["--max-prompt-tokens", "10"]
    res = run_cli(*args)
    assert res.returncode == 3
    assert kind in res.stderr and detail in res.stderr


def test_duplicates_and_size_are_notes_not_errors(tmp_path, good):
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(good + [good[1]]))
    report = validate_file(path)
    assert report.ok
    assert "record 4 repeats the prompt of record 1" in report.render()
    assert "5 records: not an MLPerf set" in report.render()
