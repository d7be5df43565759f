"""One split of a public Hugging Face dataset, from a local copy or (with a network) the hub.

A local copy is a folder written by `datasets.save_to_disk`, or the hub's parquet layout
(`<config>/<split>-*.parquet`, or the parquet files straight in the folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from harness.errors import DatasetError


@dataclass(frozen=True)
class HubDataset:
    name: str  # "cnn_dailymail"
    config: str  # "3.0.0"
    what: str  # how errors call it: "dataset source", "MMLU source"


def load_split(hub: HubDataset, source: str | Path, split: str, columns: Iterable[str]):
    """`split` of `hub` from `source` (a folder, or "hub") as a datasets.Dataset holding
    `columns`; DatasetError naming the folder and what to pass otherwise."""
    import datasets

    label = f"{hub.name} {hub.config}"
    if str(source) == "hub":
        try:
            ds = datasets.load_dataset(hub.name, hub.config, split=split)
        except Exception as e:  # offline, hub errors: all mean "not available"
            raise DatasetError(f"cannot load {label} from the hub ({e}); pass a local copy "
                               f"with --source") from e
        return _with_columns(ds, f"{label} {split}", columns)
    root = Path(source)
    if not root.is_dir():
        raise DatasetError(f"{hub.what} not found: {root}; pass a folder holding {label} "
                           f"(save_to_disk output or the hub's parquet files), or 'hub'")
    if (root / "dataset_dict.json").is_file() or (root / "state.json").is_file():
        loaded = datasets.load_from_disk(str(root))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise DatasetError(f"{root} has no '{split}' split (it has {', '.join(loaded)})")
            loaded = loaded[split]
        return _with_columns(loaded, f"{root} {split}", columns)
    for folder in (root / hub.config, root):
        files = sorted(folder.glob(f"{split}-*.parquet"))
        if files:
            ds = datasets.load_dataset("parquet", data_files=[str(f) for f in files],
                                       split="train")
            return _with_columns(ds, f"{folder} {split}", columns)
    raise DatasetError(f"{root}: no '{split}' split found (looked for save_to_disk output and "
                       f"for {hub.config}/{split}-*.parquet)")


def _with_columns(ds, where: str, columns: Iterable[str]):
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise DatasetError(f"{where}: lacks column(s) {', '.join(missing)} (has "
                           f"{', '.join(ds.column_names)}); is it the right dataset?")
    return ds
