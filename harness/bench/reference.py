"""The public reference's Offline SUT style, the baseline of `bench-gpu --reference`.

mlcommons/inference language/llama3.1-8b hands its engine 16 samples per blocking
generate call from one worker thread and completes them when the call returns. This
module does the same over vLLM's `LLM` with the harness's engine flags and sampling,
under real LoadGen Offline, so the harness can be compared with that style in one run:

    python -m harness.bench.reference MODEL DATASET USER_CONF LOG_DIR [vLLM engine flags]
"""

from __future__ import annotations

import queue
import sys
import threading
from pathlib import Path

from harness.rules import LLAMA3_VOCAB_SIZE, LOADGEN_MODEL_DATACENTER
from harness.run import loadgen
from harness.tasks import TASKS
from qsl.dataset import load_dataset
from qsl.library import SampleLibrary
from sut import responses
from sut.vllm.blocking import BlockingLLM

REFERENCE_BATCH = 16  # samples per blocking generate call in the public reference


class ReferenceStyleSut:
    """Batches of REFERENCE_BATCH issued samples, run one blocking call at a time."""

    def __init__(self, llm: BlockingLLM, prompts: list[list[int]]) -> None:
        self._llm, self._prompts = llm, prompts
        self._work: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="reference-sut", daemon=True)
        self._worker.start()

    def issue_queries(self, query_samples) -> None:
        for i in range(0, len(query_samples), REFERENCE_BATCH):
            self._work.put([(q.id, q.index) for q in query_samples[i:i + REFERENCE_BATCH]])

    def flush_queries(self) -> None:
        pass

    def _serve(self) -> None:
        while (batch := self._work.get()) is not None:
            outputs = self._llm.generate([self._prompts[index] for _, index in batch])
            for (query_id, _), tokens in zip(batch, outputs):
                responses.complete(query_id, tokens)

    def close(self) -> None:
        self._work.put(None)
        self._worker.join()


def main(argv: list[str]) -> int:
    model, dataset_file, user_conf, log_dir, *engine_flags = argv
    dataset = load_dataset(dataset_file, LLAMA3_VOCAB_SIZE)
    settings = loadgen.load_settings(Path(user_conf), LOADGEN_MODEL_DATACENTER, "Offline",
                                         "performance")
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    llm = BlockingLLM(model, engine_flags, "cnn", TASKS["cnn"].params)
    sut = ReferenceStyleSut(llm, [s.token_ids.tolist() for s in dataset.samples])
    try:
        with SampleLibrary(dataset, settings.performance_sample_count_override) as qsl:
            loadgen.run_test(sut, qsl.handle, settings, Path(log_dir),
                                 on_stop=lambda reason: None)
    finally:
        sut.close()
        llm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
