"""The real CPU vLLM engine behind the harness, on the tiny model (slow: engine starts)."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.results.engine_report import render_replica_stats
from harness.tasks import TASKS
from sut.replicas import ReplicaTally
from sut.vllm.backend import engine_counter
from sut.vllm.engine_args import engine_argv, fill_gpus_args, parse_engine_args
from sut.vllm.flags import EngineJob
from tests.conftest import REPO, run_cli

OFFLINE = EngineJob("cnn", "Offline")


def test_user_engine_flags_come_last_so_they_win():
    argv = engine_argv("/m", ["--gpu-memory-utilization", "0.2", "--max-num-seqs", "8"], OFFLINE,
                       on_cpu=True)
    assert argv[:2] == ["--model", "/m"]
    args = parse_engine_args(argv)
    assert (args.gpu_memory_utilization, args.max_num_seqs) == (0.2, 8)
    assert args.skip_tokenizer_init is True and args.enable_prefix_caching is False


def test_the_demo_runs_in_float32_without_compiling_unless_the_user_says_otherwise():
    demo = EngineJob("cnn", "Offline", demo=True)
    args = parse_engine_args(engine_argv("/m", [], demo, on_cpu=True))
    assert (args.dtype, args.enforce_eager) == ("float32", True)
    args = parse_engine_args(engine_argv("/m", ["--dtype", "bfloat16"], demo, on_cpu=True))
    assert (args.dtype, args.enforce_eager) == ("bfloat16", True)
    args = parse_engine_args(engine_argv("/m", [], OFFLINE, on_cpu=True))  # a real model
    assert (args.dtype, args.enforce_eager) == ("auto", False)


@pytest.mark.parametrize("user, caching", [((), True), (("--no-enable-prefix-caching",), False)])
def test_mmlu_turns_prefix_caching_on_unless_the_user_says_no(user, caching):
    args = parse_engine_args(engine_argv("/m", user, EngineJob("mmlu", "Offline"), on_cpu=False))
    assert args.enable_prefix_caching is caching
    assert parse_engine_args(engine_argv("/m", (), OFFLINE, on_cpu=False)).enable_prefix_caching is False
    mmlu = TASKS["mmlu"]
    assert mmlu.params.max_new_tokens == 32 and TASKS["cnn"].params.max_new_tokens == 128
    assert mmlu.with_max_new_tokens(8).params.max_new_tokens == 8


@pytest.mark.parametrize("task, scenario, on_cpu, user, tokens, seqs", [
    ("cnn", "Offline", False, (), None, 512),
    ("cnn", "Offline", True, (), None, None),  # GPUs only
    ("cnn", "Offline", False, ("--max-num-seqs", "1024"), None, 1024),
    ("mmlu", "Offline", False, (), None, None),  # None: vLLM's defaults, set at engine start
    ("cnn", "SingleStream", False, (), None, None),
    ("cnn", "Server", True, (), 4096, None),
    ("cnn", "Interactive", False, (), 2048, None),
    ("cnn", "Interactive", False, ("--max-num-batched-tokens", "1024"), 1024, None),
    ("cnn", "Server", False, ("--max-num-batched-tokens=8192",), 8192, None),
])
def test_batch_settings_default_per_task_scenario_and_platform_unless_the_user_sets_them(
        task, scenario, on_cpu, user, tokens, seqs):
    args = parse_engine_args(engine_argv("/m", user, EngineJob(task, scenario), on_cpu=on_cpu))
    assert (args.max_num_batched_tokens, args.max_num_seqs) == (tokens, seqs)


@pytest.mark.parametrize("user, gpus, added", [
    ((), 8, ("--data-parallel-size", "8")),
    ((), 1, ()),
    (("-tp", "2"), 8, ("--data-parallel-size", "4")),
    (("--tensor-parallel-size=4", "--pipeline-parallel-size", "2"), 8, ()),
    (("--tensor-parallel-size", "3"), 8, ("--data-parallel-size", "2")),
    (("--data-parallel-size", "1"), 8, ()),
    (("--data-parallel-size-local", "4"), 8, ()),
    (("-dp", "2"), 8, ()),
])
def test_every_visible_gpu_is_used_unless_the_user_chose(user, gpus, added):
    assert fill_gpus_args(user, gpus) == added


def test_engine_counter_tallies_each_data_parallel_engine_through_vllms_adapter():
    from types import SimpleNamespace

    from vllm.v1.engine import FinishReason
    from vllm.v1.metrics.loggers import PerEngineStatLoggerAdapter

    tally = ReplicaTally(["dp rank 0", "dp rank 1"])
    adapter = PerEngineStatLoggerAdapter(vllm_config=None, engine_indexes=[0, 1],
                                         per_engine_stat_logger_factory=engine_counter(tally))

    def step(tokens, *finished):
        return SimpleNamespace(num_generation_tokens=tokens, finished_requests=[
            SimpleNamespace(num_prompt_tokens=n, finish_reason=r) for n, r in finished])

    adapter.record(None, step(7, (100, FinishReason.LENGTH), (50, FinishReason.ABORT)),
                   engine_idx=1)
    adapter.record(None, step(3), engine_idx=0)
    adapter.record(None, None, engine_idx=0)  # a scheduler-only update
    c0, c1 = tally.counts
    assert (c0.samples, c0.output_tokens, c0.errors) == (0, 3, 0)
    assert (c1.samples, c1.prompt_tokens, c1.output_tokens, c1.errors) == (2, 150, 7, 1)
    stats = tally.take()
    assert [(s.name, s.samples, s.output_tokens) for s in stats] == [("dp rank 0", 0, 3),
                                                                    ("dp rank 1", 2, 7)]
    report = render_replica_stats(stats).splitlines()
    assert report[0] == "per replica:" and report[2].split()[:6] == [
        "dp", "rank", "1", "2", "samples", "7"]
    assert tally.counts[1].samples == 0  # counting starts afresh


def test_bad_engine_flag_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown flag\(s\) --max-num-seqz \(did you mean --max-num-seqs\?\)"):
        parse_engine_args(engine_argv("/m", ["--max-num-seqz", "8"], OFFLINE, on_cpu=False))


@pytest.fixture(scope="module")
def accuracy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vllm") / "runs"
    res = run_cli("run-accuracy", "--output-dir", str(out), "--progress-interval", "0")
    return res, out / "Offline" / "accuracy"


@pytest.mark.vllm
def test_real_vllm_offline_performance_run(tmp_path):
    from tests.loadgen_summary import loadgen_summary

    res = run_cli("run-offline", "--output-dir", str(tmp_path / "runs"), "--progress-interval", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "LoadGen Offline PerformanceOnly: VALID" in res.stdout
    tok_s = float(res.stdout.split("tokens/s")[1].split()[0].replace(",", ""))
    run_dir = tmp_path / "runs" / "Offline" / "performance" / "run_1"
    summary = loadgen_summary(run_dir)
    clock = json.loads((run_dir / "harness_clock.json").read_text())
    # the figure shown is LoadGen's own, ...
    assert tok_s == pytest.approx(summary["Tokens per second"], rel=2e-3)
    # ... over the tokens the harness counted (Offline: LoadGen's tokens over its longest
    # latency, the last completion) ...
    assert summary["Tokens per second"] * summary["Max latency (ns)"] / 1e9 == pytest.approx(
        clock["output_tokens"], rel=2e-3)
    # ... in about the time of the harness's own clock (first issue to last completion)
    assert clock["samples"] == 32
    assert clock["output_tokens"] / clock["seconds"] == pytest.approx(tok_s, rel=0.05)
    assert "32/32 samples (100.0%)" in res.stderr
    assert _engine_batch_settings(res.stderr) == _vllm_batch_defaults("LLM_CLASS")


def _engine_batch_settings(stderr: str) -> tuple[int, int]:
    line = next(ln for ln in stderr.splitlines() if ln.startswith("[harness] engine: vLLM"))
    words = line.replace(",", "").split()
    return (int(words[words.index("max_num_seqs") + 1]),
            int(words[words.index("max_num_batched_tokens") + 1]))


def _vllm_batch_defaults(context: str) -> tuple[int, int]:
    """vLLM's own defaults for a usage context (vllm serve: OPENAI_API_SERVER, LLM: LLM_CLASS)."""
    from vllm.engine.arg_utils import EngineArgs
    from vllm.usage.usage_lib import UsageContext

    tokens, seqs = EngineArgs.get_batch_defaults(1)
    return seqs[UsageContext[context]], tokens[UsageContext[context]]


