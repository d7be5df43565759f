"""Package finished runs into the MLPerf submission tree, and check it before the checker does.

    submission/closed/<Org>/
      systems/<system>.json                      described from this machine + a YAML file
      src/                                       this harness's source (tracked files)
      documentation/calibration.md
      results/<system>/llama3.1-8b/<Scenario>/
        performance/run_1/mlperf_log_{summary,detail}.txt
        accuracy/mlperf_log_{summary,detail}.txt, accuracy.txt (+ hash=), mlperf_log_accuracy.json (truncated)
        TEST06/verify_accuracy.txt, TEST06/accuracy/mlperf_log_accuracy.json
        measurements.json, user.conf, README.md

The layout, file sets, truncation and rules follow the official checker for round
v6.1 (tools/submission in mlcommons/inference): Offline plus Server and/or
Interactive; seeds, min_duration, sample counts, token-latency limits (Interactive's
own 500/30 ms), accuracy targets, TEST06's verdict lines.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from accuracy.rouge import RougeScores, read_scores
from harness.errors import AccuracyError, SubmissionError
from harness.project_files import REPO_ROOT, SOURCE_PACKAGES
from harness.results.summary import RunSummary, parse_run
from harness.rules import (
    BENCHMARK_NAME,
    DATACENTER_SAMPLE_COUNT,
    MIN_DURATION_MS,
    ROUGE_TARGET_SETS,
    ROUND_SEEDS,
    SCENARIO_SPECS,
    SUBMISSION_ROUND,
    TOKEN_LATENCY_LIMITS_MS,
)
from harness.run.layout import (
    ACCURACY_JSON,
    ACCURACY_LOG,
    ACCURACY_TXT,
    DETAIL_LOG,
    FAILED_FILE,
    FAILED_PREFIX,
    FIND_QPS_DIR,
    HISTORY_DIR,
    MMLU_DIR,
    STATUS_FILE,
    SUMMARY_LOG,
    TEST06,
    USER_CONF_FILE,
    VERIFY_FILE,
    ConfigRecord,
    RunLayout,
    read_config_record,
)
from harness.run.status import not_a_result
from harness.submission.system_description import load_yaml, system_description
from sut.vllm.engine_args import flag_value

SCENARIOS = ("Offline", "Server", "Interactive")
PERF_FILES = (SUMMARY_LOG, DETAIL_LOG)
ACC_FILES = (*PERF_FILES, ACCURACY_TXT, ACCURACY_LOG)
KEEP_CHARS = 4096  # the official truncation keeps the first and last 4 KiB
MEASUREMENT_FIELDS = ("input_data_types", "retraining", "starting_weights_filename",
                      "weight_data_types", "weight_transformations")


@dataclass(frozen=True)
class Finding:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class ScenarioRuns:
    """What packaging reads of one scenario's runs, as records."""

    performance: RunSummary
    accuracy: RunSummary
    rouge: RougeScores  # the accuracy run's (accuracy.json)
    config: ConfigRecord  # the performance run's (harness_config.json)


# --- accuracy log truncation ---------------------------------------------------------------

def truncate_accuracy(src_dir: Path, dst_dir: Path) -> str:
    """Copy accuracy.txt with the full log's sha256 appended, and the log cut to its first and
    last 4 KiB, as the official truncation script does. Returns the hash."""
    log = (src_dir / ACCURACY_LOG).read_bytes()
    digest = hashlib.sha256(log).hexdigest()
    text = log.decode("utf-8")
    if len(text) > KEEP_CHARS:
        text = text[:KEEP_CHARS] + "\n\n...\n\n" + text[-KEEP_CHARS:]
    (dst_dir / ACCURACY_LOG).write_text(text)
    (dst_dir / ACCURACY_TXT).write_text(
        (src_dir / ACCURACY_TXT).read_text().rstrip("\n") + f"\n\nhash={digest}\n")
    return digest


# --- checks, before the official checker ---------------------------------------------------

def _where(scenario: str, mode: str) -> str:
    """A run's folder as findings name it (Offline/performance/run_1)."""
    return str(RunLayout(Path(), scenario).mode_dir(mode))


