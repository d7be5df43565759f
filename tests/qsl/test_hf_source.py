"""Local copies of the public datasets: both layouts, and clear errors for the wrong files."""

import datasets
import pytest

from harness.errors import DatasetError
from qsl.hf_source import HubDataset, load_split

HUB = HubDataset("some/set", "all", "dataset source")


def _parquet(folder, split, rows):
    folder.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows).to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))


def test_parquet_under_the_config_folder_and_save_to_disk_load_alike(tmp_path):
    rows = [{"question": "q1", "answer": 1}, {"question": "q2", "answer": 3}]
    _parquet(tmp_path / "hubcopy" / "all", "test", rows)
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(
        str(tmp_path / "saved"))
    for folder in ("hubcopy", "saved"):
        ds = load_split(HUB, tmp_path / folder, "test", ("question", "answer"))
        assert ds["answer"] == [1, 3]


def test_missing_column_names_the_folder_and_the_columns(tmp_path):
    _parquet(tmp_path / "all", "test", [{"question": "q1"}])
    with pytest.raises(DatasetError, match=r"all test: lacks column\(s\) answer \(has question\)"):
        load_split(HUB, tmp_path, "test", ("question", "answer"))


def test_missing_split_says_where_it_looked(tmp_path):
    _parquet(tmp_path / "all", "dev", [{"question": "q1"}])
    with pytest.raises(DatasetError, match=r"no 'test' split found .*all/test-\*\.parquet"):
        load_split(HUB, tmp_path, "test", ("question",))
    datasets.DatasetDict({"dev": datasets.Dataset.from_list([{"question": "q"}])}).save_to_disk(
        str(tmp_path / "saved"))
    with pytest.raises(DatasetError, match=r"has no 'test' split \(it has dev\)"):
        load_split(HUB, tmp_path / "saved", "test", ("question",))
