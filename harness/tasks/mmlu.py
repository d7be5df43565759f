"""MMLU, the harness's own evaluation of the model (not an MLPerf metric): a short answer
per question, Offline, scored by the letter it names."""

from __future__ import annotations

from pathlib import Path

from harness.run.layout import ACCURACY_LOG, MMLU_DIR, MMLU_JSON
from harness.tasks.task import Scored, Task
from sut.backend import GenerationParams

# "The best answer is C." is 6 tokens plus the end token; 32 leaves room for a short lead-in.
MMLU_MAX_NEW_TOKENS = 32


class MmluScorer:
    def check_ready(self, tokenizer_dir: Path) -> None:
        from qsl.tokenizer import load_tokenizer

        load_tokenizer(tokenizer_dir)

    def score(self, log_dir: Path, dataset: Path, tokenizer_dir: Path) -> Scored:
        from accuracy import mmlu

        result = mmlu.evaluate(log_dir / ACCURACY_LOG, dataset, tokenizer_dir)
        mmlu.write_json(result, log_dir / MMLU_JSON)
        print(mmlu.format_report(result))
        return Scored((MMLU_JSON,))


MMLU = Task(
    name="mmlu", verb="run-mmlu",
    description="MMLU through LoadGen (Offline, accuracy mode), scored; the vLLM backend turns "
                "prefix caching on for it (--no-enable-prefix-caching turns it off)",
    dataset_words="an MMLU file", params=GenerationParams(max_new_tokens=MMLU_MAX_NEW_TOKENS),
    scorer=MmluScorer(), scenarios=("Offline",), runs_subfolder=MMLU_DIR,
    dataset_needed="run-mmlu needs an MMLU prompt file: DATASET=mmlu.json (write one with "
                   "`python -m harness dataset mmlu`)",
    answer_limit_option=True,
)