def check_performance(scenario: str, run: RunSummary) -> list[Finding]:
    where = _where(scenario, "performance")
    logged = run.settings
    found = []
    if run.valid is not True:
        found.append(Finding(where, f"LoadGen says {run.validity}"))
    for key, want in ROUND_SEEDS.items():
        if logged.seeds[key] != want:
            found.append(Finding(where, f"{key} {logged.seeds[key]} is not the "
                                        f"{SUBMISSION_ROUND} seed {want} (user.conf overrides it?)"))
    if (logged.min_duration_ms or 0) < MIN_DURATION_MS:
        found.append(Finding(where, f"min_duration {logged.min_duration_ms} ms < "
                                    f"{MIN_DURATION_MS}"))
    if (logged.performance_sample_count or 0) < DATACENTER_SAMPLE_COUNT:
        found.append(Finding(where, f"performance sample count "
                                    f"{logged.performance_sample_count} < "
                                    f"{DATACENTER_SAMPLE_COUNT:,}"))
    if logged.sample_concatenate_permutation is not True:
        found.append(Finding(where, "sample_concatenate_permutation is off"))
    if not logged.use_token_latencies:
        found.append(Finding(where, "use_token_latencies is off"))
    if scenario == "Offline" and (logged.samples_per_query or 0) < DATACENTER_SAMPLE_COUNT:
        found.append(Finding(where, f"samples per query {logged.samples_per_query} < "
                                    f"{DATACENTER_SAMPLE_COUNT:,}"))
    if scenario in TOKEN_LATENCY_LIMITS_MS:
        ttft_ms, tpot_ms = TOKEN_LATENCY_LIMITS_MS[scenario]
        ttft, tpot = run.ttft_p99_ms or 0.0, run.tpot_p99_ms or 0.0
        if ttft >= ttft_ms:
            found.append(Finding(where, f"TTFT p99 {ttft:,.1f} ms not below {ttft_ms} ms"))
        if tpot >= tpot_ms:
            found.append(Finding(where, f"TPOT p99 {tpot:,.2f} ms not below {tpot_ms} ms"))
        if run.early_stopping_met is not True:
            found.append(Finding(where, "early stopping not met"))
    return found


def check_accuracy(scenario: str, run: RunSummary, rouge: RougeScores) -> list[Finding]:
    where = _where(scenario, "accuracy")
    values = rouge.as_dict()
    found = [Finding(where, f"{t.metric} {values[t.metric]} misses {t.describe()}")
             for t in ROUGE_TARGET_SETS[0].targets if not t.passes(values[t.metric])]
    count = run.settings.accuracy_sample_count
    if count != DATACENTER_SAMPLE_COUNT:
        found.append(Finding(where, f"accuracy run over {count} samples, not "
                                    f"{DATACENTER_SAMPLE_COUNT:,}"))
    return found


def check_test06(scenario: str, verify_file: Path) -> list[Finding]:
    text = verify_file.read_text()
    first = "True" if SCENARIO_SPECS[scenario].streaming else "Skipped"
    need = (f"First token check pass: {first}", "EOS check pass: True",
            "Sample length check pass: True")
    return [Finding(_where(scenario, TEST06), f"{VERIFY_FILE} lacks '{line}'")
            for line in need if line not in text]


# --- the tree ------------------------------------------------------------------------------

def _require(path: Path, what: str) -> None:
    if not path.exists():
        raise SubmissionError(f"{what} not found: {path}")


# vLLM's --dtype values as submissions spell them; "auto" is the checkpoint's (bf16 for Llama-3.1)
_DTYPE_NAMES = {"auto": "bf16", "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
                "float": "fp32", "float32": "fp32"}


def weights_as_run(engine_args: Sequence[str]) -> tuple[str, str]:
    """(weight data type, transformation) a run's engine flags give: vLLM's quantization if
    any, else the dtype the checkpoint's bf16 weights were cast to (or none)."""
    quantization = flag_value(engine_args, ("--quantization", "-q"))
    if quantization:
        return quantization, f"{quantization} quantization by vLLM"
    dtype = flag_value(engine_args, ("--dtype",)) or "auto"
    dtype = _DTYPE_NAMES.get(dtype, dtype)
    return dtype, "none" if dtype == "bf16" else f"cast to {dtype} by vLLM"


def _measurements(cfg: ConfigRecord, overrides: dict) -> dict:
    dtype, transformation = weights_as_run(cfg.engine_args)
    m = {"input_data_types": "int32 token ids", "retraining": "No",
         "starting_weights_filename": Path(cfg.model_dir or "model").name,
         "weight_data_types": dtype, "weight_transformations": transformation}
    m.update({k: str(v) for k, v in overrides.items() if k in MEASUREMENT_FIELDS})
    return m


def _readme(scenario: str, cfg: ConfigRecord) -> str:
    flags = " ".join(cfg.engine_args)
    model = cfg.model_dir or "MODEL"
    return (f"# {BENCHMARK_NAME} {scenario}\n\nProduced with this harness (source in src/):\n\n"
            f"```\nmake run-{scenario.lower()} MODEL={model} DATASET={cfg.dataset} "
            f"ENGINE_ARGS=\"{flags}\"\nmake run-accuracy SCENARIO={scenario} MODEL={model} "
            f"DATASET={cfg.dataset} ENGINE_ARGS=\"{flags}\"\n"
            f"make run-compliance SCENARIO={scenario} MODEL={model} DATASET={cfg.dataset}\n"
            f"```\n\nLoadGen settings: {USER_CONF_FILE} in this folder.\n")


