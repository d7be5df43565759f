"""Backends by name: a plain dict, with a helpful error for unknown names.

`fake-*` backends are fakes (no model): for tests and for measuring the harness.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from harness.errors import ConfigError
from qsl.dataset import Dataset
from sut.backend import Backend, GenerationParams
from sut.fake_backends import LatencyShape
from sut.remote_backend import CONNECT_GRACE_S, STARTUP_WAIT_S


@dataclass(frozen=True)
class RemoteOptions:
    """The remote backend's endpoints (checked and normalized) and how long it waits."""

    urls: tuple[str, ...] = ()
    startup_timeout_s: float = STARTUP_WAIT_S
    connect_grace_s: float = CONNECT_GRACE_S


@dataclass(frozen=True)
class BackendRequest:
    """What a backend may need to be built."""

    model_dir: Path
    tokenizer: Path | None  # None: the embedded Llama-3 tokenizer (only fakes need one)
    dataset: Dataset
    engine_args: Sequence[str]
    params: GenerationParams
    task: str  # a key of harness.tasks.TASKS
    scenario: str  # a key of harness.rules.SCENARIO_SPECS
    fake_shape: LatencyShape = LatencyShape()  # fake-latency only
    remote: RemoteOptions = RemoteOptions()  # remote only
    demo: bool = False  # the model is the embedded demo's (vllm: its flags)


def _vllm(r: BackendRequest) -> Backend:
    from sut.vllm.backend import VllmBackend
    from sut.vllm.flags import EngineJob

    return VllmBackend(str(r.model_dir), r.engine_args, r.params, EngineJob(r.task, r.scenario, r.demo))


def _oracle(r: BackendRequest) -> Backend:
    from qsl.tokenizer import load_tokenizer, tokenizer_or_embedded
    from sut.fake_backends import OracleBackend

    tokenizer = load_tokenizer(tokenizer_or_embedded(r.tokenizer))
    answers = {s.index: tokenizer.encode(s.reference, add_special_tokens=False)
               for s in r.dataset.samples}
    return OracleBackend(answers, r.params)


def _latency(r: BackendRequest) -> Backend:
    from sut.fake_backends import LatencyBackend

    return LatencyBackend(r.params, r.fake_shape)


def _failing(r: BackendRequest) -> Backend:
    from sut.fake_backends import FailingBackend

    return FailingBackend(r.params, fail_indices=frozenset({1}), shape=LatencyShape(itl_s=0.001))


REMOTE_WINDOW = 512  # requests in flight per endpoint; the rest wait for the first free one


def _remote(r: BackendRequest) -> Backend:
    from sut.remote_backend import RemoteBackend
    from sut.replicas import ReplicaSet

    return ReplicaSet([RemoteBackend(u, r.params, r.remote.startup_timeout_s,
                                     r.remote.connect_grace_s)
                       for u in r.remote.urls], r.params, window=REMOTE_WINDOW)


BACKENDS: dict[str, Callable[[BackendRequest], Backend]] = {
    "vllm": _vllm,
    "remote": _remote,
    "fake-oracle": _oracle,
    "fake-latency": _latency,
    "fake-failing": _failing,
}


def make_backend(name: str, request: BackendRequest) -> Backend:
    try:
        factory = BACKENDS[name]
    except KeyError:
        close = difflib.get_close_matches(name, BACKENDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown backend {name!r}.{hint} Available: {', '.join(BACKENDS)}") from None
    return factory(request)