@pytest.mark.vllm
def test_real_vllm_accuracy_run_scores_every_sample(accuracy_run, demo_assets, tokenizer):
    from accuracy.decode import decode_outputs
    from accuracy.rouge import score_texts
    from harness.rules import LLAMA3_VOCAB_SIZE, MAX_NEW_TOKENS, STOP_TOKEN_IDS

    res, acc_dir = accuracy_run
    assert res.returncode == 0, res.stderr[-3000:]
    scores = json.loads((acc_dir / "accuracy.json").read_text())
    refs = [r["output"] for r in json.loads(demo_assets.dataset_path.read_text())]
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == list(range(len(refs)))
    answers = {e["qsl_idx"]: np.frombuffer(bytes.fromhex(e["data"]), np.int32) for e in log}
    for ids in answers.values():
        # MLPerf's generation rules reached the engine: an answer ends at its first end
        # token, or is cut at the answer limit
        ends = [i for i, t in enumerate(ids.tolist()) if t in STOP_TOKEN_IDS]
        assert ends == [ids.size - 1] or (not ends and ids.size == MAX_NEW_TOKENS), ids.tolist()
        assert ids.min() >= 0 and ids.max() < LLAMA3_VOCAB_SIZE
    # the scores are those of exactly these answers against their own references (ROUGE
    # itself is held against an independent computation in tests/accuracy/test_rouge.py)
    rescored = score_texts(decode_outputs(tokenizer, [answers[i] for i in range(len(refs))]),
                           refs)
    assert scores == rescored.as_dict() and scores["gen_num"] == len(refs)


