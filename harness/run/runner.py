"""Benchmark runs: checks, one engine session, LoadGen tests, logs, summaries.

Everything that can fail fast (user.conf, dataset, LoadGen settings) is checked
before the engine starts; the engine is always shut down; a failed sample or
Ctrl-C still leaves LoadGen's logs on disk and makes the run FAILED.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.audit import AuditTest
from harness.config import RunConfig
from harness.errors import ConfigError, RunError, SetupError
from harness.project_files import MLPERF_CONF
from harness.results.engine_report import render_engines
from harness.results.live import LiveProgress
from harness.results.run_report import write_run_report
from harness.results.sample_timings import write_sample_timings
from harness.results.summary import RunSummary, parse_run
from harness.rules import SCENARIO_SPECS, ScenarioSpec
from harness.run import loadgen, status, stop_signals
from harness.run.layout import (
    AUDIT_CONFIG_FILE,
    CLOCK_FILE,
    CONFIG_FILE,
    ENGINE_FILE,
    FAILED_FILE,
    FAILED_PREFIX,
    MIN_FREE_BYTES,
    MLPERF_CONF_FILE,
    RunLayout,
    accuracy_log_bytes,
    check_output_root,
)
from harness.run.supervisor import engine_output, quiet_engine_stop
from harness.run.userconf import UserConf, load_user_conf
from qsl.dataset import Dataset, load_dataset
from qsl.library import SampleLibrary
from sut.backend import ReplicaStats
from sut.event_loop import EventLoopThread
from sut.loadgen_sut import LoadgenSut, SampleError
from sut.progress import RunProgress
from sut.registry import BackendRequest, make_backend


@dataclass(frozen=True)
class HarnessClock:
    """The harness's own timing of a LoadGen test: first issue to last completion. The only
    throughput figure of an accuracy-mode run (LoadGen reports none there)."""

    samples: int
    output_tokens: int
    seconds: float

    def render(self) -> str:
        per_s = 1 / self.seconds if self.seconds > 0 else 0.0
        return (f"harness clock: {self.samples:,} samples, {self.output_tokens:,} output tokens "
                f"in {self.seconds:,.1f} s ({self.samples * per_s:,.2f} samples/s, "
                f"{self.output_tokens * per_s:,.1f} tok/s)")


@dataclass(frozen=True)
class RunOutcome:
    log_dir: Path
    summary: RunSummary
    clock: HarnessClock
    replica_stats: tuple[ReplicaStats, ...] | None = None  # multi-replica backends only


def say(msg: str) -> None:
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def check_sample_counts(settings, dataset: Dataset, spec: ScenarioSpec, mode: str,
                        user_conf: Path) -> None:
    wanted = settings.performance_sample_count_override
    if mode == "performance" and wanted > len(dataset):
        raise ConfigError(
            f"LoadGen's settings ask for {wanted:,} performance samples but {dataset.path} holds "
            f"{len(dataset):,}; use the full dataset, or (not valid for submission) set "
            f"'{spec.loadgen_model}.*.performance_sample_count_override = {len(dataset)}' "
            f"in {user_conf}"
        )


def load_run_dataset(cfg: RunConfig) -> Dataset:
    from harness.tasks import TASKS

    dataset = load_dataset(cfg.dataset, cfg.vocab_size)
    if dataset.kind != cfg.task.name:
        owner = TASKS[dataset.kind]
        raise ConfigError(f"{cfg.dataset} is {owner.dataset_words}; use {owner.verb} for it"
                          + (" (or run-<scenario>)" if owner.verb == "run-accuracy" else ""))
    say(f"dataset {cfg.dataset}: {len(dataset):,} samples, longest prompt "
        f"{dataset.longest_prompt:,} tokens")
    return dataset


ENGINE_STOP_S = 30.0  # the engine's own shutdown, normally a few seconds
ENGINE_STOP_AFTER_SIGNAL_S = 5.0  # an engine interrupted while it starts


class EngineSession:
    """The backend on its event loop, started once, serving one or more LoadGen tests."""

    def __init__(self, cfg: RunConfig, dataset: Dataset) -> None:
        self.cfg, self.dataset = cfg, dataset
        self.params = cfg.task.params
        self.backend = make_backend(cfg.backend, BackendRequest(
            model_dir=cfg.model_dir, tokenizer=cfg.tokenizer, dataset=dataset,
            engine_args=cfg.engine_args, params=self.params, task=cfg.task.name,
            scenario=cfg.scenario, fake_shape=cfg.fake_shape, remote=cfg.remote, demo=cfg.demo))
        self.loop: EventLoopThread | None = None

    def __enter__(self) -> "EngineSession":
        self.loop = EventLoopThread()
        try:
            say(f"starting the {self.backend.name} backend (model {self.cfg.model_dir})")
            t0 = time.monotonic()
            with engine_output():  # the engine's processes: relayed by the supervisor
                self.loop.run(self.backend.start())
            self.loop.run(self.backend.health_check())
            say(f"backend ready in {time.monotonic() - t0:.1f} s")
            if engines := self.backend.engine_info():
                say(f"engine: {render_engines(engines)}")
            if self.backend.max_model_len is not None:
                self.dataset.check_prompt_lengths(
                    self.backend.max_model_len - self.params.max_new_tokens)
            if self.cfg.warmup_samples:
                t0 = time.monotonic()
                self.generate_all(self.cfg.warmup_samples)
                say(f"warm-up: {self.cfg.warmup_samples} request(s) in "
                    f"{time.monotonic() - t0:.1f} s")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type: object = None, *rest: object) -> None:
        if self.loop is None:
            return
        interrupted = exc_type is KeyboardInterrupt
        limit = ENGINE_STOP_AFTER_SIGNAL_S if interrupted else ENGINE_STOP_S
        stopped_run = interrupted or exc_type is RunError
        try:
            with quiet_engine_stop() if stopped_run else contextlib.nullcontext():
                self.loop.run(self.backend.shutdown(), timeout=limit)
        except concurrent.futures.TimeoutError:
            # Still starting (vLLM builds its engine on the loop) or stuck: the process
            # ends at once, and its engine processes with it (harness.run.supervisor).
            stop_signals.leave_threads_behind()
            if not interrupted:
                say(f"the {self.backend.name} backend did not stop within {limit:.0f} s; "
                    f"its processes end with the harness")
            return
        except KeyboardInterrupt:
            stop_signals.leave_threads_behind()
            raise
        except Exception as e:
            if exc_type is None:
                raise SetupError(f"the backend did not shut down cleanly: {e}") from e
            say(f"also, while stopping after that error: {type(e).__name__}: {e}")
        self.loop.close()
        self.loop = None

    def generate_all(self, count: int) -> float:
        """Run `count` samples at once outside LoadGen (results dropped); return samples/s."""
        samples = [self.dataset.samples[i % len(self.dataset)] for i in range(count)]

        async def one(i: int) -> None:
            async for _ in self.backend.generate(f"direct-{i}", samples[i], False):
                pass

        async def all_of_them() -> float:
            t0 = time.monotonic()
            await asyncio.gather(*(one(i) for i in range(count)))
            return count / (time.monotonic() - t0)

        try:
            return self.loop.run(all_of_them())
        except Exception as e:
            raise SetupError(f"requests outside LoadGen failed: {type(e).__name__}: {e}") from e

    def run_test(self, spec: ScenarioSpec, mode: str, settings, log_dir: Path,
                 audit_config: Path | None = None) -> RunOutcome:
        """One LoadGen test over this session's engine. RunError if any sample failed or the
        test was stopped: the folder is then marked FAILED (harness.run.status)."""
        progress = RunProgress(planned=loadgen.expected_test(
            settings, spec.loadgen_scenario, len(self.dataset), mode == "accuracy",
            audit_config is not None).samples)
        self.backend.take_replica_stats()  # count this test's requests only
        sut = LoadgenSut(self.backend, self.loop, self.dataset.samples, progress, spec.streaming,
                         longest_first=self.cfg.longest_first and not spec.streaming)
        say(f"LoadGen {spec.name} {mode} run ({spec.loadgen_model}); logs in {log_dir}")
        status.mark_running(log_dir)
        try:
            with SampleLibrary(self.dataset, settings.performance_sample_count_override) as qsl, \
                    LiveProgress(spec.name, progress, self.cfg.progress_interval_s):
                end = loadgen.run_test(sut, qsl.handle, settings, log_dir, sut.abort,
                                           sut.stopped, audit_config)
            write_sample_timings(log_dir, progress)
            if end is loadgen.TestEnd.ABANDONED_BY_USER:
                _fail_run(log_dir, sut, end)
                say("abandoned at once (second signal); the run is marked FAILED")
                sys.stderr.flush()
                os._exit(130)  # the engine's processes end with the harness (supervisor)
            replicas = self.backend.take_replica_stats()
            status.write_atomically(log_dir / ENGINE_FILE, json.dumps({
                "engines": [asdict(e) for e in self.backend.engine_info()],
                "replicas": [asdict(r) for r in replicas or ()]}, indent=1) + "\n")
            if sut.stopped.is_set():  # a failure or a stop (LoadGen may be left running)
                failure = _fail_run(log_dir, sut, end)
                if not stop_signals.signalled():  # a stopped run ends now; `report` draws it
                    _write_report(log_dir)
                raise failure
            clock = HarnessClock(progress.completed, progress.output_tokens, progress.busy_s())
            status.write_atomically(log_dir / CLOCK_FILE,
                                        json.dumps(asdict(clock)) + "\n")
            status.mark_finished(log_dir)
            _write_report(log_dir)
        except OSError as e:
            status.mark_failed(log_dir, f"cannot write in {log_dir}: {e.strerror}")
            raise RunError(f"run FAILED: cannot write in {log_dir} ({e.strerror}); free space or "
                           f"pick another --output-dir. Not a result") from e
        except KeyboardInterrupt:
            status.mark_failed(log_dir, stop_signals.reason())
            raise
        return RunOutcome(log_dir=log_dir, summary=parse_run(log_dir, spec.name), clock=clock,
                          replica_stats=replicas)


def _write_report(log_dir: Path) -> None:
    """The test's report.html; a report that cannot be made never fails the run."""
    try:
        say(f"report: {write_run_report(log_dir)}")
    except Exception as e:
        say(f"no report written ({type(e).__name__}: {e}); retry with "
            f"`python -m harness report {log_dir}`")


