"""A run folder's status: only a finished run reads as a result, whoever reads it."""

import json

import pytest

from harness.errors import RunError
from harness.results.summary import parse_run
from harness.run import status

LOADGEN_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json")


@pytest.fixture
def run_dir(tmp_path):
    """A folder holding what LoadGen writes (contents as LoadGen's VALID run would say)."""
    (tmp_path / "mlperf_log_summary.txt").write_text("Result is : VALID\n")
    (tmp_path / "mlperf_log_detail.txt").write_text(
        ':::MLLOG {"key": "result_validity", "value": "VALID"}\n'
        ':::MLLOG {"key": "effective_scenario", "value": "Offline"}\n')
    (tmp_path / "mlperf_log_accuracy.json").write_text("[]\n")
    return tmp_path


def test_a_finished_run_is_a_result(run_dir):
    status.mark_running(run_dir)
    status.mark_finished(run_dir)
    assert status.not_a_result(run_dir) is None
    assert parse_run(run_dir).valid is True


def test_a_running_run_is_not_a_result(run_dir):
    status.mark_running(run_dir)  # a harness killed with -9 leaves this behind
    assert "never finished" in status.not_a_result(run_dir)
    with pytest.raises(RunError, match="never finished"):
        parse_run(run_dir)


def test_a_failed_run_renames_loadgens_logs_and_records_why(run_dir):
    status.mark_running(run_dir)
    problems = status.mark_failed(run_dir, "stopped by SIGTERM", ["qsl_idx=None: x"])
    assert problems == []
    for name in LOADGEN_FILES:
        assert not (run_dir / name).exists()
        assert (run_dir / f"FAILED-{name}").is_file()
    record = json.loads((run_dir / status.STATUS_FILE).read_text())
    assert record["state"] == "failed" and record["reason"] == "stopped by SIGTERM"
    assert (run_dir / "FAILED.txt").read_text() == "stopped by SIGTERM\nqsl_idx=None: x\n"
    assert status.not_a_result(run_dir) == f"the run in {run_dir} FAILED: stopped by SIGTERM"
    with pytest.raises(RunError, match="FAILED: stopped by SIGTERM; not a result"):
        parse_run(run_dir)


def test_an_older_harness_failed_run_is_refused_by_its_marker(run_dir):
    (run_dir / "FAILED.txt").write_text("qsl_idx=3 query=9: EngineDeadError\n")
    assert "FAILED (qsl_idx=3 query=9: EngineDeadError)" in status.not_a_result(run_dir)


def test_another_harness_run_without_markers_is_read(run_dir):
    assert status.not_a_result(run_dir) is None


def test_an_unreadable_status_is_not_a_result(run_dir):
    (run_dir / status.STATUS_FILE).write_text("{not json")
    assert "unreadable" in status.not_a_result(run_dir)


def test_atomic_write_leaves_no_temporary_file_when_it_fails(tmp_path):
    target = tmp_path / "gone" / "status.json"  # its folder does not exist: the open fails
    with pytest.raises(OSError):
        status.write_atomically(target, "x")
    status.write_atomically(tmp_path / "ok.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]
