"""Benchmark runs: checks, one engine session, LoadGen tests, logs, summaries.

Everything that can fail fast (user.conf, dataset, LoadGen settings) is checked
before the engine starts; the engine is always shut down; a failed sample or
Ctrl-C still leaves LoadGen's logs on disk and makes the run FAILED.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import loadgen_run
from harness.config import RunConfig
from harness.errors import ConfigError, RunError, SetupError
from harness.live import LiveProgress
from harness.rules import SCENARIO_SPECS, ScenarioSpec
from harness.run_layout import RunLayout
from harness.summary import RunSummary, parse_run
from harness.userconf import load_user_conf
from qsl.dataset import Dataset, load_dataset
from qsl.library import SampleLibrary
from sut.event_loop import EventLoopThread
from sut.loadgen_sut import LoadgenSut
from sut.progress import RunProgress
from sut.registry import BackendRequest, make_backend

MLPERF_CONF = Path(__file__).resolve().parent.parent / "mlperf.conf"
HARNESS_CLOCK_FILE = "harness_clock.json"  # next to LoadGen's logs


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
    replica_summary: str | None = None  # per replica/endpoint, for multi-replica backends


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
    dataset = load_dataset(cfg.dataset, cfg.vocab_size())
    if dataset.is_mmlu != (cfg.task == "mmlu"):
        raise ConfigError(f"{cfg.dataset} is {'an MMLU' if dataset.is_mmlu else 'a CNN-DailyMail'}"
                          f" file; use {'run-mmlu' if dataset.is_mmlu else 'run-accuracy / run-*'}"
                          f" for it")
    say(f"dataset {cfg.dataset}: {len(dataset):,} samples, longest prompt "
        f"{dataset.longest_prompt:,} tokens")
    return dataset


class EngineSession:
    """The backend on its event loop, started once, serving one or more LoadGen tests."""

    def __init__(self, cfg: RunConfig, dataset: Dataset) -> None:
        self.cfg, self.dataset = cfg, dataset
        task = cfg.task_spec()
        self.params = task.params
        self.backend = make_backend(cfg.backend, BackendRequest(
            model_dir=cfg.model_dir, tokenizer_dir=cfg.tokenizer_dir, dataset=dataset,
            engine_args=cfg.engine_args, params=self.params, task=cfg.task,
            scenario=cfg.scenario,
            fake_shape=cfg.fake_shape, remote_urls=cfg.remote_urls))
        self.loop: EventLoopThread | None = None

    def __enter__(self) -> "EngineSession":
        self.loop = EventLoopThread()
        try:
            say(f"starting the {self.backend.name} backend (model {self.cfg.model_dir})")
            t0 = time.monotonic()
            self.loop.run(self.backend.start())
            self.loop.run(self.backend.health_check())
            say(f"backend ready in {time.monotonic() - t0:.1f} s")
            if settings := self.backend.settings():
                say(f"engine: {settings}")
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
        try:
            self.loop.run(self.backend.shutdown(), timeout=120)
        except Exception as e:
            if exc_type is None:
                raise SetupError(f"the backend did not shut down cleanly: {e}") from e
            say(f"also, while stopping after that error: {type(e).__name__}: {e}")
        finally:
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
        """One LoadGen test over this session's engine; RunError if any sample failed."""
        progress = RunProgress()
        self.backend.take_replica_report()  # count this test's requests only
        sut = LoadgenSut(self.backend, self.loop, self.dataset.samples, progress, spec.streaming,
                         longest_first=self.cfg.longest_first and not spec.streaming)
        say(f"LoadGen {spec.name} {mode} run ({spec.loadgen_model}); logs in {log_dir}")
        with SampleLibrary(self.dataset, settings.performance_sample_count_override) as qsl, \
                LiveProgress(spec.name, progress, self.cfg.progress_interval_s):
            loadgen_run.run_test(sut, qsl.handle, settings, log_dir, sut.abort, audit_config)
        if sut.errors:
            first = sut.errors[0]
            what = (f"sample {first.qsl_index} failed: {first.error}"
                    if first.qsl_index is not None else first.error)
            (log_dir / "FAILED.txt").write_text(
                "".join(f"qsl_idx={e.qsl_index} query={e.query_id}: {e.error}\n"
                        for e in sut.errors))
            raise RunError(f"run FAILED: {what} ({len(sut.errors)} failure(s) listed in "
                           f"{log_dir / 'FAILED.txt'}; LoadGen's logs are kept there, not valid)")
        replicas = self.backend.take_replica_report()
        clock = HarnessClock(progress.completed, progress.output_tokens, progress.busy_s())
        (log_dir / HARNESS_CLOCK_FILE).write_text(json.dumps(asdict(clock)) + "\n")
        return RunOutcome(log_dir=log_dir, summary=parse_run(log_dir, spec.name), clock=clock,
                          replica_summary=replicas)


def run_benchmark(cfg: RunConfig, compliance_test: str | None = None) -> RunOutcome:
    """Run LoadGen once (cfg.scenario, cfg.mode) through cfg.backend; with compliance_test
    (TEST06) run that test instead: its audit settings over the performance settings."""
    from harness.compliance import TEST06_AUDIT_CONFIG

    spec = SCENARIO_SPECS[cfg.scenario]
    user_conf = load_user_conf(cfg.user_conf, demo=cfg.demo)
    dataset = load_run_dataset(cfg)
    layout = RunLayout(cfg.output_root, spec.name)
    layout.scenario_dir.mkdir(parents=True, exist_ok=True)
    conf_path = user_conf.write(layout.scenario_dir)
    settings = loadgen_run.load_settings(conf_path, spec.loadgen_model, spec.loadgen_scenario,
                                         cfg.mode)
    check_sample_counts(settings, dataset, spec, cfg.mode, cfg.user_conf)
    log_dir = layout.prepare(compliance_test or cfg.mode)
    audit = None
    if compliance_test:
        log_dir = layout.test06_run_dir
        log_dir.mkdir()
        audit = log_dir / "audit.config"
        audit.write_text(TEST06_AUDIT_CONFIG)
    shutil.copyfile(MLPERF_CONF, layout.scenario_dir / "mlperf.conf")
    user_conf.write(log_dir)  # what this run read, kept with its logs
    (log_dir / "harness_config.json").write_text(cfg.to_json() + "\n")
    with EngineSession(cfg, dataset) as session:
        return session.run_test(spec, cfg.mode, settings, log_dir, audit)
