"""Check a CNN-DailyMail file and report every problem precisely (`dataset validate`).

Errors break a run or its accuracy (fields, types, vocabulary, BOS, prompt
lengths, a tok_input that is not the tokenized prompt). Notes do not (a size
that is no MLPerf set's, duplicate prompts). Prompts are checked against the
model's context less the answer (`--model`), or else the MLPerf reference's
maximum input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError, DatasetError
from harness.rules import (
    DATACENTER_SAMPLE_COUNT,
    EDGE_SAMPLE_COUNT,
    LLAMA3_VOCAB_SIZE,
    MAX_NEW_TOKENS,
    MLPERF_MAX_PROMPT_TOKENS,
    PROMPT_TEMPLATE,
)
from qsl.dataset import parse_record, read_records

MAX_LISTED = 10  # problems listed per kind; the rest are counted
# config.json keys that bound the context; like vLLM's default max_model_len, the smallest wins
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length",
                 "model_max_length", "max_sequence_length", "max_seq_length", "seq_len")


@dataclass(frozen=True)
class ModelLimits:
    """What a model folder's config.json says a dataset must fit."""

    vocab_size: int
    max_prompt_tokens: int  # the context less MAX_NEW_TOKENS for the answer
    source: str  # where max_prompt_tokens comes from, for the report


def read_model_limits(model_dir: Path) -> ModelLimits:
    """The vocabulary and prompt limit in MODEL_DIR/config.json; ConfigError when unreadable."""
    path = Path(model_dir) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise _no_config(model_dir, e.strerror) from e
    except ValueError as e:
        raise _no_config(model_dir, f"not valid JSON: {e}") from e
    if not isinstance(config, dict):
        raise _no_config(model_dir, "not a JSON object")
    found = {k: config[k] for k in _CONTEXT_KEYS if k in config}
    vocab = config.get("vocab_size", LLAMA3_VOCAB_SIZE)
    for key, value in [*found.items(), ("vocab_size", vocab)]:
        if type(value) is not int or value <= 0:
            raise _no_config(model_dir, f"{key} is {json.dumps(value)}, not a positive integer")
    if not found:
        raise _no_config(model_dir, "it has no max_position_embeddings")
    key = min(found, key=found.get)
    return ModelLimits(vocab, found[key] - MAX_NEW_TOKENS,
                       f"{key} {found[key]:,} in {path} less {MAX_NEW_TOKENS} answer tokens")


def _no_config(model_dir: Path, why: str) -> ConfigError:
    return ConfigError(f"--model {model_dir}: no usable config.json ({why}); pass the model "
                       f"folder, the one holding config.json")


def prompt_limit(max_prompt_tokens: int | None, model: ModelLimits | None) -> tuple[int, str]:
    """The prompt limit and where it comes from: the smaller of --max-prompt-tokens and the
    model's; with neither, the MLPerf reference's maximum input."""
    limits = [(max_prompt_tokens, "--max-prompt-tokens")] if max_prompt_tokens is not None else []
    if model is not None:
        limits.append((model.max_prompt_tokens, model.source))
    return min(limits) if limits else (
        MLPERF_MAX_PROMPT_TOKENS, "the MLPerf reference's maximum input; --model checks "
                                  "against a model's context")


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
                  max_prompt_tokens: int | None = None, model_dir: Path | None = None
                  ) -> ValidationReport:
    """Every check on every record; unreadable files raise DatasetError (nothing to check).
    With model_dir, its config.json gives the vocabulary and the prompt limit."""
    model = read_model_limits(model_dir) if model_dir is not None else None
    vocab_size = model.vocab_size if model else vocab_size
    max_prompt_tokens, limit_source = prompt_limit(max_prompt_tokens, model)
    records = read_records(path)
    report = ValidationReport(path=Path(path), count=len(records))
    report.notes.append(f"prompts checked against {max_prompt_tokens:,} tokens ({limit_source})")
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
        if len(toks) > max_prompt_tokens:
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
