"""The LoadGen QuerySampleLibrary over a loaded Dataset (all samples stay in memory)."""

from __future__ import annotations

import mlperf_loadgen as lg

from qsl.dataset import Dataset


class SampleLibrary:
    """Owns the LoadGen QSL handle; use as a context manager so it is always destroyed."""

    def __init__(self, dataset: Dataset, performance_sample_count: int) -> None:
        self._handle = lg.ConstructQSL(
            len(dataset), min(performance_sample_count, len(dataset)),
            self._load, self._unload,
        )

    @property
    def handle(self):
        return self._handle

    # The samples are already in memory: loading and unloading are no-ops.
    def _load(self, indices) -> None:
        pass

    def _unload(self, indices) -> None:
        pass

    def close(self) -> None:
        if self._handle is not None:
            lg.DestroyQSL(self._handle)
            self._handle = None

    def __enter__(self) -> "SampleLibrary":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
