"""Check a CNN-DailyMail file and report every problem precisely (`dataset validate`).

Errors break a run or its accuracy (fields, types, vocabulary, BOS, lengths, a
tok_input that is not the tokenized prompt). Notes do not (a size that is no
MLPerf set's, duplicate prompts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DatasetError
from harness.rules import (DATACENTER_SAMPLE_COUNT, EDGE_SAMPLE_COUNT, LLAMA3_VOCAB_SIZE,
                           PROMPT_TEMPLATE)
from qsl.dataset import parse_record, read_records

MAX_LISTED = 10  # problems listed per kind; the rest are counted


@dataclass
class ValidationReport:
    path: Path
    count: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def error(self, kind: str, message: str) -> None:
        self.errors.setdefault(kind, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def render(self) -> str:
        lines = [f"{self.path}: {self.count:,} records: "
                 + ("OK" if self.ok else f"{sum(map(len, self.errors.values())):,} error(s)")]
        for kind, messages in self.errors.items():
            lines.append(f"  {kind}: {len(messages):,}")
            lines += [f"    {m}" for m in messages[:MAX_LISTED]]
            if len(messages) > MAX_LISTED:
                lines.append(f"    ... and {len(messages) - MAX_LISTED:,} more")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def validate_file(path: Path, vocab_size: int = LLAMA3_VOCAB_SIZE, tokenizer=None,
                  max_prompt_tokens: int | None = None) -> ValidationReport:
    """Every check on every record; unreadable files raise DatasetError (nothing to check)."""
    records = read_records(path)
    report = ValidationReport(path=Path(path), count=len(records))
    if len(records) not in (DATACENTER_SAMPLE_COUNT, EDGE_SAMPLE_COUNT):
        report.notes.append(f"{len(records):,} records: not an MLPerf set "
                            f"({DATACENTER_SAMPLE_COUNT:,} datacenter, {EDGE_SAMPLE_COUNT:,} edge)")
    seen: dict[tuple, int] = {}
    for i, r in enumerate(records):
        _, problems = parse_record(i, r, vocab_size)
        for problem in problems:
            report.error(problem.kind, problem.message)
        if any(p.stops_checks for p in problems):
            continue
        toks = r["tok_input"]
        if max_prompt_tokens is not None and len(toks) > max_prompt_tokens:
            report.error("prompts too long", f"record {i}: {len(toks):,} tokens > "
                                             f"{max_prompt_tokens:,}")
        key = tuple(toks)
        if key in seen:
            report.notes.append(f"record {i} repeats the prompt of record {seen[key]}")
        else:
            seen[key] = i
        if tokenizer is not None:
            expected = tokenizer.encode(PROMPT_TEMPLATE.format(input=r["input"]))
            if expected != toks:
                at = next((k for k, (a, b) in enumerate(zip(expected, toks)) if a != b),
                          min(len(expected), len(toks)))
                report.error("tok_input is not the tokenized prompt",
                             f"record {i}: differs at token {at} ({len(toks):,} tokens in the "
                             f"file, {len(expected):,} from the tokenizer)")
    return report


def require_valid(report: ValidationReport) -> None:
    if not report.ok:
        raise DatasetError(report.render())
