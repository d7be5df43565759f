"""One benchmark run, start to finish: checks, engine, warm-up, LoadGen, logs, report.

Everything that can fail fast (user.conf, dataset, LoadGen settings) is checked
before the engine starts; the engine is always shut down; a failed sample
or Ctrl-C still leaves LoadGen's logs on disk and makes the run FAILED.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import loadgen_run
from harness.config import RunConfig
from harness.errors import ConfigError, RunError, SetupError
from harness.live import LiveProgress
from harness.rules import LOADGEN_MODEL_DATACENTER
from harness.run_layout import RunLayout
from harness.summary import RunSummary, parse_run
from harness.userconf import load_user_conf
from qsl.dataset import Dataset, load_dataset
from qsl.library import SampleLibrary
from sut.backend import Backend, GenerationParams
from sut.event_loop import EventLoopThread
from sut.offline import OfflineSut
from sut.progress import RunProgress
from sut.registry import BackendRequest, make_backend

MLPERF_CONF = Path(__file__).resolve().parent.parent / "mlperf.conf"


@dataclass(frozen=True)
class RunOutcome:
    log_dir: Path
    summary: RunSummary


def _say(msg: str) -> None:
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def _check_sample_counts(settings, dataset: Dataset, mode: str, user_conf: Path) -> None:
    wanted = settings.performance_sample_count_override
    if mode == "performance" and wanted > len(dataset):
        raise ConfigError(
            f"LoadGen's settings ask for {wanted:,} performance samples but {dataset.path} holds "
            f"{len(dataset):,}; use the full dataset, or (not valid for submission) set "
            f"'{LOADGEN_MODEL_DATACENTER}.*.performance_sample_count_override = {len(dataset)}' "
            f"in {user_conf}"
        )


def _warm_up(loop: EventLoopThread, backend: Backend, dataset: Dataset, count: int) -> None:
    """Untimed requests before LoadGen starts; their results are dropped."""
    if not count:
        return

    async def one(i: int) -> None:
        async for _ in backend.generate(f"warmup-{i}", dataset.samples[i % len(dataset)], False):
            pass

    async def all_of_them() -> None:
        import asyncio

        await asyncio.gather(*(one(i) for i in range(count)))

    t0 = time.monotonic()
    try:
        loop.run(all_of_them())
    except Exception as e:
        raise SetupError(f"warm-up failed: {type(e).__name__}: {e}") from e
    _say(f"warm-up: {count} request(s) in {time.monotonic() - t0:.1f} s")


def run_benchmark(cfg: RunConfig) -> RunOutcome:
    """Run LoadGen once (cfg.mode) through cfg.backend; return where the logs are and the summary."""
    user_conf = load_user_conf(cfg.user_conf, demo=cfg.demo)
    dataset = load_dataset(cfg.dataset, cfg.vocab_size())
    _say(f"dataset {cfg.dataset}: {len(dataset):,} samples, longest prompt "
         f"{dataset.longest_prompt:,} tokens")
    layout = RunLayout(cfg.output_root, cfg.scenario)
    log_dir = layout.prepare(cfg.mode)
    conf_path = user_conf.write(layout.scenario_dir)
    shutil.copyfile(MLPERF_CONF, layout.scenario_dir / "mlperf.conf")
    (log_dir / "harness_config.json").write_text(cfg.to_json() + "\n")
    settings = loadgen_run.load_settings(conf_path, LOADGEN_MODEL_DATACENTER, cfg.scenario, cfg.mode)
    _check_sample_counts(settings, dataset, cfg.mode, cfg.user_conf)

    params = GenerationParams()
    backend = make_backend(cfg.backend, BackendRequest(
        model_dir=cfg.model_dir, tokenizer_dir=cfg.tokenizer_dir, dataset=dataset,
        engine_args=cfg.engine_args, params=params,
        fake_ttft_s=cfg.fake_ttft_s, fake_itl_s=cfg.fake_itl_s))
    progress = RunProgress()
    with EventLoopThread() as loop:
        try:
            _say(f"starting the {backend.name} backend (model {cfg.model_dir})")
            t0 = time.monotonic()
            loop.run(backend.start())
            loop.run(backend.health_check())
            _say(f"backend ready in {time.monotonic() - t0:.1f} s")
            if backend.max_model_len is not None:
                dataset.check_prompt_lengths(backend.max_model_len - params.max_new_tokens)
            _warm_up(loop, backend, dataset, cfg.warmup_samples)
            sut = OfflineSut(backend, loop, dataset.samples, progress)
            _say(f"LoadGen {cfg.scenario} {cfg.mode} run; logs in {log_dir}")
            with SampleLibrary(dataset, settings.performance_sample_count_override) as qsl, \
                    LiveProgress(cfg.scenario, progress, cfg.progress_interval_s):
                loadgen_run.run_test(sut, qsl.handle, settings, log_dir, sut.abort)
        finally:
            loop.run(backend.shutdown())
    if sut.errors:
        first = sut.errors[0]
        what = (f"sample {first.qsl_index} failed: {first.error}" if first.qsl_index is not None
                else first.error)
        (log_dir / "FAILED.txt").write_text(
            "".join(f"qsl_idx={e.qsl_index} query={e.query_id}: {e.error}\n" for e in sut.errors))
        raise RunError(f"run FAILED: {what} ({len(sut.errors)} failure(s) listed in "
                       f"{log_dir / 'FAILED.txt'}; LoadGen's logs are kept there, not valid)")
    return RunOutcome(log_dir=log_dir, summary=parse_run(log_dir))
