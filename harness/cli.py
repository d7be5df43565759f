"""Command line: one subcommand per Make verb.

    python -m harness run-offline | run-server | run-interactive | run-singlestream
                      [--model M --dataset D] [vLLM engine flags...]
    python -m harness run-accuracy [--scenario S] [--model M --dataset D] [vLLM engine flags...]
    python -m harness find-qps [--scenario Server|Interactive] [--model M --dataset D] [...]
    python -m harness sweep --scenario Server|Interactive --rates 2,4,8 [...]
    python -m harness report RUN_DIR [--out FILE]
    python -m harness demo-assets | synthetic-dataset | dummy-model

Flags the harness does not know are vLLM engine flags (e.g. --tensor-parallel-size 2
--max-num-seqs 512 --quantization fp8 --kv-cache-dtype fp8), checked by vLLM's own parser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from harness.audit import AUDIT_TESTS
from harness.errors import ConfigError, HarnessError, RunError
from harness.project_files import USER_CONF
from harness.rules import SCENARIO_SPECS
from harness.run.layout import TEST06
from harness.tasks import TASKS, Task


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def _not_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _run_args(p: argparse.ArgumentParser) -> None:
    from sut.remote_backend import CONNECT_GRACE_S, STARTUP_WAIT_S

    p.add_argument("--model", type=Path, default=None,
                   help="model folder (HF layout). Default: the embedded tiny demo model")
    p.add_argument("--dataset", type=Path, default=None,
                   help="MLPerf cnn_eval.json. Default with no --model: the embedded demo dataset")
    p.add_argument("--tokenizer", type=Path, default=None,
                   help="tokenizer folder for scoring and the oracle (default: the model folder "
                        "if it has tokenizer files, else the embedded Llama-3 tokenizer)")
    p.add_argument("--backend", default="vllm",
                   help="vllm (default, in-process); remote (vllm serve endpoints, see "
                        "--remote-url); fake-oracle / fake-latency are fakes for tests")
    p.add_argument("--remote-url", action="append", default=[], dest="remote_urls",
                   metavar="URL", help="a `vllm serve` endpoint for --backend remote, e.g. "
                                       "http://127.0.0.1:8000; repeat for several")
    p.add_argument("--remote-startup-timeout", type=_positive(float), default=STARTUP_WAIT_S,
                   dest="remote_startup_timeout_s", metavar="SECONDS",
                   help="wait this long for a server that answers but is not ready "
                        "(default %(default).0f)")
    p.add_argument("--remote-connect-grace", type=_positive(float), default=CONNECT_GRACE_S,
                   dest="remote_connect_grace_s", metavar="SECONDS",
                   help="retry a refused connection this long (default %(default).0f); vllm "
                        "serve opens its port only once its model is loaded, so raise it when "
                        "the server starts with the run")
    p.add_argument("--user-conf", type=Path, default=USER_CONF,
                   help="LoadGen user.conf (default: the project's user.conf)")
    p.add_argument("--output-dir", type=Path, default=None,
                   help="run folder root (default: runs/<model name>, runs/demo for the demo)")
    p.add_argument("--warmup", type=_not_negative, default=4, dest="warmup_samples",
                   help="untimed requests before LoadGen starts (default 4)")
    fake = p.add_argument_group("fake-latency backend (a fake: no model)")
    fake.add_argument("--fake-ttft-ms", type=float, default=0.0, help="time to first token")
    fake.add_argument("--fake-itl-ms", type=float, default=0.0, help="time between tokens")
    fake.add_argument("--fake-output-tokens", type=_not_negative, default=0,
                      help="answer length (0: 128)")
    fake.add_argument("--fake-slots", type=_not_negative, default=0,
                      help="requests served at once; more queue (default: unlimited)")
    p.add_argument("--progress-interval", type=float, default=5.0, dest="progress_interval_s",
                   help="seconds between progress lines; 0 turns them off (default 5)")


def _offline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--longest-first", action="store_true",
                   help="Offline: hand the engine the issued samples longest prompt first "
                        "(default: LoadGen's order)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.split("\n")[0],
                                     epilog="Unknown flags go to vLLM as engine arguments.")
    sub = parser.add_subparsers(dest="command", required=True)
    for scenario in SCENARIO_SPECS:
        run = sub.add_parser(f"run-{scenario.lower()}", help=f"LoadGen {scenario}, performance mode")
        _run_args(run)
        if scenario == "Offline":
            _offline_args(run)
    for task in TASKS.values():
        scored = sub.add_parser(task.verb, help=task.description)
        _run_args(scored)
        if "Offline" in task.scenarios:
            _offline_args(scored)
        if len(task.scenarios) > 1:
            scored.add_argument("--scenario", choices=list(task.scenarios),
                                default=task.scenarios[0])
        if task.answer_limit_option:
            scored.add_argument("--max-new-tokens", type=_positive(int), default=None,
                                help=f"answer length limit (default "
                                     f"{task.params.max_new_tokens})")
    comp = sub.add_parser("run-compliance", help="run and verify a compliance test")
    _run_args(comp)
    comp.add_argument("--scenario", choices=list(SCENARIO_SPECS), default="Offline")
    comp.add_argument("--test", choices=list(AUDIT_TESTS), default=TEST06)
    fq = sub.add_parser("find-qps", help="find the highest target QPS LoadGen judges VALID")
    _run_args(fq)
    fq.add_argument("--scenario", choices=["Server", "Interactive"], default="Server")
    fq.add_argument("--probe-duration", type=_positive(float), default=60.0,
                    help="seconds each probe runs (default 60)")
    fq.add_argument("--probe-min-queries", type=_positive(int), default=1000,
                    help="queries each probe issues at least; LoadGen's early stopping needs "
                         "several hundred (default 1000)")
    fq.add_argument("--start-qps", type=_positive(float), default=None,
                    help="first probe (default: 0.8 x the engine's measured capacity)")
    fq.add_argument("--max-probes", type=_positive(int), default=12)
    fq.add_argument("--resolution", type=_positive(float), default=0.01,
                    help="stop when the VALID/INVALID bracket is this narrow, relative "
                         "(default 0.01: 1 %%; each halving costs one probe)")
    fq.add_argument("--write", action="store_true",
                    help="write the answer into the user.conf as target_qps")
    sw = sub.add_parser("sweep", help="LoadGen tests at several rates on one engine: the "
                                      "throughput-interactivity table and report")
    _run_args(sw)
    sw.add_argument("--scenario", choices=["Server", "Interactive"], default="Server")
    sw.add_argument("--rates", required=True,
                    help="target QPS values: a list (2,4,8) or start:stop:step (2:10:2)")
    sw.add_argument("--duration", type=_positive(float), default=60.0, dest="rate_duration_s",
                    help="seconds each rate runs at least (default 60)")
    sw.add_argument("--min-queries", type=_positive(int), default=1000,
                    help="queries each rate issues at least (default 1000: enough for "
                         "LoadGen's early-stopping estimate near the limits)")
    camp = sub.add_parser("campaign", help="every run a submission needs (performance, "
                                           "accuracy, TEST06 per scenario), resumable, then "
                                           "the packaged tree and the checker")
    _run_args(camp)
    camp.add_argument("--scenarios", nargs="+", choices=list(SCENARIO_SPECS),
                      default=["Offline", "Server", "Interactive"])
    camp.add_argument("--dry-run", action="store_true", help="print the plan only")
    camp.add_argument("--redo", action="append", default=[], metavar="RUN",
                      help="run again although finished: a scenario (Server) or one run "
                           "(Server/accuracy, Offline/TEST06); repeat for several")
    camp.add_argument("--org", default=None, help="package the runs for this submitter")
    camp.add_argument("--system", default=None, help="the system's name in the tree")
    camp.add_argument("--system-yaml", type=Path, default=None)
    camp.add_argument("--out", type=Path, default=Path("submission"),
                      help="the submission tree (default %(default)s)")
    camp.add_argument("--inference-repo", type=Path, default=None,
                      help="a checkout of mlcommons/inference: run its checker on the tree")
    rep = sub.add_parser("report", help="write report.html for a run folder, a find-qps or "
                                        "sweep folder, or every run below a folder")
    rep.add_argument("path", type=Path, help="a LoadGen test folder (any harness's), a "
                                             "find-qps/sweep folder, or a run root")
    rep.add_argument("--out", type=Path, default=None,
                     help="write here instead of <folder>/report.html (one report only)")
    sub.add_parser("demo-assets", help="build (once) and print the embedded demo model and dataset")
    synth = sub.add_parser("synthetic-dataset",
                           help="write an MLPerf-shaped random-token prompt set (throughput only)")
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--shape", choices=["cnn", "mmlu"], default="cnn",
                       help="cnn: CNN-DailyMail prompt lengths; mmlu: 5-shot MMLU prompts that "
                            "share a prefix per subject (records carry a subject)")
    synth.add_argument("--count", type=_positive(int), default=None,
                       help="records (default 2000 for cnn, 14042 for mmlu)")
    synth.add_argument("--seed", type=int, default=0)
    ds = sub.add_parser("dataset", help="build or validate CNN-DailyMail files")
    ds_sub = ds.add_subparsers(dest="dataset_command", required=True)
    build = ds_sub.add_parser("build", help="write cnn_eval.json (or the edge subset) from "
                                            "cnn_dailymail 3.0.0")
    build.add_argument("--source", required=True,
                       help="local copy (save_to_disk folder or the hub's parquet layout) or 'hub'")
    build.add_argument("--tokenizer", type=Path, default=None,
                       help="model or tokenizer folder (default: the embedded Llama-3 tokenizer)")
    build.add_argument("--out", type=Path, default=None,
                       help="output file (default cnn_eval.json, or cnn_eval_<N>.json)")
    build.add_argument("--samples", type=_positive(int), default=None,
                       help="edge subset size (5000: the official edge set)")
    calib = ds_sub.add_parser("calibration", help="write the calibration set from the train split")
    calib.add_argument("--source", required=True)
    calib.add_argument("--ids", type=Path, required=True, help="calibration id list, one per line")
    calib.add_argument("--tokenizer", type=Path, default=None)
    calib.add_argument("--out", type=Path, default=Path("cnn_dailymail_calibration.json"))
    mm_build = ds_sub.add_parser("mmlu", help="write an MMLU prompt file from cais/mmlu")
    mm_build.add_argument("--source", required=True,
                          help="local cais/mmlu copy (all/<split>-*.parquet) or 'hub'")
    mm_build.add_argument("--style", default="meta-5shot",
                          choices=["meta-5shot", "plain-5shot", "plain-0shot"])
    mm_build.add_argument("--split", default="test", choices=["test", "validation", "dev"])
    mm_build.add_argument("--tokenizer", type=Path, default=None)
    mm_build.add_argument("--out", type=Path, default=Path("mmlu.json"))
    check = ds_sub.add_parser("validate", help="check a dataset file; non-zero exit on errors")
    check.add_argument("file", type=Path)
    check.add_argument("--tokenizer", type=Path, default=None,
                       help="also check that tok_input is the tokenized prompt")
    check.add_argument("--max-prompt-tokens", type=_positive(int), default=None)
    check.add_argument("--model", type=Path, default=None,
                       help="model folder: check vocabulary and prompt lengths against its "
                            "config.json (default: the MLPerf reference's 8,000-token maximum)")
    pack = sub.add_parser("submission", help="package runs into the MLPerf submission tree")
    pack.add_argument("--runs", type=Path, default=Path("runs/demo"),
                      help="the run folder root holding Offline/, Server/, ... (default runs/demo)")
    pack.add_argument("--org", required=True)
    pack.add_argument("--system", required=True)
    pack.add_argument("--system-yaml", type=Path, default=None,
                      help="system fields the machine cannot tell (and overrides); a "
                           "'measurements:' mapping overrides measurements.json fields")
    pack.add_argument("--out", type=Path, default=Path("submission"))
    chk = sub.add_parser("check-submission", help="run the official MLCommons checker")
    chk.add_argument("--inference-repo", type=Path, required=True,
                     help="a checkout of mlcommons/inference")
    chk.add_argument("--org", required=True)
    chk.add_argument("--out", type=Path, default=Path("submission"))
    chk.add_argument("--version", default=None, help="checker round (default: this harness's)")
    dummy = sub.add_parser("dummy-model", help="write a Llama-3.1-8B config-only model folder "
                                               "(run it with the engine flag --load-format dummy)")
    dummy.add_argument("--out", type=Path, required=True)
    return parser


def _run(args: argparse.Namespace, engine_args: list[str], scenario: str, mode: str,
         task: Task = TASKS["cnn"]) -> int:
    from harness.config import build_run_config
    from harness.results.report import check_ready_to_score, print_performance, score_accuracy_run
    from harness.run.runner import run_benchmark

    cfg = build_run_config(args, scenario=scenario, mode=mode, task=task,
                           engine_args=engine_args)
    if mode == "accuracy":
        check_ready_to_score(cfg)
    outcome = run_benchmark(cfg)
    if mode == "performance":
        print_performance(outcome)
    else:
        score_accuracy_run(cfg, outcome)
    return 0


def _run_audit(args: argparse.Namespace, engine_args: list[str]) -> int:
    from harness.config import build_run_config
    from harness.results.report import verify_audit_run
    from harness.run.runner import run_benchmark

    audit = AUDIT_TESTS[args.test]
    cfg = build_run_config(args, scenario=args.scenario, mode="performance",
                           task=TASKS["cnn"], engine_args=engine_args)
    run_benchmark(cfg, audit)
    verify_audit_run(cfg, audit)
    return 0


def _campaign(args: argparse.Namespace, engine_args: list[str]) -> int:
    from harness.config import build_run_config
    from harness.run.campaign import Campaign, run_campaign

    if bool(args.org) != bool(args.system):
        raise ConfigError("give both --org and --system to package the runs (or neither)")

    def config_for(scenario: str, mode: str):
        return build_run_config(args, scenario=scenario, mode=mode, task=TASKS["cnn"],
                                engine_args=engine_args)

    def package():
        from harness.submission.package import package

        return package(config_for("Offline", "performance").output_root, args.out, args.org,
                       args.system, args.system_yaml)

    def check() -> int:
        from harness.rules import SUBMISSION_ROUND
        from harness.submission.package import run_official_checker

        return run_official_checker(args.inference_repo, args.out, args.org, SUBMISSION_ROUND)

    campaign = Campaign(tuple(dict.fromkeys(args.scenarios)), config_for,
                        frozenset(args.redo), package if args.org else None,
                        check if args.inference_repo else None)
    return run_campaign(campaign, args.dry_run)


def _report(args: argparse.Namespace) -> None:
    from harness.results.reports import write_reports

    for path in write_reports(args.path, args.out):
        print(f"report: {path}")


def _demo_assets(args: argparse.Namespace) -> None:
    from harness.assets.demo import ensure_demo_assets

    assets = ensure_demo_assets()
    print(f"model:   {assets.model_dir}\ndataset: {assets.dataset_path}")


def _synthetic_dataset(args: argparse.Namespace) -> None:
    from qsl.synthetic import write_synthetic_dataset

    print(write_synthetic_dataset(args.out, args.shape, args.count, args.seed))


def _dummy_model(args: argparse.Namespace) -> None:
    from harness.assets.dummy_model import write_dummy_llama31_8b

    print(write_dummy_llama31_8b(args.out))


def _tokenizer(path: Path | None):
    from qsl.tokenizer import load_tokenizer, tokenizer_or_embedded

    return load_tokenizer(tokenizer_or_embedded(path))


def _dataset(args: argparse.Namespace) -> None:
    from qsl import prepare, validate

    if args.dataset_command == "validate":
        report = validate.validate_file(
            args.file, tokenizer=_tokenizer(args.tokenizer) if args.tokenizer else None,
            max_prompt_tokens=args.max_prompt_tokens, model_dir=args.model)
        validate.require_valid(report)
        print(report.render())
    elif args.dataset_command == "mmlu":
        from qsl.mmlu import build_mmlu_records

        records = build_mmlu_records(args.source, _tokenizer(args.tokenizer), args.style,
                                     args.split)
        print(prepare.write_dataset(args.out, records).render())
    elif args.dataset_command == "build":
        out = args.out or Path("cnn_eval.json" if args.samples is None
                               else f"cnn_eval_{args.samples}.json")
        print(prepare.build_eval(args.source, _tokenizer(args.tokenizer), out,
                                 args.samples).render())
    else:
        print(prepare.build_calibration(args.source, _tokenizer(args.tokenizer), args.ids,
                                        args.out).render())


def _submission(args: argparse.Namespace) -> None:
    from harness.errors import SubmissionError
    from harness.submission.package import package

    root, findings = package(args.runs, args.out, args.org, args.system, args.system_yaml)
    print(f"submission tree: {root}")
    if findings:
        print(f"{len(findings)} problem(s) the official checker would reject:")
        print("\n".join(f"  {f}" for f in findings))
        raise SubmissionError(f"{len(findings)} problem(s) listed above; the tree is written "
                              f"for inspection, not ready to submit")
    print("all checks passed; next: make check-submission INFERENCE=/path/to/inference")


def _check_submission(args: argparse.Namespace) -> None:
    from harness.errors import SubmissionError
    from harness.rules import SUBMISSION_ROUND
    from harness.submission.package import run_official_checker, runs_not_results

    if failed := runs_not_results(args.out / "closed" / args.org):
        raise SubmissionError(f"{failed[0]}: not a result; remove it from the tree and package "
                              f"again (make submission)"
                              + (f" ({len(failed) - 1} more)" if len(failed) > 1 else ""))
    rc = run_official_checker(args.inference_repo, args.out, args.org,
                              args.version or SUBMISSION_ROUND)
    if rc:
        raise SubmissionError(f"the official checker found errors (exit {rc}), listed above")


TASK_VERBS = {task.verb: task for task in TASKS.values()}
TOOLS = {"submission": _submission, "check-submission": _check_submission, "dataset": _dataset,
         "demo-assets": _demo_assets, "synthetic-dataset": _synthetic_dataset,
         "dummy-model": _dummy_model, "report": _report}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command in TOOLS:
            if extra:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            TOOLS[args.command](args)
            return 0
        if args.command == "find-qps":
            from harness.config import build_run_config
            from harness.run.find_qps import find_qps

            cfg = build_run_config(args, scenario=args.scenario, mode="performance",
                                   task=TASKS["cnn"], engine_args=extra)
            result = find_qps(cfg, args.probe_duration, args.probe_min_queries, args.start_qps,
                              args.max_probes, args.write, args.resolution)
            return 0 if result.best else RunError.exit_code
        if args.command == "sweep":
            from harness.config import build_run_config
            from harness.run.sweep import parse_rates, sweep

            rates = parse_rates(args.rates)
            cfg = build_run_config(args, scenario=args.scenario, mode="performance",
                                   task=TASKS["cnn"], engine_args=extra)
            sweep(cfg, rates, args.rate_duration_s, args.min_queries)
            return 0
        if args.command == "campaign":
            return _campaign(args, extra)
        if args.command == "run-compliance":
            return _run_audit(args, extra)
        if task := TASK_VERBS.get(args.command):
            return _run(args, extra, getattr(args, "scenario", task.scenarios[0]), "accuracy",
                        task)
        scenario = next(s for s in SCENARIO_SPECS if args.command == f"run-{s.lower()}")
        return _run(args, extra, scenario, "performance")
    except HarnessError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        from harness.run.stop_signals import reason

        print(f"\nstopped: {reason()}", file=sys.stderr)
        return 130
