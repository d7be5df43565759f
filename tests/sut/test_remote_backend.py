"""The remote backend against two real `vllm serve` processes (CPU build, tiny model) on
loopback, through real LoadGen (slow: two servers start)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from harness.run.loadgen import STOP_GRACE_S
from harness.run.status import not_a_result
from sut.vllm.flags import DEMO
from tests.conftest import REPO, run_cli
from tests.harness_process import wait_until

pytestmark = [pytest.mark.vllm, pytest.mark.slow]  # fake servers: test_remote_startup.py


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def servers(demo_assets, tmp_path_factory):
    logs = tmp_path_factory.mktemp("servers")
    procs, urls = [], []
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1")
    for k in range(2):
        port = _free_port()
        log = open(logs / f"server{k}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
             str(demo_assets.model_dir), "--host", "127.0.0.1", "--port", str(port),
             "--gpu-memory-utilization", "0.3", "--no-enable-prefix-caching",
             "--max-model-len", "4096", *DEMO],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 400
    while not all(_healthy(u) for u in urls):
        assert time.monotonic() < deadline, "vllm serve did not come up; see " + str(logs)
        assert all(p.poll() is None for p in procs), "vllm serve exited; see " + str(logs)
        time.sleep(2)
    yield urls, procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _prompt_tokens(url):
    """A vLLM server's prefill tokens so far (its Prometheus counter, all engines); None
    while the server is too busy to answer (two servers and a run share two cores)."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as r:
            lines = r.read().decode().splitlines()
    except TimeoutError:
        return None
    name = "vllm:prompt_tokens_total"
    return sum(float(ln.rsplit(None, 1)[1]) for ln in lines
               if ln.startswith((name + "{", name + " ")))


def _remote_args(urls):
    return ["--backend", "remote", *[a for u in urls for a in ("--remote-url", u)]]


def _outputs(acc_dir):
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    return {e["qsl_idx"]: np.frombuffer(bytes.fromhex(e["data"]), np.int32).tolist() for e in log}


def test_remote_offline_tokens_equal_in_process(servers, tmp_path):
    urls, _ = servers
    remote = run_cli("run-accuracy", *_remote_args(urls), "--output-dir", str(tmp_path / "r"),
                     "--progress-interval", "0")
    assert remote.returncode == 0, remote.stderr[-3000:]
    local = run_cli("run-accuracy", "--output-dir", str(tmp_path / "l"), "--progress-interval", "0")
    assert local.returncode == 0, local.stderr[-3000:]
    got = _outputs(tmp_path / "r" / "Offline" / "accuracy")
    want = _outputs(tmp_path / "l" / "Offline" / "accuracy")
    assert sorted(got) == list(range(32)) and got == want


def test_remote_server_streams_through_both_endpoints(servers, tmp_path):
    urls, _ = servers
    res = run_cli("run-accuracy", "--scenario", "Server", *_remote_args(urls),
                  "--output-dir", str(tmp_path), "--progress-interval", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    log = json.loads((tmp_path / "Server" / "accuracy" / "mlperf_log_accuracy.json").read_text())
    for e in log:
        data = np.frombuffer(bytes.fromhex(e["data"]), np.int32)
        first = np.frombuffer(bytes.fromhex(e["token_data"]), np.int32)
        assert first.size >= 1 and (data[:first.size] == first).all()
    perf = run_cli("run-offline", *_remote_args(urls), "--output-dir", str(tmp_path / "p"),
                   "--progress-interval", "0")
    assert perf.returncode == 0, perf.stderr[-3000:]
    rows = [ln.split() for ln in perf.stdout.splitlines() if ln.strip().startswith("remote http")]
    served = [int(r[2].replace(",", "")) for r in rows]
    issued = [int(ln.split()[1].replace(",", "")) for ln in perf.stdout.splitlines()
              if ln.strip().startswith("samples ")]
    # each endpoint served some; together exactly LoadGen's samples (not the warm-up too)
    assert len(served) == 2 and min(served) > 0 and [sum(served)] == issued, perf.stdout


def test_server_killed_mid_run_fails_clearly_and_keeps_logs(servers, tmp_path):
    urls, procs = servers
    run = subprocess.Popen([sys.executable, "-m", "harness", "run-server", *_remote_args(urls),
                            "--output-dir", str(tmp_path), "--progress-interval", "0"],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = tmp_path / "Server" / "performance" / "run_1"
    try:
        wait_until("LoadGen's start", (run_dir / "mlperf_log_detail.txt").exists, 120, alive=run)
        # mid-run: the server to be killed has taken a request of LoadGen's (the warm-up
        # came before LoadGen began)
        [before] = wait_until(f"the metrics of {urls[1]}",
                              lambda: [t for t in (_prompt_tokens(urls[1]),) if t is not None],
                              120, alive=run)  # a one-item list: true even for 0 tokens
        wait_until(f"a request of the run at {urls[1]}",
                   lambda: (_prompt_tokens(urls[1]) or 0) > before, 120, alive=run)
    except AssertionError:
        run.kill()
        raise
    os.killpg(procs[1].pid, signal.SIGKILL)
    t0 = time.monotonic()
    out, err = run.communicate(timeout=300)
    assert run.returncode == 5, err[-3000:]
    assert f"lost the vLLM server at {urls[1]}" in err and "VALID" not in out
    # LoadGen keeps its Server schedule; the harness does not wait it out
    assert time.monotonic() - t0 < STOP_GRACE_S + 20
    assert (run_dir / "FAILED.txt").is_file()
    assert (run_dir / "FAILED-mlperf_log_detail.txt").is_file()
    assert not (run_dir / "mlperf_log_summary.txt").exists()
    assert f"lost the vLLM server at {urls[1]}" in not_a_result(run_dir)
