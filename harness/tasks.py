"""What differs between the two tasks the harness serves: CNN-DailyMail (MLPerf) and MMLU.

CNN-DailyMail generation is fixed by MLPerf (up to 128 new tokens). MMLU is the
harness's own evaluation: an answer is a few tokens. (The engine flags each task
wants are in sut.vllm.flags.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sut.backend import GenerationParams

# "The best answer is C." is 6 tokens plus the end token; 32 leaves room for a short lead-in.
MMLU_MAX_NEW_TOKENS = 32


@dataclass(frozen=True)
class Task:
    params: GenerationParams

    def with_max_new_tokens(self, count: int | None) -> "Task":
        return self if count is None else replace(
            self, params=replace(self.params, max_new_tokens=count))


TASKS = {
    "cnn": Task(GenerationParams()),
    "mmlu": Task(GenerationParams(max_new_tokens=MMLU_MAX_NEW_TOKENS)),
}
