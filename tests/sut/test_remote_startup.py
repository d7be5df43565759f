"""Start-up of the remote backend: bad URLs, nothing listening, and FakeVllmServer (a fake
`vllm serve`: an http.server stub on loopback, no model) that is not ready at first."""

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.errors import SetupError
from sut import remote_backend
from sut.backend import GenerationParams
from sut.remote_backend import RemoteBackend
from tests.conftest import run_cli


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeVllmServer:
    """A fake `vllm serve` on 127.0.0.1 (no model): listens after `listen_after_s`, answers
    HTTP `early_status` to everything for its first `early_s` seconds, then lists one model,
    is healthy and answers non-streamed completions with `max_tokens` copies of token 1000."""

    def __init__(self, early_status=503, early_s=0.0, listen_after_s=0.0):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.early_status, self.early_s, self.listen_after_s = early_status, early_s, listen_after_s
        self.completions = 0
        self._httpd = None
        self._listening = threading.Event()

    def __enter__(self):
        self._t0 = time.monotonic()
        threading.Thread(target=self._serve, daemon=True).start()
        if not self.listen_after_s:  # listening when the test begins, as it says
            assert self._listening.wait(10)
        return self

    def __exit__(self, *exc):
        self._listening.wait(self.listen_after_s + 5)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _serve(self):
        time.sleep(self.listen_after_s)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._listening.set()
        self._httpd.serve_forever(poll_interval=0.1)

    def _answer(self, path, body):
        if time.monotonic() - self._t0 < self.early_s:
            return self.early_status, {"error": "not ready (fake)"}
        if path == "/v1/models":
            return 200, {"data": [{"id": "fake-vllm", "max_model_len": 4096}]}
        if path == "/health":
            return 200, {}
        if path == "/v1/completions":
            self.completions += 1
            return 200, {"choices": [{"token_ids": [1000] * json.loads(body)["max_tokens"],
                                      "finish_reason": "length"}]}
        return 404, {"error": "no such route (fake)"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body=b""):
                status, answer = fake._answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._reply()

            def do_POST(self):
                self._reply(self.rfile.read(int(self.headers["Content-Length"])))

            def log_message(self, *args):
                pass

        return Handler


def _run_remote(*urls, extra=(), timeout=60):
    """The real CLI, Offline performance, against `urls`; (result, seconds)."""
    t0 = time.monotonic()
    res = run_cli("run-offline", "--backend", "remote",
                  *[a for u in urls for a in ("--remote-url", u)], "--warmup", "2",
                  "--progress-interval", "0", *extra, timeout=timeout)
    return res, time.monotonic() - t0


@pytest.mark.parametrize("url, problem", [
    ("foo", "is not a URL"),
    ("localhost:8000", "did you mean http://localhost:8000?"),
    ("http://", "has no host"),
    ("ftp://x", "has the scheme 'ftp'"),
    ("http://127.0.0.1:80x", "has a bad port"),
    ("http://127.0.0.1:8000/v1", "ends in /v1"),
])
def test_a_bad_url_exits_2_naming_it_with_an_example(url, problem, tmp_path):
    res, seconds = _run_remote(url, extra=("--output-dir", str(tmp_path)))
    assert res.returncode == 2, res.stderr
    assert f"error: --remote-url {url!r} " in res.stderr and problem in res.stderr
    assert "e.g. --remote-url http://127.0.0.1:8000" in res.stderr
    assert seconds < 15 and not (tmp_path / "Offline").exists()


def test_the_same_endpoint_twice_is_refused(tmp_path):
    res, _ = _run_remote("http://127.0.0.1:8000", "HTTP://127.0.0.1:8000/",
                         extra=("--output-dir", str(tmp_path)))
    assert res.returncode == 2 and "give each endpoint once" in res.stderr, res.stderr


