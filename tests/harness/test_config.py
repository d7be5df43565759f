"""RunConfig's resolution of what the command line leaves open."""

from pathlib import Path

import pytest

from harness.config import RunConfig


def _cfg(model_dir: Path, tokenizer: Path | None) -> RunConfig:
    return RunConfig(scenario="Offline", mode="performance", model_dir=model_dir,
                     dataset=model_dir / "d.json", tokenizer=tokenizer, backend="vllm",
                     user_conf=model_dir / "user.conf", output_root=model_dir / "runs",
                     engine_args=(), warmup_samples=0, progress_interval_s=0, demo=False)


@pytest.mark.parametrize("files, given, expected", [
    ((), "tok", "tok"),  # --tokenizer wins
    (("tokenizer.json",), "tok", "tok"),
    (("tokenizer.json",), None, "model"),  # a model folder with tokenizer files
    (("tokenizer_config.json",), None, "model"),
    (("config.json",), None, "embedded"),  # config only (dummy weights): the embedded one
])
def test_tokenizer_dir_prefers_the_flag_then_the_model_folder_then_the_embedded_one(
        tmp_path, demo_assets, files, given, expected):
    model = tmp_path / "model"
    model.mkdir()
    for name in files:
        (model / name).write_text("{}")
    tokenizer = tmp_path / given if given else None
    resolved = _cfg(model, tokenizer).tokenizer_dir()
    assert resolved == {"tok": tmp_path / "tok", "model": model,
                        "embedded": demo_assets.tokenizer_dir}[expected]
