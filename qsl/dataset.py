"""Load and validate an MLPerf CNN-DailyMail file (a JSON list of records).

Each record has `input` (the article), `tok_input` (prompt token ids, BOS first),
`output` (the reference highlights) and usually `instruction`. `parse_record` is
the one place a record's structure is checked: loading stops at the first
problem with a DatasetError naming the file, the record and the field, with what
to do; `dataset validate` (qsl/validate.py) collects them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DatasetError
from harness.rules import BOS_TOKEN_ID, TOKEN_DTYPE
from qsl.records import Sample

REQUIRED_FIELDS = ("input", "tok_input", "output")
_FIX_HINT = "regenerate the file with the MLCommons preprocessing (or `make dataset`)"


@dataclass(frozen=True)
class Dataset:
    """The validated samples of one dataset file, in file order (index = QSL index)."""

    path: Path
    samples: tuple[Sample, ...]
    is_mmlu: bool = False  # records carry a `subject` (an MMLU prompt file)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def kind(self) -> str:
        """The task whose file this is (a key of harness.tasks.TASKS): "mmlu" or "cnn"."""
        return "mmlu" if self.is_mmlu else "cnn"

    @property
    def longest_prompt(self) -> int:
        return max(s.prompt_length for s in self.samples)

    def check_prompt_lengths(self, max_prompt_tokens: int) -> None:
        """Raise if any prompt leaves no room for the answer within the engine's context."""
        too_long = [s for s in self.samples if s.prompt_length > max_prompt_tokens]
        if too_long:
            worst = max(too_long, key=lambda s: s.prompt_length)
            raise DatasetError(
                f"{self.path}: {len(too_long)} prompt(s) are longer than the engine allows "
                f"({max_prompt_tokens} tokens leave room for the answer); the longest is record "
                f"{worst.index} with {worst.prompt_length} tokens. Raise the engine's "
                f"--max-model-len or use the official dataset file."
            )


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """Parse the file into its list of records, with a clear error for each way it can be wrong."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"dataset file not found: {path}. Pass the MLPerf cnn_eval.json with DATASET=... "
            f"(or --dataset), or leave it out to use the embedded demo dataset."
        )
    try:
        with path.open("r", encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e}); {_FIX_HINT}") from e
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text ({e}); {_FIX_HINT}") from e
    if not isinstance(data, list):
        raise DatasetError(
            f"{path}: expected a JSON list of records, found a {type(data).__name__}; {_FIX_HINT}"
        )
    if not data:
        raise DatasetError(f"{path}: the file holds no records; {_FIX_HINT}")
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise DatasetError(f"{path}: record {i} is a {type(record).__name__}, not an object")
    return data


def load_references(path: Path | str) -> list[str]:
    """The reference summaries (`output`) in file order: all the accuracy scripts need."""
    path = Path(path)
    records = read_records(path)
    refs = []
    for i, record in enumerate(records):
        out = record.get("output")
        if not isinstance(out, str):
            raise DatasetError(f"{path}: record {i} has no text field 'output'; {_FIX_HINT}")
        refs.append(out)
    return refs


@dataclass(frozen=True)
class RecordProblem:
    """One structural problem of one record: its class (for grouped reports), the message
    naming the record and the field, and whether it stops the record's other checks."""

    kind: str
    message: str
    stops_checks: bool = False  # fields missing or of the wrong type: nothing more to check


def _wrong_type(message: str) -> RecordProblem:
    return RecordProblem("wrong types", message, stops_checks=True)


def parse_record(i: int, record: dict[str, Any], vocab_size: int
                 ) -> tuple[np.ndarray | None, list[RecordProblem]]:
    """A record's prompt as int32 token ids, and every structural problem it has (fields,
    types, vocabulary, BOS). The ids are None when the record cannot be served."""
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        return None, [RecordProblem("missing fields", (
            f"record {i} is missing field(s) {', '.join(missing)} (each record needs "
            f"{', '.join(REQUIRED_FIELDS)})"), stops_checks=True)]
    problems = [_wrong_type(f"record {i} field '{name}' must be text")
                for name in ("input", "output") if not isinstance(record[name], str)]
    where = f"record {i} field 'tok_input'"
    value = record["tok_input"]
    if not isinstance(value, list):
        kind = type(value).__name__
        return None, [*problems, _wrong_type(
            f"{where} must be a list of token ids, found {kind}")]
    if not value:
        return None, [*problems, _wrong_type(f"{where} is empty")]
    if set(map(type, value)) != {int}:  # true/false are ints to Python, not token ids
        k, bad = next((k, t) for k, t in enumerate(value) if type(t) is not int)
        return None, [*problems, _wrong_type(
            f"{where} holds {json.dumps(bad)} at position {k}, not an integer token id")]
    lo, hi = min(value), max(value)
    if lo < 0 or hi >= vocab_size:
        problems.append(RecordProblem("token ids outside the vocabulary", (
            f"{where} holds token id {lo if lo < 0 else hi}, outside the model's vocabulary "
            f"[0, {vocab_size}); was the file tokenized for another model?")))
    if value[0] != BOS_TOKEN_ID:
        problems.append(RecordProblem("first token not BOS", (
            f"{where} starts with token {value[0]}, not BOS ({BOS_TOKEN_ID}); the MLPerf "
            f"prompts are tokenized with BOS")))
    return (None if problems else np.asarray(value, dtype=TOKEN_DTYPE)), problems


def load_dataset(path: Path | str, vocab_size: int) -> Dataset:
    """Read and validate a dataset file into Samples (token ids as int32 arrays)."""
    path = Path(path)
    records = read_records(path)
    samples = []
    for i, record in enumerate(records):
        tokens, problems = parse_record(i, record, vocab_size)
        if problems:
            raise DatasetError(f"{path}: {problems[0].message}; {_FIX_HINT}"
                               + (f" ({len(problems) - 1} more problem(s) in this record; "
                                  f"`python -m harness dataset validate` lists all)"
                                  if len(problems) > 1 else ""))
        samples.append(Sample(index=i, token_ids=tokens, reference=record["output"]))
    return Dataset(path=path, samples=tuple(samples),
                   is_mmlu=all("subject" in r for r in records))