def _copy_source(dst: Path) -> None:
    try:
        files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(REPO_ROOT)) for d in SOURCE_PACKAGES
                 for p in (REPO_ROOT / d).rglob("*.py")]
    # No dot-files: the checker rejects "git unfriendly" names (.ci, .gitignore, ...).
    keep = (f for f in files if (REPO_ROOT / f).is_file()
            and not any(part.startswith(".") for part in Path(f).parts))
    for name in keep:
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)


def _read_inputs(runs: Path, scenarios: list[str]) -> dict[str, ScenarioRuns]:
    """Every file packaging copies or reads exists, and every run it comes from is a result
    (not a failed, stopped or unfinished one): SubmissionError naming the first that is not.
    Returns each scenario's runs as records."""
    read = {}
    for scenario in scenarios:
        src = RunLayout(runs, scenario)
        src_perf, src_acc = src.mode_dir("performance"), src.mode_dir("accuracy")
        needed = [(src_perf / f, "make run-" + scenario.lower()) for f in PERF_FILES]
        needed += [(src_acc / f, "make run-accuracy") for f in ACC_FILES]
        needed += [(src_acc / ACCURACY_JSON, f"make run-accuracy SCENARIO={scenario} again: "
                                             f"older harness versions did not write it")]
        needed += [(f, "make run-compliance")
                   for f in (src.test06_verify_file, src.test06_accuracy_log)]
        needed += [(src_perf / USER_CONF_FILE, "make run-" + scenario.lower())]
        for run_dir, made_by in ((src_perf, f"make run-{scenario.lower()}"),
                                 (src_acc, f"make run-accuracy SCENARIO={scenario}"),
                                 (src.test06_run_dir, f"make run-compliance SCENARIO={scenario}")):
            if problem := not_a_result(run_dir):
                raise SubmissionError(f"{problem}: not packaged; run it again ({made_by})")
        for f, made_by in needed:
            _require(f, f"{scenario} file {f.relative_to(src.scenario_dir)} ({made_by})")
        try:
            rouge = read_scores(src_acc / ACCURACY_JSON)
        except AccuracyError as e:
            raise SubmissionError(str(e)) from None
        read[scenario] = ScenarioRuns(parse_run(src_perf, scenario), parse_run(src_acc, scenario),
                                      rouge, read_config_record(src_perf))
    return read


def _build(runs: Path, inputs: dict[str, ScenarioRuns], root: Path, system: str,
           desc: dict[str, str], measurement_overrides: dict) -> list[Finding]:
    """Write closed/<org>/'s files for this system into root (a fresh folder); the findings."""
    findings: list[Finding] = []
    for scenario, read in inputs.items():
        src = RunLayout(runs, scenario)
        dst = RunLayout(root / "results" / system / BENCHMARK_NAME, scenario)
        src_perf, src_acc = src.mode_dir("performance"), src.mode_dir("accuracy")
        perf, acc = dst.mode_dir("performance"), dst.mode_dir("accuracy")
        for d in (perf, acc, dst.test06_accuracy_log.parent):
            d.mkdir(parents=True)
        for f in PERF_FILES:
            shutil.copy2(src_perf / f, perf / f)
            shutil.copy2(src_acc / f, acc / f)
        truncate_accuracy(src_acc, acc)
        shutil.copy2(src.test06_verify_file, dst.test06_verify_file)
        shutil.copy2(src.test06_accuracy_log, dst.test06_accuracy_log)
        # the user.conf the performance run read (a later run may have changed the scenario's)
        shutil.copy2(src_perf / USER_CONF_FILE, dst.user_conf)
        (dst.scenario_dir / "measurements.json").write_text(
            json.dumps(_measurements(read.config, measurement_overrides), indent=2) + "\n")
        (dst.scenario_dir / "README.md").write_text(_readme(scenario, read.config))
        findings += check_performance(scenario, read.performance)
        findings += check_accuracy(scenario, read.accuracy, read.rouge)
        findings += check_test06(scenario, src.test06_verify_file)
    (root / "systems").mkdir(parents=True)
    (root / "systems" / f"{system}.json").write_text(json.dumps(desc, indent=2) + "\n")
    (root / "documentation").mkdir()
    (root / "documentation" / "calibration.md").write_text(
        "# Calibration\n\nNo calibration: the model runs in BF16 (or with vLLM's dynamic FP8 "
        "quantization, which needs no calibration data). Edit this file if you quantize with "
        "the MLCommons calibration set.\n")
    _copy_source(root / "src")
    return findings


