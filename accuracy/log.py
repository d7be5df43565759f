"""Read LoadGen's mlperf_log_accuracy.json into (qsl_idx, token ids) pairs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import AccuracyError


@dataclass(frozen=True, eq=False)
class LoggedOutput:
    """One sample's generated token ids as LoadGen logged them."""

    qsl_idx: int
    token_ids: np.ndarray


def read_accuracy_log(path: Path | str, dtype: np.dtype) -> list[LoggedOutput]:
    """Parse the log; the first entry of each qsl_idx wins (LoadGen may log a sample twice)."""
    path = Path(path)
    dtype = np.dtype(dtype)
    if not path.is_file():
        raise AccuracyError(
            f"accuracy log not found: {path}; run the benchmark in accuracy mode first "
            f"(make run-accuracy) or pass the mlperf_log_accuracy.json of such a run"
        )
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AccuracyError(f"{path}: not valid JSON ({e}); was the run interrupted?") from e
    if not isinstance(entries, list):
        raise AccuracyError(f"{path}: expected a JSON list of LoadGen entries")
    outputs: list[LoggedOutput] = []
    seen: set[int] = set()
    for n, entry in enumerate(entries):
        try:
            idx, data = int(entry["qsl_idx"]), entry["data"]
            raw = bytes.fromhex(data)
        except (KeyError, TypeError, ValueError) as e:
            raise AccuracyError(
                f"{path}: entry {n} is not a LoadGen accuracy entry with qsl_idx and hex data ({e})"
            ) from e
        if idx in seen:
            continue
        if len(raw) % dtype.itemsize:
            raise AccuracyError(
                f"{path}: entry {n} (qsl_idx {idx}) holds {len(raw)} bytes, not a whole number "
                f"of {dtype.name} token ids; pass the --dtype the SUT wrote (this harness: int32)"
            )
        seen.add(idx)
        outputs.append(LoggedOutput(qsl_idx=idx, token_ids=np.frombuffer(raw, dtype)))
    return outputs


def check_indices(logged: list[LoggedOutput], count: int, log_path: Path, dataset_path: Path
                  ) -> None:
    """Every logged qsl_idx must name a record of the dataset that was run."""
    outside = [o.qsl_idx for o in logged if not 0 <= o.qsl_idx < count]
    if outside:
        raise AccuracyError(f"{log_path}: qsl_idx {outside[0]} is outside {dataset_path} "
                            f"({count} records); was the log made with another dataset?")
