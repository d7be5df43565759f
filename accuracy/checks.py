"""What scoring requires of a parsed accuracy log (errors), and what it says about one it
scores anyway (warnings: part of the dataset, answers with no tokens)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from accuracy.log import LoggedOutput
from harness.errors import AccuracyError
from harness.rules import MIN_NEW_TOKENS

LISTED = 5  # qsl indices a warning names; the rest are counted


def check_scorable(logged: Sequence[LoggedOutput], count: int, vocab_size: int,
                   log_path: Path, dataset_path: Path) -> None:
    """AccuracyError unless the log holds samples, each naming a record of the dataset and
    holding only token ids the tokenizer can decode."""
    if not logged:
        raise AccuracyError(f"{log_path}: the accuracy log holds no samples; LoadGen logs "
                            f"outputs in accuracy mode only: pass the log of an accuracy run "
                            f"(make run-accuracy)")
    outside = [o.qsl_idx for o in logged if not 0 <= o.qsl_idx < count]
    if outside:
        raise AccuracyError(f"{log_path}: qsl_idx {outside[0]} is outside {dataset_path} "
                            f"({count} records); was the log made with another dataset?")
    for o in logged:
        ids = o.token_ids
        bad = ids[(ids < 0) | (ids >= vocab_size)]
        if bad.size:
            raise AccuracyError(
                f"{log_path}: qsl_idx {o.qsl_idx} holds token id {bad[0]}, outside the "
                f"tokenizer's vocabulary [0, {vocab_size}); pass the --tokenizer of the model "
                f"that ran, and the --dtype the SUT wrote (this harness: int32)")


def warn_about_coverage(logged: Sequence[LoggedOutput], count: int, dataset_path: Path) -> None:
    """Say on stderr when the log covers part of the dataset or holds 0-token answers."""
    if len(logged) < count:
        _warn(f"the accuracy log covers {len(logged):,} of the {count:,} samples of "
              f"{dataset_path}: the scores are for those samples only, not a full-dataset score")
    empty = sorted(o.qsl_idx for o in logged if o.token_ids.size == 0)
    if empty:
        shown = ", ".join(map(str, empty[:LISTED])) + (", ..." if len(empty) > LISTED else "")
        _warn(f"{len(empty):,} of the {len(logged):,} logged answers have 0 tokens (qsl_idx "
              f"{shown}); they are scored as empty answers, but an MLPerf SUT generates at least "
              f"{MIN_NEW_TOKENS} token (min_tokens)")


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