def _install(built: Path, root: Path, system: str, backup: Path) -> list[str]:
    """Move what _build wrote into root, replacing only those paths: this system's results
    for this benchmark, its system description and src/ (earlier copies moved to backup);
    documentation/calibration.md only if root has none (it is the user's to edit). Other
    systems' and benchmarks' files are left alone. Returns the paths replaced."""
    replaced = []
    items = [Path("results") / system / BENCHMARK_NAME, Path("systems") / f"{system}.json",
             Path("src"), Path("documentation") / "calibration.md"]
    for item in items:
        target = root / item
        if target.exists():
            if item.name == "calibration.md":
                continue
            (backup / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), backup / item)
            replaced.append(str(item))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built / item), target)
    return replaced


def package(runs: Path, out: Path, org: str, system: str, system_yaml: Path | None
            ) -> tuple[Path, list[Finding]]:
    """Build closed/<org>/ under out from the runs in `runs`; return it and the findings.

    Everything is checked before anything is written; the tree is built in a fresh folder
    beside `out`, then moved in, replacing only what packaging makes (see _install); a
    replaced earlier copy is kept under <out>.replaced/<time>/."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", org) or not re.fullmatch(r"[A-Za-z0-9_.-]+", system):
        raise SubmissionError("ORG and SYSTEM may hold letters, digits, '.', '_' and '-' only")
    if not runs.is_dir():
        raise SubmissionError(f"run folder not found: {runs}; pass the folder holding "
                              f"Offline/, Server/, ... (RUNS=runs/<model name>)")
    present = [s for s in SCENARIOS if (runs / s).is_dir()]
    strays = sorted(p.name for p in runs.iterdir() if p.is_dir() and p.name not in
                    (*SCENARIOS, HISTORY_DIR, FIND_QPS_DIR, MMLU_DIR))
    if strays:
        raise SubmissionError(f"{runs}: unknown scenario folder(s) {', '.join(strays)}; "
                              f"expected {', '.join(SCENARIOS)}")
    if "Offline" not in present or not {"Server", "Interactive"} & set(present):
        raise SubmissionError(f"{runs} has {', '.join(present) or 'no scenario'}; a "
                              f"{BENCHMARK_NAME} submission needs Offline and Server and/or "
                              f"Interactive runs (make run-offline, make run-server, ...)")
    overrides = load_yaml(system_yaml)
    measurement_overrides = overrides.pop("measurements", {}) or {}
    desc = system_description(org, system, overrides)
    inputs = _read_inputs(runs, present)
    out = out.resolve()
    root = out / "closed" / org
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-building-", dir=out.parent))
        try:
            findings = _build(runs, inputs, staging, system, desc, measurement_overrides)
            backup = out.with_name(f"{out.name}.replaced") / time.strftime("%Y%m%d-%H%M%S")
            replaced = _install(staging, root, system, backup / "closed" / org)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as e:
        raise SubmissionError(f"cannot write the submission tree under {out}: {e.strerror} "
                              f"({e.filename}); free space or pass another --out") from None
    if replaced:
        print(f"replaced {', '.join(replaced)} in {root}; the earlier copies are in {backup}")
    return root, findings


def runs_not_results(tree: Path) -> list[str]:
    """Why folders of a submission tree hold a failed, stopped or unfinished run (files
    copied in by hand: packaging never copies them); empty when none does."""
    marked = {p.parent for p in tree.rglob("*") if p.name in (FAILED_FILE, STATUS_FILE)
              or p.name.startswith(FAILED_PREFIX)}
    found = []
    for folder in sorted(marked):
        if problem := not_a_result(folder):
            found.append(problem)
        elif any(folder.glob(f"{FAILED_PREFIX}*")):
            found.append(f"{folder} holds a failed run's LoadGen logs ({FAILED_PREFIX}*)")
    return found


def run_official_checker(inference_repo: Path, out: Path, org: str, version: str) -> int:
    """The official submission checker from a mlcommons/inference checkout, run by this
    interpreter (the environment the harness was installed into); its exit code."""
    tools = inference_repo / "tools" / "submission"
    if not (tools / "submission_checker").is_dir():
        raise SubmissionError(f"{inference_repo} is not a mlcommons/inference checkout "
                              f"(no tools/submission/submission_checker)")
    cmd = [sys.executable, "-m", "submission_checker.main", "--input", str(out.resolve()),
           "--version", version, "--submitter", org]
    print("$ (cd " + str(tools) + " && " + " ".join(cmd) + ")", flush=True)
    return subprocess.run(cmd, cwd=tools).returncode
