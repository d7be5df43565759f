"""TEST06: verification on passing and failing logs, and real runs through LoadGen."""

import json

import numpy as np
import pytest

from harness.audit.test06 import verify_test06
from tests.conftest import REPO, run_cli


def _hex(ids):
    return np.asarray(ids, np.int32).tobytes().hex().upper()


def _entry(idx, data, first=None, count=None):
    e = {"qsl_idx": idx, "data": _hex(data), "token_count": len(data) if count is None else count}
    if first is not None:
        e["token_data"] = _hex(first)
    return e


def _log(tmp_path, entries):
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(json.dumps(entries))
    return path


def test_passing_log(tmp_path):
    r = verify_test06(_log(tmp_path, [_entry(0, [5, 6, 128009], [5]), _entry(1, [7, 8], [7, 8])]),
                      streaming=True)
    assert r.passed and r.verify_accuracy_txt() == (
        "First token check pass: True\nEOS check pass: True\nSample length check pass: True\n"
        "TEST06 verification complete\n")


@pytest.mark.parametrize("entry,line,problem", [
    (_entry(3, [5, 6, 7], [6]), "First token check pass: False", "qsl_idx 3: first tokens [6]"),
    (_entry(4, [5, 128008, 128009], [5]), "EOS check pass: False", "qsl_idx 4: 2 end tokens"),
    (_entry(5, [5, 6], [5], count=3), "Sample length check pass: False", "token_count 3 != 2"),
])
def test_each_failure_is_caught(tmp_path, entry, line, problem):
    r = verify_test06(_log(tmp_path, [_entry(0, [1, 2], [1]), entry]), streaming=True)
    assert not r.passed
    assert line in r.verify_accuracy_txt() and "TEST06 verification failed" in r.verify_accuracy_txt()
    assert any(problem in p for p in r.problems)


def test_offline_skips_the_first_token_check(tmp_path):
    r = verify_test06(_log(tmp_path, [_entry(0, [5, 6])]), streaming=False)
    assert r.passed and "First token check pass: Skipped" in r.verify_accuracy_txt()


@pytest.mark.parametrize("scenario,first", [("Server", "True"), ("Offline", "Skipped")])
def test_test06_run_through_loadgen(tmp_path, scenario, first):
    conf = tmp_path / "short.conf"  # the demo's Server settings, at a fake's pace
    conf.write_text((REPO / "user.conf").read_text() + "llama3_1-8b.Server.target_qps = 16\n")
    res = run_cli("run-compliance", "--scenario", scenario, "--backend", "fake-oracle",
                  "--output-dir", str(tmp_path), "--progress-interval", "0",
                  "--user-conf", str(conf))
    assert res.returncode == 0, res.stderr
    test_dir = tmp_path / scenario / "TEST06"
    text = (test_dir / "verify_accuracy.txt").read_text()
    assert f"First token check pass: {first}" in text and "TEST06 verification complete" in text
    logged = json.loads((test_dir / "accuracy" / "mlperf_log_accuracy.json").read_text())
    # as many outputs as LoadGen itself says it sampled (the audit's sampling target, read
    # from the audit.config LoadGen was given) and ran
    detail = {e["key"]: e["value"] for e in (
        json.loads(line[len(":::MLLOG "):])
        for line in (test_dir / "run" / "mlperf_log_detail.txt").read_text().splitlines()
        if line.startswith(":::MLLOG "))}
    ran = detail["generated_query_count"] * detail["generated_samples_per_query"]
    assert len(logged) == detail["effective_accuracy_log_sampling_target"] == ran


def test_malformed_log_is_a_clear_error(tmp_path):
    from harness.errors import AccuracyError

    with pytest.raises(AccuracyError, match="entry 1 is not a LoadGen accuracy entry"):
        verify_test06(_log(tmp_path, [_entry(0, [1, 2], [1]), {"qsl_idx": 1}]), streaming=True)
