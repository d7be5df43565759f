"""Read LoadGen's mlperf_log_accuracy.json into typed records (the one parser of that file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import AccuracyError


@dataclass(frozen=True, eq=False)
class LoggedOutput:
    """One logged sample: its generated token ids and, when the SUT reported them, its
    token count and first tokens (streaming scenarios)."""

    qsl_idx: int
    token_ids: np.ndarray
    token_count: int | None = None
    first_token_ids: np.ndarray | None = None


def read_accuracy_log(path: Path | str, dtype: np.dtype, every_entry: bool = False
                      ) -> list[LoggedOutput]:
    """Parse the log. Scoring keeps the first entry of each qsl_idx (LoadGen may log a
    sample twice); `every_entry` keeps them all (compliance checks look at each)."""
    path = Path(path)
    dtype = np.dtype(dtype)
    if not path.is_file():
        raise AccuracyError(
            f"accuracy log not found: {path}; run the benchmark in accuracy mode first "
            f"(make run-accuracy) or pass the mlperf_log_accuracy.json of such a run"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise AccuracyError(f"{path}: cannot read the accuracy log ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise AccuracyError(f"{path}: not valid JSON ({e}); was the run interrupted?") from e
    if not text:
        raise AccuracyError(f"{path}: the accuracy log is empty (0 bytes): the run that wrote it "
                            f"did not finish; run it again")
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as e:
        raise AccuracyError(f"{path}: not valid JSON ({e}); was the run interrupted?") from e
    if not isinstance(entries, list):
        raise AccuracyError(f"{path}: expected a JSON list of LoadGen entries")
    outputs: list[LoggedOutput] = []
    seen: set[int] = set()
    for n, entry in enumerate(entries):
        try:
            idx, raw = entry["qsl_idx"], bytes.fromhex(entry["data"])
            if type(idx) is not int:
                raise TypeError(f"qsl_idx {idx!r} is not an integer")
            first = bytes.fromhex(entry["token_data"]) if "token_data" in entry else None
            count = int(entry["token_count"]) if "token_count" in entry else None
        except (KeyError, TypeError, ValueError) as e:
            raise AccuracyError(
                f"{path}: entry {n} is not a LoadGen accuracy entry with qsl_idx and hex data ({e})"
            ) from e
        if idx in seen and not every_entry:
            continue
        for what, data in (("data", raw), ("token_data", first or b"")):
            if len(data) % dtype.itemsize:
                raise AccuracyError(
                    f"{path}: entry {n} (qsl_idx {idx}) {what} holds {len(data)} bytes, not a "
                    f"whole number of {dtype.name} token ids; pass the --dtype the SUT wrote "
                    f"(this harness: int32)")
        seen.add(idx)
        outputs.append(LoggedOutput(
            qsl_idx=idx, token_ids=np.frombuffer(raw, dtype), token_count=count,
            first_token_ids=None if first is None else np.frombuffer(first, dtype)))
    return outputs
