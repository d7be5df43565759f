"""`make bench`: the harness measured against LoadGen alone and against the raw engine,
each pair in one run on this machine. Figures are printed, never asserted.

(a) LoadGen Offline with a trivial SUT (completes each sample inside the issue
    callback) vs the harness's SUT over a fake backend that streams tokens with no
    delay: samples/s, tokens/s, and the harness's CPU cost per sample and per
    streamed token (from two runs, 1 and 128 tokens per sample). The harness SUT
    runs its streaming path (Server's: first tokens, one chunk per token) under
    LoadGen's Offline schedule, so the rate measured is the harness's own.
(b) vLLM (the installed build, the embedded tiny model on CPU): LoadGen Offline
    through the harness vs vLLM's own LLM.generate on the same prompts, each in its
    own process, tokens/s and their ratio.
(c) Scoring speed at full-dataset size: ROUGE over 13,368 decoded outputs, and MMLU
    decoding + extraction + scoring over 14,042 answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlperf_loadgen as lg
import numpy as np

from harness.assets.demo import ensure_demo_assets
from harness.cli import build_parser
from harness.config import build_run_config
from harness.results.summary import parse_run
from harness.rules import LLAMA3_VOCAB_SIZE, LOADGEN_MODEL_DATACENTER, ScenarioSpec
from harness.run import loadgen
from harness.run.runner import EngineSession
from harness.run.userconf import one_pass_offline_conf
from harness.tasks import TASKS
from qsl.dataset import load_dataset
from qsl.library import SampleLibrary

MODEL = LOADGEN_MODEL_DATACENTER


@dataclass(frozen=True)
class Row:
    what: str
    samples_per_s: float
    tokens_per_s: float
    cpu_s: float
    wall_s: float


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def loadgen_trivial(folder: Path, dataset, samples: int) -> Row:
    """LoadGen alone: a SUT that answers every sample with one token inside issue_queries."""
    token = np.asarray([1000], dtype=np.int32)

    def issue(query_samples) -> None:
        lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, token.ctypes.data, token.nbytes, 1)
                                 for q in query_samples])

    settings = loadgen.extra_settings(one_pass_offline_conf(folder, samples, len(dataset)),
                                          MODEL, "Offline", "performance")
    log_dir = folder / "trivial"
    log_dir.mkdir()
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(log_dir)
    log_settings.enable_trace = False
    sut = lg.ConstructSUT(issue, lambda: None)
    with SampleLibrary(dataset, len(dataset)) as qsl:
        wall, cpu = _timed(lambda: lg.StartTestWithLogSettings(sut, qsl.handle, settings,
                                                              log_settings))
    lg.DestroySUT(sut)
    s = parse_run(log_dir)
    return Row("LoadGen + trivial SUT (1 token)", s.samples_per_second, s.tokens_per_second,
               cpu, wall)


def harness_fake(folder: Path, dataset, samples: int, tokens: int) -> Row:
    """The harness SUT + event loop over a fake backend streaming `tokens` with no delay."""
    args = build_parser().parse_args([
        "run-offline", "--backend", "fake-latency", "--output-dir", str(folder / f"fake{tokens}"),
        "--warmup", "0", "--progress-interval", "0", "--fake-output-tokens", str(tokens)])
    cfg = build_run_config(args, scenario="Offline", mode="performance", task=TASKS["cnn"],
                           engine_args=[])
    spec = ScenarioSpec("Offline", "Offline", MODEL, streaming=True)
    settings = loadgen.extra_settings(one_pass_offline_conf(folder, samples, len(dataset)),
                                          MODEL, "Offline", "performance")
    log_dir = folder / f"fake{tokens}"
    log_dir.mkdir(parents=True)
    with EngineSession(cfg, dataset) as session:
        outcome = []
        wall, cpu = _timed(lambda: outcome.append(
            session.run_test(spec, "performance", settings, log_dir)))
    s = outcome[0].summary
    return Row(f"harness + fake engine, streaming {tokens} token(s)", s.samples_per_second,
               s.tokens_per_second, cpu, wall)


def part_a(samples: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dataset = load_dataset(ensure_demo_assets().dataset_path, LLAMA3_VOCAB_SIZE)
        rows = [loadgen_trivial(folder, dataset, samples),
                harness_fake(folder, dataset, samples, 1),
                harness_fake(folder, dataset, samples, 128)]
    one, many = rows[1], rows[2]
    per_token_us = (many.cpu_s - one.cpu_s) / (samples * 127) * 1e6
    per_sample_us = one.cpu_s / samples * 1e6
    lines = [f"(a) harness overhead, {samples:,} samples, Offline, this machine",
             f"  {'what':<48} {'samples/s':>12} {'tokens/s':>12} {'CPU s':>8} {'wall s':>8}"]
    lines += [f"  {r.what:<48} {r.samples_per_s:>12,.0f} "
              f"{(f'{r.tokens_per_s:,.0f}' if r.tokens_per_s else '-'):>12} "
              f"{r.cpu_s:>8.2f} {r.wall_s:>8.2f}" for r in rows]
    lines.append(f"  harness CPU per sample ~{per_sample_us:,.1f} us, per streamed token "
                 f"~{per_token_us:,.2f} us (process CPU, all threads)")
    ratio = f"harness(1 token)/LoadGen-trivial samples/s = {one.samples_per_s / rows[0].samples_per_s:.3f}"
    return lines + [ratio]


def part_b(prompts: int) -> list[str]:
    """Its report lines, the last one the ratio line (also when a run failed)."""
    from harness.bench.gpu import Bench, parse_case
    from qsl.synthetic import write_synthetic_dataset

    assets = ensure_demo_assets()
    case = parse_case("tiny")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / case.name).mkdir()
        data = write_synthetic_dataset(folder / "prompts.json", "cnn", prompts)
        bench = Bench(assets.model_dir, data, "cnn", folder, ())
        raw, har = bench.raw(case), bench.harness(case)
    if raw.error or har.error:
        return [f"(b) {'raw vLLM' if raw.error else 'harness run'} failed: "
                f"{raw.error or har.error}", "harness/raw vLLM tokens/s: not measured"]
    return [f"(b) vLLM, embedded tiny model, {prompts} MLPerf-shaped prompts, 128 new tokens",
            f"  raw LLM.generate (one call)            {raw.tokens_per_s:>12,.1f} tok/s",
            f"  LoadGen Offline through the harness     {har.tokens_per_s:>12,.1f} tok/s "
            f"({'VALID' if har.valid else 'INVALID'})",
            f"harness/raw vLLM tokens/s = {har.tokens_per_s / raw.tokens_per_s:.3f}"]


def part_c() -> list[str]:
    import random

    from accuracy.decode import decode_outputs
    from accuracy.mmlu import score
    from accuracy.rouge import score_texts
    from harness.rules import DATACENTER_SAMPLE_COUNT
    from qsl.mmlu import SPLIT_SIZES, SUBJECT_GROUPS
    from qsl.tokenizer import load_tokenizer

    assets = ensure_demo_assets()
    refs = [r["output"] for r in json.loads(assets.dataset_path.read_text())]
    rng = random.Random(0)
    refs = [refs[i % len(refs)] for i in range(DATACENTER_SAMPLE_COUNT)]
    preds = [rng.choice(refs) for _ in refs]
    t0 = time.perf_counter()
    score_texts(preds, refs)
    rouge_s = time.perf_counter() - t0
    tokenizer = load_tokenizer(assets.tokenizer_dir)
    subjects = sorted(SUBJECT_GROUPS)
    n = SPLIT_SIZES["test"]
    records = [{"input": "", "output": "ABCD"[i % 4], "subject": subjects[i % len(subjects)]}
               for i in range(n)]
    outputs = [np.asarray(tokenizer.encode(f"The best answer is {'ABCD'[i * 7 % 4]}.",
                                           add_special_tokens=False) + [128009], np.int32)
               for i in range(n)]
    t0 = time.perf_counter()
    texts = decode_outputs(tokenizer, outputs)
    score(records, dict(enumerate(texts)))
    mmlu_s = time.perf_counter() - t0
    return ["(c) scoring speed",
            f"  ROUGE, {DATACENTER_SAMPLE_COUNT:,} outputs (Punkt + stemmer, all cores)   "
            f"{rouge_s:8.2f} s",
            f"  MMLU, {n:,} answers (decode + extract + score)                 {mmlu_s:8.2f} s"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.bench.cpu", description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=20000, help="part (a) samples per run")
    p.add_argument("--prompts", type=int, default=256, help="part (b) prompts")
    p.add_argument("--skip-vllm", action="store_true", help="skip part (b)")
    args = p.parse_args(argv)
    lines = part_a(args.samples)
    print("\n".join(lines[:-1]), flush=True)
    ratios = [lines[-1]]
    if not args.skip_vllm:
        b = part_b(args.prompts)
        print("\n".join(b[:-1]), flush=True)
        ratios.append(b[-1])
    print("\n".join(part_c()), flush=True)
    print("ratios: " + "; ".join(ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
