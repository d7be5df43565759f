"""MMLU accuracy from LoadGen's accuracy log and the MMLU prompt file.

    python -m accuracy.mmlu --mlperf-accuracy-file F --dataset-file D [--tokenizer T]
        [--output-json J]

Answers are extracted generously ("C", "C.", "(C)", "**C**", "The best answer is C",
"Answer: C", lower case, leading blanks, or the text of a choice); anything else
counts as wrong and is listed, never silently. Micro accuracy = correct / all;
macro = the mean of the per-subject accuracies (what Meta reports for Llama 3.1).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from accuracy.cli import add_log_args, score_log
from harness.errors import AccuracyError, DatasetError
from harness.rules import TOKEN_DTYPE
from qsl.mmlu import LETTERS, category

_STATED = re.compile(r"answer(?:\s+is\s*:?|\s*[:\-])\s*[\*\(\[\s]*([A-Da-d])\b", re.IGNORECASE)
_LEADING = re.compile(r"^[\s\*\(\[]*([A-D])(?:[\.\)\]:\*]|\s|$)")
_ALONE = re.compile(r"^[\s\*\(\[]*([A-Da-d])[\s\.\)\]\*]*$")


def extract_answer(text: str, choices: Sequence[str] = ()) -> str | None:
    """The answer letter in a model output, or None when there is none to be sure of."""
    stated = _STATED.findall(text)
    if stated:
        return stated[-1].upper()
    for pattern in (_ALONE, _LEADING):
        m = pattern.match(text)
        if m:
            return m.group(1).upper()
    plain = text.strip().strip("*.").strip().lower()
    if plain and choices:
        hits = [i for i, c in enumerate(choices) if c.strip().lower() == plain]
        if len(hits) == 1:
            return LETTERS[hits[0]]
    return None


@dataclass(frozen=True)
class MmluResult:
    micro_accuracy: float
    macro_accuracy: float
    total: int
    correct: int
    per_subject: dict[str, dict]
    per_category: dict[str, dict]
    unparsed: dict

    def as_dict(self) -> dict:
        return {"micro_accuracy": self.micro_accuracy, "macro_accuracy": self.macro_accuracy,
                "total": self.total, "correct": self.correct, "per_subject": self.per_subject,
                "per_category": self.per_category, "unparsed": self.unparsed}


def _choices_of(record: dict) -> list[str]:
    """The choice texts, read back from the prompt's last question ("A. ..." lines)."""
    found = re.findall(r"^([A-D])\. (.*)$", record["input"], re.MULTILINE)
    return [text for _, text in found[-4:]] if len(found) >= 4 else []


def score(records: Sequence[dict], answers: dict[int, str]) -> MmluResult:
    """Score decoded answers (qsl_idx -> text) against the records' gold letters."""
    by_subject: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    unparsed = []
    for idx, text in sorted(answers.items()):
        record = records[idx]
        letter = extract_answer(text, _choices_of(record))
        tally = by_subject[record["subject"]]
        tally[1] += 1
        if letter is None:
            unparsed.append({"qsl_idx": idx, "subject": record["subject"], "output": text[:300]})
        elif letter == record["output"]:
            tally[0] += 1
    if not by_subject:
        raise AccuracyError("no answers to score: the accuracy log is empty")
    per_subject = {s: {"correct": c, "total": t, "accuracy": round(100.0 * c / t, 4)}
                   for s, (c, t) in sorted(by_subject.items())}
    per_category: dict[str, dict] = {}
    for s, v in per_subject.items():
        cat = per_category.setdefault(category(s), {"correct": 0, "total": 0})
        cat["correct"] += v["correct"]
        cat["total"] += v["total"]
    for v in per_category.values():
        v["accuracy"] = round(100.0 * v["correct"] / v["total"], 4)
    correct = sum(v["correct"] for v in per_subject.values())
    total = sum(v["total"] for v in per_subject.values())
    return MmluResult(
        micro_accuracy=round(100.0 * correct / total, 4),
        macro_accuracy=round(float(np.mean([v["accuracy"] for v in per_subject.values()])), 4),
        total=total, correct=correct, per_subject=per_subject,
        per_category=dict(sorted(per_category.items())),
        unparsed={"count": len(unparsed), "examples": unparsed[:20]})


def evaluate(accuracy_log: Path, dataset_file: Path, tokenizer_dir: Path,
             dtype: np.dtype = TOKEN_DTYPE) -> MmluResult:
    from accuracy.checks import check_scorable, warn_about_coverage
    from accuracy.decode import decode_outputs
    from accuracy.log import read_accuracy_log
    from qsl.dataset import read_records
    from qsl.tokenizer import load_tokenizer

    records = read_records(dataset_file)
    bad = [i for i, r in enumerate(records) if not {"output", "subject", "input"} <= set(r)]
    if bad:
        raise DatasetError(f"{dataset_file}: record {bad[0]} lacks output/subject/input; is this "
                           f"an MMLU file from `python -m harness dataset mmlu`?")
    logged = read_accuracy_log(accuracy_log, dtype)
    tokenizer = load_tokenizer(tokenizer_dir)
    check_scorable(logged, len(records), len(tokenizer), accuracy_log, dataset_file)
    warn_about_coverage(logged, len(records), dataset_file)
    texts = decode_outputs(tokenizer, [o.token_ids for o in logged])
    return score(records, {o.qsl_idx: t for o, t in zip(logged, texts)})


def format_report(result: MmluResult) -> str:
    lines = [f"MMLU: micro {result.micro_accuracy:.2f} %  macro {result.macro_accuracy:.2f} %  "
             f"({result.correct:,}/{result.total:,} correct, {result.unparsed['count']:,} "
             f"unparsed)"]
    lines += [f"  {c:<16} {v['accuracy']:6.2f} %  ({v['correct']:,}/{v['total']:,})"
              for c, v in result.per_category.items()]
    for ex in result.unparsed["examples"][:5]:
        lines.append(f"  unparsed qsl_idx {ex['qsl_idx']} ({ex['subject']}): {ex['output'][:80]!r}")
    return "\n".join(lines)


def write_json(result: MmluResult, json_path: Path | None) -> None:
    if json_path:
        json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m accuracy.mmlu", description=__doc__.split("\n")[0])
    add_log_args(p)
    args = p.parse_args(argv)
    result = score_log(args, evaluate, {"--output-json": args.output_json})
    if isinstance(result, int):
        return result
    print(format_report(result))
    write_json(result, args.output_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
