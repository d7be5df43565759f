"""What the scorers' command lines share: the reference script's flags and the scoring call."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from harness.demo import tokenizer_or_embedded
from harness.errors import HarnessError
from harness.rules import TOKEN_DTYPE

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


def score_log(args: argparse.Namespace,
              evaluate: Callable[[Path, Path, Path, np.dtype], T]) -> T | int:
    """evaluate(log, dataset, tokenizer, dtype), or the exit code after printing the error."""
    try:
        return evaluate(args.mlperf_accuracy_file, args.dataset_file,
                        tokenizer_or_embedded(args.tokenizer), np.dtype(args.dtype))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
