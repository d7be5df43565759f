"""What the scorers' command lines share: the reference script's flags and the scoring call.

Exit codes: 2 (ConfigError) an output file that cannot be written, checked before
scoring; 3 (DatasetError) a bad dataset file; 4 (SetupError) no tokenizer; 6
(AccuracyError) a log that cannot be scored (missing, empty, not LoadGen's, token
ids the tokenizer cannot decode). Part of the dataset, or 0-token answers, are
scored with a warning.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Mapping, TypeVar

import numpy as np

from harness.errors import ConfigError, HarnessError
from harness.rules import TOKEN_DTYPE
from qsl.tokenizer import tokenizer_or_embedded

T = TypeVar("T")


def add_log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mlperf-accuracy-file", required=True, type=Path,
                   help="LoadGen's mlperf_log_accuracy.json")
    p.add_argument("--dataset-file", required=True, type=Path, help="the dataset file that was run")
    p.add_argument("--tokenizer", "--model-name", dest="tokenizer", type=Path, default=None,
                   help="tokenizer or model folder (default: the embedded Llama-3 tokenizer)")
    p.add_argument("--dtype", choices=["int32", "int64"], default=TOKEN_DTYPE.name,
                   help=f"token dtype in the log (default {TOKEN_DTYPE.name}, what this harness writes)")
    p.add_argument("--output-json", type=Path, default=None, help="also write the scores here")


def check_writable(outputs: Mapping[str, Path | None]) -> None:
    """ConfigError for the first output file (flag -> path) that cannot be written; checked
    before scoring, so no scoring time goes into results that cannot be kept."""
    for flag, path in outputs.items():
        if path is None:
            continue
        existed = path.exists()
        try:
            path.open("a").close()
        except OSError as e:
            raise ConfigError(f"{flag} {path}: cannot write this file ({e.strerror}); give a "
                              f"file path in an existing folder you can write to") from e
        if not existed:
            path.unlink()


def score_log(args: argparse.Namespace, evaluate: Callable[[Path, Path, Path, np.dtype], T],
              outputs: Mapping[str, Path | None]) -> T | int:
    """Check the output files can be written, then evaluate(log, dataset, tokenizer, dtype);
    or the exit code after printing the error."""
    try:
        check_writable(outputs)
        return evaluate(args.mlperf_accuracy_file, args.dataset_file,
                        tokenizer_or_embedded(args.tokenizer), np.dtype(args.dtype))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
