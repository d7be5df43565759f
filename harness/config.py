"""The one configuration of a run (frozen), built once from the parsed command line.

Precedence: command-line flags, then the embedded defaults (the demo model and
dataset when no model is given). Everything derived (the task's answer limit, the
tokenizer folder, the model's vocabulary, the output folder, checked remote URLs) is
computed here, once. LoadGen's settings never come from here: only from user.conf.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import ConfigError
from harness.rules import LLAMA3_VOCAB_SIZE
from harness.tasks import Task
from sut.fake_backends import LatencyShape
from sut.registry import RemoteOptions

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class RunConfig:
    scenario: str
    mode: str  # "performance" or "accuracy"
    task: Task  # with this run's answer limit
    model_dir: Path
    dataset: Path
    tokenizer: Path | None  # --tokenizer, else the model folder's; None: the embedded one
    vocab_size: int  # the model's (dataset token ids are checked against it)
    backend: str
    user_conf: Path
    output_root: Path
    engine_args: tuple[str, ...]
    warmup_samples: int
    progress_interval_s: float
    demo: bool
    fake_shape: LatencyShape = LatencyShape()
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    longest_first: bool = False  # Offline: hand the engine the longest prompts first

    def to_json(self) -> str:
        """harness_config.json: every field; the task as its name and answer limit."""
        record = asdict(self)
        record["task"] = self.task.name
        record["max_new_tokens"] = self.task.params.max_new_tokens
        return json.dumps(record, indent=2, default=str)


def default_output_root(model: Path | None) -> Path:
    """runs/<the model folder's own name> (runs/demo for the demo): the name of the folder
    the path ends in, so `some/dir/..` or `.` cannot lead outside runs/."""
    if model is None:
        return Path("runs") / "demo"
    name = model.resolve().name
    return Path("runs") / (name if name not in ("", ".", "..") else "model")


def build_run_config(args: argparse.Namespace, *, scenario: str, mode: str, task: Task,
                     engine_args: list[str]) -> RunConfig:
    """The run's configuration from a run command's parsed arguments (harness.cli), checked
    as far as it can be without loading anything."""
    if engine_args and args.backend != "vllm":
        raise ConfigError(f"engine flags {' '.join(engine_args)!r} given, but the "
                          f"{args.backend} backend takes none")
    model, dataset, demo = _model_and_dataset(args.model, args.dataset, task)
    if args.backend == "vllm" and not model.is_dir():
        raise ConfigError(f"model folder not found: {model}; pass the folder holding config.json "
                          f"and the weights (MODEL=... or --model)")
    output_root = args.output_dir or (default_output_root(None if demo else model)
                                      / task.runs_subfolder)
    return RunConfig(
        scenario=scenario, mode=mode,
        task=task.with_max_new_tokens(getattr(args, "max_new_tokens", None)),
        model_dir=model, dataset=dataset, tokenizer=_tokenizer(args.tokenizer, model),
        vocab_size=_vocab_size(model), backend=args.backend, user_conf=args.user_conf,
        output_root=output_root, engine_args=tuple(engine_args),
        warmup_samples=args.warmup_samples, progress_interval_s=args.progress_interval_s,
        demo=demo,
        fake_shape=LatencyShape(args.fake_ttft_ms / 1000, args.fake_itl_ms / 1000,
                                args.fake_output_tokens, args.fake_slots),
        remote=_remote(args),
        longest_first=getattr(args, "longest_first", False),
    )


def _model_and_dataset(model: Path | None, dataset: Path | None, task: Task
                       ) -> tuple[Path, Path, bool]:
    """The model folder, the dataset file, and whether this is the embedded demo."""
    if dataset is None and task.dataset_needed:
        raise ConfigError(task.dataset_needed)
    if model is None:
        from harness.assets.demo import ensure_demo_assets

        assets = ensure_demo_assets()
        return assets.model_dir, dataset or assets.dataset_path, True
    if dataset is None:
        raise ConfigError("a model was given without a dataset: pass DATASET=/path/cnn_eval.json "
                          "(or --dataset); leave both out for the embedded demo")
    return model, dataset, False


def _tokenizer(given: Path | None, model: Path) -> Path | None:
    """--tokenizer, else the model folder when it has tokenizer files, else None: the
    embedded Llama-3 tokenizer (the same one; e.g. for a config-only dummy-weight model)."""
    if given is None and any((model / f).is_file() for f in TOKENIZER_FILES):
        return model
    return given


def _vocab_size(model: Path) -> int:
    """From the model's config.json when it has one; else Llama-3's."""
    cfg = model / "config.json"
    if not cfg.is_file():
        return LLAMA3_VOCAB_SIZE
    try:
        return int(json.loads(cfg.read_text())["vocab_size"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{cfg}: cannot read vocab_size ({e})") from e


def _remote(args: argparse.Namespace) -> RemoteOptions:
    if args.backend == "remote":
        from sut.remote_backend import parse_remote_urls

        return RemoteOptions(parse_remote_urls(tuple(args.remote_urls)),
                             args.remote_startup_timeout_s, args.remote_connect_grace_s)
    if args.remote_urls:
        raise ConfigError(f"--remote-url given, but the backend is {args.backend}; "
                          f"add --backend remote")
    return RemoteOptions()
