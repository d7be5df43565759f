"""RunConfig's resolution of what the command line leaves open, done once at build."""

import json
from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.config import build_run_config
from harness.errors import ConfigError
from harness.rules import LLAMA3_VOCAB_SIZE
from harness.tasks import TASKS


def _build(*argv: str, task: str = "cnn", verb: str = "run-offline"):
    args = build_parser().parse_args([verb, *argv])
    return build_run_config(args, scenario="Offline", mode="performance", task=TASKS[task],
                            engine_args=[])


@pytest.mark.parametrize("files, given, expected", [
    ((), "tok", "tok"),  # --tokenizer wins
    (("tokenizer.json",), "tok", "tok"),
    (("tokenizer.json",), None, "model"),  # a model folder with tokenizer files
    (("tokenizer_config.json",), None, "model"),
    (("config.json",), None, None),  # config only (dummy weights): the embedded one
])
def test_tokenizer_prefers_the_flag_then_the_model_folder_then_the_embedded_one(
        tmp_path, files, given, expected):
    model = tmp_path / "model"
    model.mkdir()
    for name in files:
        (model / name).write_text(json.dumps({"vocab_size": 1000}))
    argv = ["--model", str(model), "--dataset", str(tmp_path / "d.json")]
    cfg = _build(*argv, *(["--tokenizer", str(tmp_path / given)] if given else []))
    assert cfg.tokenizer == {"tok": tmp_path / "tok", "model": model, None: None}[expected]


def test_vocabulary_comes_from_the_models_config_once(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"vocab_size": 4242}))
    argv = ["--model", str(model), "--dataset", str(tmp_path / "d.json")]
    assert _build(*argv).vocab_size == 4242
    (model / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="cannot read vocab_size"):
        _build(*argv)
    (model / "config.json").unlink()
    assert _build(*argv).vocab_size == LLAMA3_VOCAB_SIZE  # a folder without config.json


def test_task_answer_limit_and_runs_folder(tmp_path):
    model = tmp_path / "Llama-3.1-8B"
    model.mkdir()
    argv = ["--model", str(model), "--dataset", str(tmp_path / "mmlu.json")]
    cfg = _build(*argv, "--max-new-tokens", "8", task="mmlu", verb="run-mmlu")
    assert cfg.task.params.max_new_tokens == 8
    assert cfg.output_root == Path("runs") / "Llama-3.1-8B" / TASKS["mmlu"].runs_subfolder
    assert json.loads(cfg.to_json())["task"] == "mmlu"
    assert json.loads(cfg.to_json())["max_new_tokens"] == 8
    with pytest.raises(ConfigError, match="run-mmlu needs an MMLU prompt file"):
        _build("--model", str(model), task="mmlu", verb="run-mmlu")
