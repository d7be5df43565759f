"""Building the MLPerf files from a local cnn_dailymail copy (hub layout, no network)."""

import json

import pytest

from harness.rules import BOS_TOKEN_ID, PROMPT_TEMPLATE
from qsl.tokenizer import embedded_tokenizer_dir
from tests.conftest import run_cli

datasets = pytest.importorskip("datasets")


def _rows(n, prefix):
    return {"article": [f"{prefix} article {i}: The council met on Monday. Mr. Lee said "
                        f"it's {i * 7} % done — “good”, naïve café." for i in range(n)],
            "highlights": [f"{prefix} highlight {i}." for i in range(n)],
            "id": [f"{prefix}{i:04x}" for i in range(n)]}


@pytest.fixture(scope="module")
def hub_copy(tmp_path_factory):
    """cnn_dailymail 3.0.0 as the hub stores it: 3.0.0/<split>-00000-of-00001.parquet."""
    root = tmp_path_factory.mktemp("cnn_dailymail")
    (root / "3.0.0").mkdir()
    for split, n in (("validation", 40), ("train", 30)):
        datasets.Dataset.from_dict(_rows(n, split[:3])).to_parquet(
            str(root / "3.0.0" / f"{split}-00000-of-00001.parquet"))
    return root


@pytest.fixture(scope="module")
def meta():
    from llama_models.llama3.tokenizer import Tokenizer

    return Tokenizer.get_instance()


def _expected_tokens(meta, article):
    # Independent of the HF tokenizer: Meta's own tiktoken encoder.
    return [BOS_TOKEN_ID] + meta.encode(PROMPT_TEMPLATE.format(input=article), bos=False, eos=False)


def test_build_full_set_matches_independent_tokenization(hub_copy, meta, tmp_path):
    out = tmp_path / "cnn_eval.json"
    res = run_cli("dataset", "build", "--source", str(hub_copy), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote 40 records to {out}" in res.stdout and "sha256" in res.stdout
    records = json.loads(out.read_text())
    rows = _rows(40, "val")
    assert [r["input"] for r in records] == rows["article"]
    assert [r["output"] for r in records] == rows["highlights"]
    for r in records:
        assert r["tok_input"] == _expected_tokens(meta, r["input"])
        assert r["instruction"] == {"llama": PROMPT_TEMPLATE}
    check = run_cli("dataset", "validate", str(out), "--tokenizer", str(embedded_tokenizer_dir()))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "40 records: OK" in check.stdout


def test_edge_subset_is_the_seeded_shuffle(hub_copy, tmp_path):
    out = tmp_path / "edge.json"
    res = run_cli("dataset", "build", "--source", str(hub_copy), "--samples", "10", "--out", str(out))
    assert res.returncode == 0, res.stderr
    ds = datasets.load_dataset("parquet", data_files=str(hub_copy / "3.0.0" / "validation-*.parquet"),
                               split="train")
    expected = ds.shuffle(seed=42).select(range(10))["article"]
    assert [r["input"] for r in json.loads(out.read_text())] == expected


def test_calibration_follows_the_id_list(hub_copy, meta, tmp_path):
    ids = tmp_path / "calibration-list.txt"
    ids.write_text("tra0003\ntra0001\n")
    out = tmp_path / "calib.json"
    res = run_cli("dataset", "calibration", "--source", str(hub_copy), "--ids", str(ids),
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    records = json.loads(out.read_text())
    assert [r["output"] for r in records] == ["tra highlight 3.", "tra highlight 1."]
    assert records[0]["tok_input"] == _expected_tokens(meta, records[0]["input"])


@pytest.mark.parametrize("args,message", [
    (("--source", "/nonexistent"), "dataset source not found: /nonexistent"),
    (("--source", "{tmp}"), "no 'validation' split found"),
])
def test_bad_sources(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = run_cli("dataset", "build", *args, "--out", str(tmp_path / "x.json"))
    assert res.returncode == 3 and message in res.stderr


def test_unknown_calibration_id(hub_copy, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("tra0001\nnope\n")
    res = run_cli("dataset", "calibration", "--source", str(hub_copy), "--ids", str(ids),
                  "--out", str(tmp_path / "c.json"))
    assert res.returncode == 3 and "1 id(s) are not in the train split, e.g. 'nope'" in res.stderr


def test_make_dataset_verb(hub_copy, tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    out = tmp_path / "via_make.json"
    res = subprocess.run(["make", "-s", "dataset", f"SOURCE={hub_copy}", f"DATASET={out}",
                          f"PYTHON={sys.executable}"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert len(json.loads(out.read_text())) == 40
