"""A backend that talks to a vLLM OpenAI-compatible server (`vllm serve`) over HTTP.

Token ids in (the completion prompt is the list of ids), exact token ids out
(`return_token_ids`: never re-tokenized text), streamed as server-sent events
when the scenario streams. Start-up waits for the server's /v1/models with retries;
a request that fails (connection lost, HTTP error, a server that died) raises, so
the sample, and the run, fails with the server's URL in the message.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import AsyncIterator

from harness.errors import SetupError
from qsl.records import Sample
from sut.backend import GenerationParams, TokenChunk

STARTUP_WAIT_S = 600.0  # a server may still be loading its model
_RETRY_S = 1.0


class RemoteBackend:
    """One `vllm serve` endpoint."""

    def __init__(self, url: str, params: GenerationParams, startup_wait_s: float = STARTUP_WAIT_S
                 ) -> None:
        self.url = url.rstrip("/")
        self.name = f"remote {self.url}"
        self._params = params
        self._startup_wait_s = startup_wait_s
        self._session = None
        self._model: str | None = None
        self._max_model_len: int | None = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            connector=aiohttp.TCPConnector(limit=0))
        deadline = time.monotonic() + self._startup_wait_s
        last_error = ""
        while time.monotonic() < deadline:
            try:
                async with self._session.get(f"{self.url}/v1/models") as r:
                    if r.status == 200:
                        model = (await r.json())["data"][0]
                        self._model = model["id"]
                        self._max_model_len = model.get("max_model_len")
                        return
                    last_error = f"HTTP {r.status}"
            except (aiohttp.ClientError, OSError, KeyError, IndexError) as e:
                last_error = f"{type(e).__name__}: {e}"
            await asyncio.sleep(_RETRY_S)
        await self.shutdown()
        raise SetupError(f"no vLLM server answered at {self.url} within "
                         f"{self._startup_wait_s:.0f} s ({last_error}); start it with "
                         f"`vllm serve MODEL --port ...` and check the URL")

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

    def take_replica_report(self) -> None:
        return None  # one engine

    def settings(self) -> str:
        return f"{self.url} serves {self._model} (max_model_len {self._max_model_len})"

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
