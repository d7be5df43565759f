"""A backend that talks to a vLLM OpenAI-compatible server (`vllm serve`) over HTTP.

Token ids in (the completion prompt is the list of ids), exact token ids out
(`return_token_ids`: never re-tokenized text), streamed as server-sent events
when the scenario streams. A request that fails (connection lost, HTTP error, a
server that died) raises, so the sample, and the run, fails with the server's URL.

URLs are checked before anything starts (`parse_remote_urls`: http or https, a host,
optional port and path; a repeated endpoint is a ConfigError).

Start-up. `vllm serve` (0.32) binds its port before loading the model but listens
only once the model is loaded, so a starting server refuses connections exactly like
a wrong URL (measured: 120-130 s of "connection refused" for the tiny demo model on 2
CPU cores, then /v1/models answers 200 at once, never 503). Hence:
  - refused / unresolvable / connect timeout: retried for `connect_grace_s` (5 s, at
    most the timeout), then SetupError saying how to start the server; a run started
    together with its server passes --remote-connect-grace SECONDS to wait it out;
  - anything that answers but is not ready (HTTP 5xx, 408, 429, a dropped or slow
    answer; e.g. a proxy in front of a loading server): waited on up to
    `startup_wait_s` (600 s, --remote-startup-timeout), even if it refuses again;
  - an answer that no vLLM server gives (another 4xx, a 200 without a model list):
    SetupError at once.
While waiting, a line says so at once and again every 10 s.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import AsyncIterator, Sequence
from urllib.parse import urlsplit

from harness.errors import ConfigError, SetupError
from qsl.records import Sample
from sut.backend import BackendBase, EngineInfo, GenerationParams, TokenChunk

STARTUP_WAIT_S = 600.0  # a server that answers may still be loading its model
CONNECT_GRACE_S = 5.0  # how long a refused connection is retried
URL_EXAMPLE = "--remote-url http://127.0.0.1:8000"
_RETRY_S = 1.0
_PROGRESS_S = 10.0
_PROBE_TIMEOUT = dict(total=10, sock_connect=3)  # one start-up look at /v1/models
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")  # a name, an IPv4 or an IPv6 address


def _say(msg: str) -> None:
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def _why(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _url_problem(text: str) -> str | None:
    if "://" not in text:
        guess = f"; did you mean http://{text}?" if re.fullmatch(r"[\w.-]+:\d+", text) else ""
        return f"is not a URL (no http:// or https://{guess})"
    s = urlsplit(text)
    if s.scheme not in ("http", "https"):
        return f"has the scheme {s.scheme!r} (http or https only)"
    if not s.hostname or not _HOST.fullmatch(s.hostname):
        return "has no host" if not s.hostname else f"has a bad host {s.hostname!r}"
    try:
        port = s.port
    except ValueError:
        port = 0
    if port == 0 or s.netloc.endswith(":"):
        return "has a bad port (1-65535)"
    if s.username is not None or s.query or s.fragment or "?" in text or "#" in text:
        return "has user info, a query or a fragment (scheme, host, port and path only)"
    if s.path.rstrip("/").endswith("/v1"):
        return "ends in /v1 (the harness adds /v1/completions itself)"
    return None


def parse_remote_urls(texts: Sequence[str]) -> tuple[str, ...]:
    """The --remote-url values, checked and normalized (lower-case scheme and host, no
    trailing slash); ConfigError naming a bad URL, a repeated one (the same server twice
    would get twice the requests in flight), or none at all."""
    if not texts:
        raise ConfigError(f"the remote backend needs at least one --remote-url (a `vllm serve` "
                          f"endpoint), e.g. {URL_EXAMPLE}")
    urls: dict[str, str] = {}
    for text in texts:
        if problem := _url_problem(text):
            raise ConfigError(f"--remote-url {text!r} {problem}; give the root URL of a "
                              f"`vllm serve` server, e.g. {URL_EXAMPLE}")
        s = urlsplit(text)
        host = f"[{s.hostname}]" if ":" in s.hostname else s.hostname
        url = f"{s.scheme}://{host}{f':{s.port}' if s.port else ''}{s.path.rstrip('/')}"
        if url in urls:
            raise ConfigError(f"--remote-url {text!r} repeats {urls[url]!r} (both are {url}); "
                              f"give each endpoint once")
        urls[url] = text
    return tuple(urls)


class RemoteBackend(BackendBase):
    """One `vllm serve` endpoint."""

    def __init__(self, url: str, params: GenerationParams, startup_wait_s: float = STARTUP_WAIT_S,
                 connect_grace_s: float = CONNECT_GRACE_S) -> None:
        self.url = url.rstrip("/")
        self.name = f"remote {self.url}"
        self._params = params
        self._startup_wait_s = startup_wait_s
        self._connect_grace_s = min(connect_grace_s, startup_wait_s)
        self._session = None
        self._model: str | None = None
        self._max_model_len: int | None = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            connector=aiohttp.TCPConnector(limit=0))
        try:
            await self._wait_until_ready()
        except BaseException:
            await self.shutdown()
            raise

    async def _wait_until_ready(self) -> None:
        """Probe /v1/models until it lists a model (the policy: see the module docstring)."""
        t0 = time.monotonic()
        answered, shown_limit, next_note = False, 0.0, 0.0
        while True:
            state, why = await self._probe()
            now = time.monotonic()
            if state == "ready":
                if shown_limit:
                    _say(f"the vLLM server at {self.url} is ready after {now - t0:.0f} s")
                return
            answered = answered or state == "answered"
            limit = self._startup_wait_s if answered else self._connect_grace_s
            if now - t0 >= limit:
                raise SetupError(self._not_ready(answered, limit, why))
            if limit != shown_limit:
                _say(f"waiting for the vLLM server at {self.url} (up to {limit:g} s) ... ({why})")
                shown_limit, next_note = limit, now + _PROGRESS_S
            elif now >= next_note:
                _say(f"still waiting for {self.url}: {now - t0:.0f} of {limit:g} s ({why})")
                next_note += _PROGRESS_S
            await asyncio.sleep(_RETRY_S)

    async def _probe(self) -> tuple[str, str]:
        """One look at /v1/models: ("ready", ""), ("refused", why) when nothing answers, or
        ("answered", why) for a server not ready yet; SetupError for a non-vLLM answer."""
        import aiohttp

        try:
            async with self._session.get(f"{self.url}/v1/models",
                                         timeout=aiohttp.ClientTimeout(**_PROBE_TIMEOUT)) as r:
                if r.status == 200:
                    self._read_model(await r.text())
                    return "ready", ""
                if r.status < 500 and r.status not in (408, 429):
                    text = " ".join((await r.text()).split())[:120]
                    raise SetupError(f"{self.url}/v1/models answered HTTP {r.status} ({text!r}); "
                                     f"is {self.url} the root URL of a `vllm serve` server? "
                                     f"e.g. {URL_EXAMPLE}")
                return "answered", f"HTTP {r.status}"
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as e:
            refused = isinstance(getattr(e, "os_error", None), ConnectionRefusedError)
            return "refused", "connection refused" if refused else _why(e)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            return "answered", _why(e)

    def _read_model(self, body: str) -> None:
        try:
            model = json.loads(body)["data"][0]
            self._model, self._max_model_len = model["id"], model.get("max_model_len")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise SetupError(f"{self.url}/v1/models answered 200 without a model list "
                             f"({_why(e)}); is it a `vllm serve` server?") from e

    def _not_ready(self, answered: bool, limit: float, why: str) -> str:
        if answered:
            return (f"the vLLM server at {self.url} was not ready within {limit:g} s "
                    f"(last: {why}); check its log, or wait longer with "
                    f"--remote-startup-timeout SECONDS")
        s = urlsplit(self.url)
        port = s.port or (443 if s.scheme == "https" else 80)
        return (f"nothing answers at {self.url} ({why}, for {limit:g} s): start the server "
                f"(`vllm serve MODEL --port {port}`) or check the host and port; if it is still "
                f"loading its model (vllm serve opens its port only then), wait for it with "
                f"--remote-connect-grace {STARTUP_WAIT_S:.0f}")

    async def health_check(self) -> None:
        import aiohttp

        try:
            async with self._session.get(f"{self.url}/health") as r:
                if r.status != 200:
                    raise SetupError(f"{self.url}/health answered HTTP {r.status}")
        except (aiohttp.ClientError, OSError) as e:
            raise SetupError(f"{self.url} is unreachable: {e}") from e

    @property
    def max_model_len(self) -> int | None:
        return self._max_model_len

    def engine_info(self) -> tuple[EngineInfo, ...]:
        return (EngineInfo("vLLM", endpoint=self.url, model=self._model,
                           max_model_len=self._max_model_len),)

    def _body(self, sample: Sample, stream: bool) -> dict:
        p = self._params
        return {"model": self._model, "prompt": sample.token_ids.tolist(), "stream": stream,
                "max_tokens": p.max_new_tokens, "min_tokens": p.min_new_tokens,
                "temperature": 0.0, "stop_token_ids": list(p.stop_token_ids),
                "return_token_ids": True, "skip_special_tokens": False}

    async def generate(self, request_id: str, sample: Sample, stream: bool
                       ) -> AsyncIterator[TokenChunk]:
        import aiohttp

        try:
            async with self._session.post(f"{self.url}/v1/completions",
                                          json=self._body(sample, stream)) as r:
                if r.status != 200:
                    raise RuntimeError(f"{self.url} answered HTTP {r.status}: "
                                       f"{(await r.text())[:300]}")
                if not stream:
                    choice = (await r.json())["choices"][0]
                    yield TokenChunk(tuple(choice["token_ids"]), True)
                    return
                async for line in r.content:
                    if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                        continue
                    choice = json.loads(line[6:])["choices"][0]
                    finished = choice.get("finish_reason") is not None
                    if choice.get("token_ids") or finished:
                        yield TokenChunk(tuple(choice.get("token_ids") or ()), finished)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
            raise RuntimeError(f"lost the vLLM server at {self.url}: {type(e).__name__}: {e}") from e

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
