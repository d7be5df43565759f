"""What every task is: its name, dataset kind, generation limits, scorer and command."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from sut.backend import GenerationParams


@dataclass(frozen=True)
class Scored:
    """What scoring wrote beside the log, and why the result misses its targets (or None)."""

    files: tuple[str, ...]
    failure: str | None = None


class Scorer(Protocol):
    """Scores a finished accuracy run from LoadGen's accuracy log and the dataset alone."""

    def check_ready(self, tokenizer_dir: Path) -> None:
        """SetupError unless scoring can run (checked before the engine starts)."""

    def score(self, log_dir: Path, dataset: Path, tokenizer_dir: Path) -> Scored:
        """Score the run in log_dir: print the report, write the result files beside the
        log."""


@dataclass(frozen=True)
class Task:
    name: str  # also the kind of dataset file it reads (qsl.dataset.Dataset.kind)
    verb: str  # the command of its scored run: `python -m harness <verb>`
    description: str  # the command's help
    dataset_words: str  # what its dataset file is, for messages: "a CNN-DailyMail file"
    params: GenerationParams
    scorer: Scorer
    scenarios: tuple[str, ...]  # its scored run may use these; the first is the default
    runs_subfolder: str = ""  # its runs go here under the model's runs folder
    dataset_needed: str = ""  # set: no embedded dataset; the message when none is given
    answer_limit_option: bool = False  # its command takes --max-new-tokens

    def with_max_new_tokens(self, count: int | None) -> "Task":
        return self if count is None else replace(
            self, params=replace(self.params, max_new_tokens=count))
