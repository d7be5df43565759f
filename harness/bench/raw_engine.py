"""bench-gpu's raw path: vLLM's own LLM.generate over every prompt of a dataset file in one
call, with the harness's Offline engine flags for the task and its sampling:

    python -m harness.bench.raw_engine MODEL DATASET TASK [vLLM engine flags]

The result is the last line, `RESULT {"prompts", "tokens", "seconds", "tokens_per_s"}`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from harness.tasks import TASKS
from qsl.dataset import read_records
from sut.vllm.blocking import raw_throughput


def main(argv: list[str]) -> int:
    model, dataset_file, task, *engine_flags = argv
    prompts = [r["tok_input"] for r in read_records(dataset_file)]
    result = raw_throughput(model, prompts, engine_flags, task, TASKS[task].params)
    print("RESULT " + json.dumps({**asdict(result), "tokens_per_s": result.tokens_per_s}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
