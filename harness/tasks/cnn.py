"""CNN-DailyMail summarization, the MLPerf task: up to 128 new tokens, scored with ROUGE
against the MLPerf targets."""

from __future__ import annotations

import json
from pathlib import Path

from harness.rules import SCENARIO_SPECS
from harness.run.layout import ACCURACY_JSON, ACCURACY_LOG, ACCURACY_TXT
from harness.tasks.task import Scored, Task
from sut.backend import GenerationParams


class RougeScorer:
    def check_ready(self, tokenizer_dir: Path) -> None:
        from accuracy import rouge
        from qsl.tokenizer import load_tokenizer

        load_tokenizer(tokenizer_dir)
        rouge.check_scorer_installed()

    def score(self, log_dir: Path, dataset: Path, tokenizer_dir: Path) -> Scored:
        from accuracy import rouge

        scores = rouge.evaluate(log_dir / ACCURACY_LOG, dataset, tokenizer_dir)
        (log_dir / ACCURACY_TXT).write_text(rouge.accuracy_txt(scores))
        (log_dir / ACCURACY_JSON).write_text(json.dumps(scores.as_dict(), indent=2) + "\n")
        print(rouge.format_report(scores))
        failed = rouge.passes_targets(scores) is False
        return Scored((ACCURACY_TXT, ACCURACY_JSON),
                      "accuracy below the MLPerf targets (see the table above)" if failed else None)


CNN_DAILYMAIL = Task(
    name="cnn", verb="run-accuracy",
    description="LoadGen accuracy mode, then ROUGE with PASS/FAIL",
    dataset_words="a CNN-DailyMail file", params=GenerationParams(), scorer=RougeScorer(),
    scenarios=tuple(SCENARIO_SPECS),
)
