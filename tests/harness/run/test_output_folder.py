"""The output folder: checked before the engine starts, and a disk that fills mid-run still
leaves a run that never reads as a result."""

import subprocess
import time
from pathlib import Path

import pytest

from harness.config import default_output_root
from harness.run.status import not_a_result
from tests.conftest import REPO, run_cli

FAST = ("--backend", "fake-oracle", "--progress-interval", "0")


@pytest.fixture
def small_disk(tmp_path):
    """A real filesystem of a few MiB (tmpfs; needs root, as CI has)."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def make(mib: int) -> Path:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
        if res.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        return mount

    yield make
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("mine")
    res = run_cli("run-offline", *FAST, "--output-dir", str(tmp_path / "file"))
    assert res.returncode == 2, res.stderr
    assert (f"output folder {tmp_path / 'file' / 'Offline'}: {tmp_path / 'file'} is a file, "
            f"not a folder") in res.stderr
    assert "starting the" not in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "file").read_text() == "mine"


def test_output_folder_that_cannot_be_written():
    res = run_cli("run-offline", *FAST, "--output-dir", "/proc/harness-runs")
    assert res.returncode == 2, res.stderr
    assert "output folder /proc/harness-runs/Offline cannot be used" in res.stderr
    assert "starting the" not in res.stderr and "Traceback" not in res.stderr


def test_output_folder_without_room_for_the_logs(small_disk):
    disk = small_disk(4)
    res = run_cli("run-offline", *FAST, "--output-dir", str(disk / "runs"))
    assert res.returncode == 2, res.stderr
    assert "MiB free; this run's logs need about 64 MiB" in res.stderr
    assert "starting the" not in res.stderr


def test_disk_filling_during_the_run_fails_it_with_one_line(start_harness, small_disk):
    disk = small_disk(66)  # passes the 64 MiB check; then something else takes the rest
    conf = disk.parent / "short.conf"
    conf.write_text((REPO / "user.conf").read_text() + "llama3_1-8b.Server.min_query_count = 100\n")
    h = start_harness(disk.parent, "run-server", "--backend", "fake-latency", "--fake-itl-ms", "5",
                "--user-conf", str(conf), out=disk / "runs")
    run_dir = disk / "runs" / "Server" / "performance" / "run_1"
    h.wait_for_loadgen(run_dir)
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2 ** 20)
        except OSError:
            pass
    t0 = time.monotonic()
    rc, out, err = h.finish()
    assert rc == 5, err
    assert f"run FAILED: cannot write in {run_dir} (No space left on device)" in err
    assert "Traceback" not in err and "VALID" not in out
    assert not_a_result(run_dir)  # "running" or "failed": never a result
    assert not list(run_dir.glob(".*.tmp"))
    assert time.monotonic() - t0 < 120


@pytest.mark.parametrize("model, expected", [
    ("models/llama/..", "models"),
    ("models/llama/.", "llama"),
    ("/", "model"),
    ("Llama-3.1-8B-Instruct", "Llama-3.1-8B-Instruct"),
])
def test_default_run_folder_stays_under_runs(tmp_path, monkeypatch, model, expected):
    monkeypatch.chdir(tmp_path)
    root = default_output_root(Path(model))
    assert root == Path("runs") / expected
    assert root.parent == Path("runs")
