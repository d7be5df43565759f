"""The one resolved configuration of a run (frozen), built from the command line.

Precedence: command-line flags, then the embedded defaults (the demo model and
dataset when no model is given). LoadGen's settings never come from here: they
come from user.conf only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.rules import LLAMA3_VOCAB_SIZE
from harness.tasks import TASKS, Task
from sut.fake_backends import LatencyShape
from sut.remote_backend import CONNECT_GRACE_S, STARTUP_WAIT_S, parse_remote_urls


@dataclass(frozen=True)
class RunConfig:
    scenario: str
    mode: str  # "performance" or "accuracy"
    model_dir: Path
    dataset: Path
    tokenizer: Path | None  # None: see tokenizer_dir()
    backend: str
    user_conf: Path
    output_root: Path
    engine_args: tuple[str, ...]
    warmup_samples: int
    progress_interval_s: float
    demo: bool
    fake_shape: LatencyShape = LatencyShape()
    remote_urls: tuple[str, ...] = ()  # checked and normalized
    remote_startup_timeout_s: float = STARTUP_WAIT_S
    remote_connect_grace_s: float = CONNECT_GRACE_S
    task: str = "cnn"  # a key of harness.tasks.TASKS: "cnn" (CNN-DailyMail, ROUGE) or "mmlu"
    max_new_tokens: int | None = None  # MMLU only; None: the task's default
    longest_first: bool = False  # Offline: hand the engine the longest prompts first

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    def tokenizer_dir(self) -> Path:
        """--tokenizer, else the model folder when it has tokenizer files, else the embedded
        Llama-3 tokenizer (the same tokenizer; e.g. for a config-only dummy-weight model)."""
        from qsl.tokenizer import tokenizer_or_embedded

        if self.tokenizer is None and any(
                (self.model_dir / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
            return self.model_dir
        return tokenizer_or_embedded(self.tokenizer)

    def task_spec(self) -> Task:
        """The task's generation settings, with this run's overrides."""
        return TASKS[self.task].with_max_new_tokens(self.max_new_tokens)

    def vocab_size(self) -> int:
        """From the model's config.json when it has one (dataset ids are checked against it)."""
        cfg = self.model_dir / "config.json"
        if cfg.is_file():
            try:
                return int(json.loads(cfg.read_text())["vocab_size"])
            except (ValueError, KeyError, TypeError) as e:
                raise ConfigError(f"{cfg}: cannot read vocab_size ({e})") from e
        return LLAMA3_VOCAB_SIZE


def default_output_root(model: Path | None) -> Path:
    """runs/<the model folder's own name> (runs/demo for the demo): the name of the folder
    the path ends in, so `some/dir/..` or `.` cannot lead outside runs/."""
    if model is None:
        return Path("runs") / "demo"
    name = model.resolve().name
    return Path("runs") / (name if name not in ("", ".", "..") else "model")


def resolve(*, scenario: str, mode: str, model: Path | None, dataset: Path | None,
            tokenizer: Path | None, backend: str, user_conf: Path, output_dir: Path | None,
            engine_args: list[str], warmup_samples: int, progress_interval_s: float,
            fake_shape: LatencyShape = LatencyShape(),
            remote_urls: tuple[str, ...] = (), remote_startup_timeout_s: float = STARTUP_WAIT_S,
            remote_connect_grace_s: float = CONNECT_GRACE_S, task: str = "cnn",
            max_new_tokens: int | None = None, longest_first: bool = False) -> RunConfig:
    """Fill in the embedded defaults and check what can be checked without loading anything."""
    if backend == "remote":
        remote_urls = parse_remote_urls(remote_urls)
    elif remote_urls:
        raise ConfigError(f"--remote-url given, but the backend is {backend}; "
                          f"add --backend remote")
    demo = model is None
    if demo:
        from harness.assets.demo import ensure_demo_assets

        assets = ensure_demo_assets()
        model, dataset = assets.model_dir, dataset or assets.dataset_path
    elif dataset is None:
        raise ConfigError("a model was given without a dataset: pass DATASET=/path/cnn_eval.json "
                          "(or --dataset); leave both out for the embedded demo")
    if backend == "vllm" and not model.is_dir():
        raise ConfigError(f"model folder not found: {model}; pass the folder holding config.json "
                          f"and the weights (MODEL=... or --model)")
    return RunConfig(
        scenario=scenario, mode=mode, model_dir=model, dataset=dataset,
        tokenizer=tokenizer, backend=backend, user_conf=user_conf,
        output_root=output_dir or default_output_root(None if demo else model),
        engine_args=tuple(engine_args),
        warmup_samples=warmup_samples, progress_interval_s=progress_interval_s, demo=demo,
        fake_shape=fake_shape, remote_urls=remote_urls,
        remote_startup_timeout_s=remote_startup_timeout_s,
        remote_connect_grace_s=remote_connect_grace_s, task=task,
        max_new_tokens=max_new_tokens, longest_first=longest_first,
    )
