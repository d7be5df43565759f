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


def test_booleans_are_not_token_ids_through_the_cli(tmp_path, good):
    path = tmp_path / "bool.json"
    path.write_text(json.dumps(_corrupt(good, 2, tok_input=[128000, True, 5])))
    res = run_cli("dataset", "validate", str(path))
    assert res.returncode == 3 and "Traceback" not in res.stderr
    assert "wrong types: 1" in res.stderr
    assert ("record 2 field 'tok_input' holds true at position 1, not an integer token id"
            in res.stderr)


def _model(tmp_path, **config):
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _prompts(tmp_path, *lengths, token=9906):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"input": "a", "output": "b",
                                 "tok_input": [128000] + [token] * (n - 1)} for n in lengths]))
    return path


def test_model_context_less_the_answer_limits_prompts_through_the_cli(tmp_path):
    model = _model(tmp_path, max_position_embeddings=160, vocab_size=128256)
    res = run_cli("dataset", "validate", str(_prompts(tmp_path, 32, 33, 40)), "--model", str(model))
    assert res.returncode == 3, res.stderr
    assert "prompts too long: 2" in res.stderr
    assert "record 1: 33 tokens > 32" in res.stderr and "record 2: 40 tokens > 32" in res.stderr
    assert (f"prompts checked against 32 tokens (max_position_embeddings 160 in "
            f"{model / 'config.json'} less 128 answer tokens)") in res.stderr


def test_without_a_model_prompts_meet_the_mlperf_maximum(tmp_path):
    assert validate_file(_prompts(tmp_path, 8000)).ok
    report = validate_file(_prompts(tmp_path, 8000, 8001))
    assert report.errors == {"prompts too long": ["record 1: 8,001 tokens > 8,000"]}
    assert ("note: prompts checked against 8,000 tokens (the MLPerf reference's maximum input; "
            "--model checks against a model's context)") in report.render()


def test_the_smallest_limit_and_the_model_vocabulary_apply(tmp_path):
    model = _model(tmp_path, max_position_embeddings=4096, n_positions=200, vocab_size=128100)
    path = _prompts(tmp_path, 72, 73)
    assert validate_file(path, model_dir=model).errors == {
        "prompts too long": ["record 1: 73 tokens > 72"]}  # n_positions 200 - 128
    assert validate_file(path, model_dir=model, max_prompt_tokens=50).errors == {
        "prompts too long": ["record 0: 72 tokens > 50", "record 1: 73 tokens > 50"]}
    report = validate_file(path, model_dir=model, max_prompt_tokens=100)
    assert "prompts checked against 72 tokens (n_positions 200 in" in report.render()
    wide = _prompts(tmp_path, 5, token=128200)
    assert validate_file(wide, model_dir=model).errors["token ids outside the vocabulary"] == [
        "record 0 field 'tok_input' holds token id 128200, outside the model's vocabulary "
        "[0, 128100); was the file tokenized for another model?"]


BAD_MODELS = [
    ("no folder", None, "No such file or directory"),
    ("no config.json", {}, "No such file or directory"),
    ("invalid JSON", "{", "not valid JSON: Expecting property name enclosed in double quotes: "
                          "line 1 column 2 (char 1)"),
    ("not an object", "[]", "not a JSON object"),
    ("no context length", {"vocab_size": 128256}, "it has no max_position_embeddings"),
    ("boolean context", {"max_position_embeddings": True}, "max_position_embeddings is true, "
                                                          "not a positive integer"),
    ("text vocab", {"max_position_embeddings": 8192, "vocab_size": "128256"},
     "vocab_size is \"128256\", not a positive integer"),
]


@pytest.mark.parametrize("name,config,reason", BAD_MODELS, ids=[b[0] for b in BAD_MODELS])
def test_unusable_model_folder_is_a_config_error(tmp_path, name, config, reason):
    from harness.errors import ConfigError

    folder = tmp_path / "model"
    if config is not None:
        folder.mkdir()
        if config != {}:
            (folder / "config.json").write_text(config if isinstance(config, str)
                                                else json.dumps(config))
    with pytest.raises(ConfigError) as err:
        validate_file(_prompts(tmp_path, 5), model_dir=folder)
    assert str(err.value) == (f"--model {folder}: no usable config.json ({reason}); pass the "
                              f"model folder, the one holding config.json")


def test_unusable_model_folder_through_the_cli(tmp_path):
    folder = tmp_path / "weights_only"
    folder.mkdir()
    res = run_cli("dataset", "validate", str(_prompts(tmp_path, 5)), "--model", str(folder))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert (f"error: --model {folder}: no usable config.json (No such file or directory)"
            in res.stderr)