def _fail_run(log_dir: Path, sut: LoadgenSut, end: "loadgen.TestEnd") -> RunError:
    """Mark the folder FAILED with the first failure as the reason; the error to raise."""
    errors = sut.errors or [SampleError(None, None, stop_signals.reason())]
    first = errors[0]
    what = first.error
    where = f"LoadGen's logs kept in {log_dir} as {FAILED_PREFIX}mlperf_log_*"
    if first.qsl_index is not None:
        what = f"sample {first.qsl_index} failed: {first.error}"
        where = f"{len(errors)} failure(s) listed in {log_dir / FAILED_FILE}; " + where
    if end is not loadgen.TestEnd.ENDED:
        what += "; LoadGen was left mid-schedule (its logs are partial)"
    problems = status.mark_failed(log_dir, what, (f"qsl_idx={e.qsl_index} query={e.query_id}: "
                                                      f"{e.error}" for e in errors))
    for problem in problems:
        say(problem)
    return RunError(f"run FAILED: {what} ({where}): not a result")


@dataclass(frozen=True)
class PreparedTest:
    """One LoadGen test, checked before any engine starts: its settings, loaded."""

    cfg: RunConfig
    spec: ScenarioSpec
    settings: object  # mlperf_loadgen.TestSettings
    layout: RunLayout
    user_conf: UserConf
    audit: AuditTest | None = None


