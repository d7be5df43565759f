"""Build the MLPerf CNN-DailyMail files from the public dataset, as the MLCommons
preprocessing does: same records, same token ids.

Source: Hugging Face `cnn_dailymail` 3.0.0, from a local copy (a folder written by
`datasets.save_to_disk`, or the hub's parquet layout `3.0.0/<split>-*.parquet`) or,
with a network, the hub itself (`hub`). Each record: `instruction` (the template),
`input` (the article), `tok_input` (tokenizer.encode of the prompt: BOS, no chat
template), `output` (the highlights). The edge set is the validation split shuffled
with seed 42, first 5,000; calibration records come from the train split by id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from harness.errors import DatasetError
from harness.rules import PROMPT_TEMPLATE
from qsl import hf_source
from qsl.hf_source import HubDataset

CNN_DAILYMAIL = HubDataset("cnn_dailymail", "3.0.0", "dataset source")
EDGE_SHUFFLE_SEED = 42
# The MLCommons file stores the template keyed by instruction style.
INSTRUCTION = {"llama": PROMPT_TEMPLATE}


def load_split(source: str | Path, split: str, columns: Iterable[str]):
    """One split of cnn_dailymail 3.0.0 as a datasets.Dataset holding `columns`."""
    return hf_source.load_split(CNN_DAILYMAIL, source, split, columns)


def select_edge(ds, count: int):
    """The edge subset: shuffled with seed 42, then the first `count` (as the reference)."""
    if count > len(ds):
        raise DatasetError(f"asked for {count:,} samples but the split holds {len(ds):,}")
    return ds.shuffle(seed=EDGE_SHUFFLE_SEED).flatten_indices().select(range(count))


def make_record(tokenizer, article: str, highlights: str, instruction: Any = INSTRUCTION) -> dict:
    return {"instruction": instruction, "input": article,
            "tok_input": tokenizer.encode(PROMPT_TEMPLATE.format(input=article)),
            "output": highlights}


def build_records(tokenizer, articles: Sequence[str], highlights: Sequence[str],
                  instruction: Any = INSTRUCTION, progress: bool = True) -> list[dict]:
    from tqdm import tqdm

    pairs = zip(articles, highlights)
    if progress:
        pairs = tqdm(pairs, total=len(articles), desc="tokenizing", unit="article")
    return [make_record(tokenizer, a, h, instruction) for a, h in pairs]


def calibration_records(tokenizer, train, ids_file: Path) -> list[dict]:
    """Records for the calibration ids (one id a line), in the list's order."""
    if not ids_file.is_file():
        raise DatasetError(f"calibration id list not found: {ids_file} (MLCommons publishes "
                           f"calibration/CNNDailyMail/calibration-list.txt)")
    ids = [line.strip() for line in ids_file.read_text().splitlines() if line.strip()]
    position = {id_: i for i, id_ in enumerate(train["id"])}
    unknown = [i for i in ids if i not in position]
    if unknown:
        raise DatasetError(f"{ids_file}: {len(unknown)} id(s) are not in the train split, e.g. "
                           f"{unknown[0]!r}")
    rows = train.select([position[i] for i in ids])
    return build_records(tokenizer, rows["article"], rows["highlights"], PROMPT_TEMPLATE)


@dataclass(frozen=True)
class BuildSummary:
    path: Path
    count: int
    min_len: int
    mean_len: float
    p99_len: float
    max_len: int
    sha256: str

    def render(self) -> str:
        return (f"wrote {self.count:,} records to {self.path}\n"
                f"  input tokens: min {self.min_len:,}  mean {self.mean_len:,.1f}  "
                f"p99 {self.p99_len:,.0f}  max {self.max_len:,}\n"
                f"  sha256 {self.sha256}")


def write_dataset(path: Path, records: list[dict], indent: int | None = 4) -> BuildSummary:
    """Write as the reference does (indent 4, UTF-8 kept; `indent=None` for files of our own,
    2.6x smaller) and summarize."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(records, indent=indent, ensure_ascii=False).encode("utf-8")
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    lengths = np.asarray([len(r["tok_input"]) for r in records])
    return BuildSummary(path, len(records), int(lengths.min()), float(lengths.mean()),
                        float(np.percentile(lengths, 99)), int(lengths.max()),
                        hashlib.sha256(data).hexdigest())


def build_eval(source: str | Path, tokenizer, out: Path, samples: int | None) -> BuildSummary:
    ds = load_split(source, "validation", ("article", "highlights"))
    if samples is not None:
        ds = select_edge(ds, samples)
    return write_dataset(out, build_records(tokenizer, ds["article"], ds["highlights"]))


def build_calibration(source: str | Path, tokenizer, ids_file: Path, out: Path) -> BuildSummary:
    train = load_split(source, "train", ("id", "article", "highlights"))
    return write_dataset(out, calibration_records(tokenizer, train, ids_file))