RAW_GENERATE = textwrap.dedent("""
    import json, sys
    from vllm import LLM, SamplingParams, TokensPrompt
    if __name__ == "__main__":
        model, dataset = sys.argv[1], sys.argv[2]
        prompts = [TokensPrompt(prompt_token_ids=r["tok_input"]) for r in json.load(open(dataset))]
        # the demo's engine flags (sut.vllm.flags.DEMO): float32, no torch.compile
        llm = LLM(model=model, skip_tokenizer_init=True, gpu_memory_utilization=0.3,
                  dtype="float32", enforce_eager=True)
        params = SamplingParams(temperature=0.0, max_tokens=128, min_tokens=1,
                                stop_token_ids=[128001, 128008, 128009], detokenize=False)
        outs = llm.generate(prompts, params)
        print("RESULT " + json.dumps([list(o.outputs[0].token_ids) for o in outs]))
        llm.llm_engine.engine_core.shutdown()
""")


@pytest.mark.vllm
def test_harness_outputs_equal_raw_vllm_generate(accuracy_run, demo_assets, tmp_path):
    """The same prompts through vLLM's own LLM.generate give the same token ids (greedy)."""
    res, acc_dir = accuracy_run
    assert res.returncode == 0
    engine = next(ln for ln in res.stderr.splitlines() if ln.startswith("[harness] engine: vLLM"))
    assert "dtype torch.float32" in engine  # the demo's flags, which the raw script repeats
    script = tmp_path / "raw.py"
    script.write_text(RAW_GENERATE)
    raw = subprocess.run([sys.executable, str(script), str(demo_assets.model_dir),
                          str(demo_assets.dataset_path)], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert raw.returncode == 0, raw.stderr[-3000:]
    expected = json.loads(next(ln for ln in raw.stdout.splitlines() if ln.startswith("RESULT "))[7:])
    log = json.loads((acc_dir / "mlperf_log_accuracy.json").read_text())
    got = {e["qsl_idx"]: np.frombuffer(bytes.fromhex(e["data"]), np.int32).tolist() for e in log}
    assert [got[i] for i in range(len(expected))] == expected


@pytest.mark.vllm
def test_real_vllm_server_run_streams_first_tokens(tmp_path):
    res = run_cli("run-accuracy", "--scenario", "Server", "--output-dir", str(tmp_path),
                  "--progress-interval", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    serve_seqs, _ = _vllm_batch_defaults("OPENAI_API_SERVER")
    assert _engine_batch_settings(res.stderr) == (serve_seqs, 4096)  # the harness's Server chunk
    log = json.loads((tmp_path / "Server" / "accuracy" / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == list(range(32))
    for e in log:
        data = np.frombuffer(bytes.fromhex(e["data"]), np.int32)
        first = np.frombuffer(bytes.fromhex(e["token_data"]), np.int32)
        assert first.size >= 1 and (data[:first.size] == first).all()
        assert int(e["token_count"]) == data.size