def prepare_test(cfg: RunConfig, user_conf: UserConf, dataset: Dataset,
                 audit: AuditTest | None = None, first_in_process: bool = True) -> PreparedTest:
    """Check the output folder, write the effective user.conf and mlperf.conf into the
    scenario folder, load LoadGen's settings. Later tests of a process (a campaign) load
    them through loadgen.extra_settings: LoadGen logs the same settings either way."""
    spec = SCENARIO_SPECS[cfg.scenario]
    layout = RunLayout(cfg.output_root, spec.name)
    answer_tokens = cfg.task.params.max_new_tokens
    need = MIN_FREE_BYTES + (2 * accuracy_log_bytes(len(dataset), answer_tokens)
                             if cfg.mode == "accuracy" else 0)
    check_output_root(layout.scenario_dir, need)
    with _folder_errors(layout):
        conf_path = user_conf.write(layout.scenario_dir)
        shutil.copyfile(MLPERF_CONF, layout.scenario_dir / MLPERF_CONF_FILE)
    load = loadgen.load_settings if first_in_process else loadgen.extra_settings
    settings = load(conf_path, spec.loadgen_model, spec.loadgen_scenario, cfg.mode)
    check_sample_counts(settings, dataset, spec, cfg.mode, cfg.user_conf)
    return PreparedTest(cfg, spec, settings, layout, user_conf, audit)


def run_prepared(session: EngineSession, test: PreparedTest) -> RunOutcome:
    """Lay out the test's folder (an earlier run there to history/) and run it."""
    with _folder_errors(test.layout):
        log_dir, audit_config = _lay_out_run(test.cfg, test.layout, test.user_conf, test.audit)
    return session.run_test(test.spec, test.cfg.mode, test.settings, log_dir, audit_config)


def run_benchmark(cfg: RunConfig, audit: AuditTest | None = None) -> RunOutcome:
    """Run LoadGen once (cfg.scenario, cfg.mode) through cfg.backend; with an audit test
    (TEST06) run that instead: its audit settings over the performance settings.
    The run's folder is laid out (an earlier run there moved to history/) only once the
    engine is ready: an engine that fails to start leaves the earlier run in place."""
    user_conf = load_user_conf(cfg.user_conf, demo=cfg.demo)
    dataset = load_run_dataset(cfg)
    test = prepare_test(cfg, user_conf, dataset, audit)
    with EngineSession(cfg, dataset) as session:
        return run_prepared(session, test)


def _lay_out_run(cfg: RunConfig, layout: RunLayout, user_conf, audit: AuditTest | None
                 ) -> tuple[Path, Path | None]:
    """The run's log folder (and an audit test's audit.config), with what it ran on."""
    log_dir = layout.prepare(audit.name if audit else cfg.mode)
    audit_config = None
    if audit:
        log_dir = audit.run_dir(layout)
        log_dir.mkdir()
        audit_config = log_dir / AUDIT_CONFIG_FILE
        audit_config.write_text(audit.audit_config)
    user_conf.write(log_dir)  # what this run read, kept with its logs
    (log_dir / CONFIG_FILE).write_text(cfg.to_json() + "\n")
    return log_dir, audit_config


@contextlib.contextmanager
def _folder_errors(layout: RunLayout):
    """An OSError while laying out the run folder as one ConfigError line."""
    try:
        yield
    except OSError as e:
        raise ConfigError(f"cannot prepare the run folder under {layout.scenario_dir}: "
                          f"{e.strerror} ({e.filename}); free space or pass another "
                          f"--output-dir") from None