def test_nothing_listening_fails_fast_saying_what_to_do(tmp_path):
    port = _free_port()
    res, seconds = _run_remote(f"http://127.0.0.1:{port}", extra=("--output-dir", str(tmp_path)))
    assert res.returncode == 4, res.stderr
    assert seconds < 15, seconds
    assert (f"[harness] waiting for the vLLM server at http://127.0.0.1:{port} "
            f"(up to {remote_backend.CONNECT_GRACE_S:g} s) ... (connection refused)") in res.stderr
    assert f"nothing answers at http://127.0.0.1:{port} (connection refused" in res.stderr
    assert f"`vllm serve MODEL --port {port}`" in res.stderr


def test_a_starting_server_is_waited_on_then_serves_the_run(tmp_path):
    with FakeVllmServer(early_status=503, early_s=4) as fake:
        res, seconds = _run_remote(fake.url, extra=("--output-dir", str(tmp_path)))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (f"[harness] waiting for the vLLM server at {fake.url} "
            f"(up to {remote_backend.STARTUP_WAIT_S:g} s) ... (HTTP 503)" in res.stderr)
    assert f"the vLLM server at {fake.url} is ready after" in res.stderr
    assert seconds >= 4 and fake.completions > 2  # the warm-up, then LoadGen's samples


def test_an_answer_no_vllm_server_gives_fails_at_once(tmp_path):
    with FakeVllmServer(early_status=404, early_s=float("inf")) as fake:
        res, seconds = _run_remote(fake.url, extra=("--output-dir", str(tmp_path)))
    assert res.returncode == 4 and seconds < 15, res.stderr
    assert f"{fake.url}/v1/models answered HTTP 404" in res.stderr


def test_the_startup_timeout_flag_reaches_the_backend(tmp_path):
    with FakeVllmServer(early_status=503, early_s=float("inf")) as fake:
        res, seconds = _run_remote(fake.url, extra=("--output-dir", str(tmp_path),
                                                    "--remote-startup-timeout", "3"))
    assert res.returncode == 4 and seconds < 15, res.stderr
    assert f"{fake.url} was not ready within 3 s (last: HTTP 503)" in res.stderr


def test_the_connect_grace_flag_waits_for_a_port_that_opens_late(tmp_path):
    with FakeVllmServer(listen_after_s=remote_backend.CONNECT_GRACE_S + 2) as fake:  # past it
        res, seconds = _run_remote(fake.url, extra=("--output-dir", str(tmp_path),
                                                    "--remote-connect-grace", "30"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (f"[harness] waiting for the vLLM server at {fake.url} (up to 30 s) ... "
            f"(connection refused)") in res.stderr
    assert seconds >= fake.listen_after_s and fake.completions > 2


def _start(url, **wait):
    backend = RemoteBackend(url, GenerationParams(max_new_tokens=8), **wait)

    async def go():
        await backend.start()
        await backend.shutdown()

    t0 = time.monotonic()
    asyncio.run(go())
    return time.monotonic() - t0


def test_a_port_that_opens_within_the_grace_is_waited_for():
    with FakeVllmServer(listen_after_s=2.5) as fake:
        assert 2.5 <= _start(fake.url, connect_grace_s=10) < 8


def test_progress_lines_while_waiting(monkeypatch, capsys):
    monkeypatch.setattr(remote_backend, "_PROGRESS_S", 1.0)
    with FakeVllmServer(early_status=503, early_s=3.5) as fake:
        _start(fake.url)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (f"[harness] waiting for the vLLM server at {fake.url} "
                        f"(up to {remote_backend.STARTUP_WAIT_S:g} s) ... (HTTP 503)")
    assert sum(ln.startswith(f"[harness] still waiting for {fake.url}: ") for ln in lines) >= 2
    assert lines[-1].startswith(f"[harness] the vLLM server at {fake.url} is ready after")


def test_a_server_that_never_gets_ready_fails_at_the_timeout():
    t0 = time.monotonic()
    with FakeVllmServer(early_status=503, early_s=float("inf")) as fake:
        with pytest.raises(SetupError, match=r"not ready within 2 s \(last: HTTP 503\)"):
            _start(fake.url, startup_wait_s=2)
    assert 2 <= time.monotonic() - t0 < 6
