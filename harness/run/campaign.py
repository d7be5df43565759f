"""Every run a submission needs, in one command: per scenario the performance run, the
accuracy run and TEST06 on one engine session, then the packaged tree and, given a checkout
of mlcommons/inference, the official checker.

A plan comes first (each run with its expected duration, from the LoadGen settings the runs
will use). Resumable: a run already finished and verified (VALID, accuracy scored within its
targets, TEST06 passed) whose settings match is kept; anything else runs again, its earlier
folder moved to history/ as every run's is. A failed run stops its scenario (one line, the
folder marked FAILED) and the next scenario goes on; an engine that cannot start stops the
campaign.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.audit import AUDIT_TESTS
from harness.config import RunConfig
from harness.errors import (
    AccuracyError,
    ConfigError,
    HarnessError,
    RunError,
    SubmissionError,
)
from harness.results.live import clock
from harness.results.summary import parse_run
from harness.rules import SCENARIO_SPECS
from harness.run import loadgen, status
from harness.run.layout import ACCURACY_JSON, CONFIG_FILE, TEST06, USER_CONF_FILE, RunLayout
from harness.run.runner import (
    EngineSession,
    PreparedTest,
    load_run_dataset,
    prepare_test,
    run_prepared,
    say,
)
from harness.run.userconf import load_user_conf
from qsl.dataset import read_records

KINDS = ("performance", "accuracy", TEST06)
ENGINE_START_S = 60.0  # the plan's guess: 35 s on an H200 with a warm compile cache
# what must match for a finished run to be kept (harness_config.json's keys)
SAME_SETTINGS = ("scenario", "mode", "task", "max_new_tokens", "model_dir", "dataset",
                 "backend", "engine_args", "demo", "fake_shape", "remote", "longest_first")


@dataclass(frozen=True)
class PlannedRun:
    scenario: str
    kind: str  # performance, accuracy or TEST06
    expected_s: float
    kept: str | None  # the verdict of a finished, verified run with matching settings

    @property
    def name(self) -> str:
        return f"{self.scenario}/{self.kind}"


@dataclass(frozen=True)
class RunVerdict:
    """One line of the final table: a run, the packaging or the checker."""

    name: str
    state: str  # kept, ran, FAILED, skipped, packaged
    verdict: str
    folder: Path | None
    ok: bool
    exit_code: int = 0


@dataclass
class Campaign:
    """What the CLI hands over: how to build each run's config, and what to do after."""

    scenarios: tuple[str, ...]
    config_for: Callable[[str, str], RunConfig]  # (scenario, mode) -> RunConfig
    redo: frozenset[str] = frozenset()  # "Server", "Server/accuracy", ...
    package: Callable[[], tuple[Path, list[str]]] | None = None
    check: Callable[[], int] | None = None
    results: list[RunVerdict] = field(default_factory=list)


def _folder(layout: RunLayout, kind: str) -> Path:
    if kind == TEST06:
        return layout.test06_run_dir
    return layout.mode_dir(kind)


def _settings_match(cfg: RunConfig, folder: Path) -> bool:
    try:
        stored = json.loads((folder / CONFIG_FILE).read_text())
        used = (folder / USER_CONF_FILE).read_text()
    except (OSError, ValueError):
        return False
    now = json.loads(cfg.to_json())
    return (all(stored.get(k) == now.get(k) for k in SAME_SETTINGS)
            and used == load_user_conf(cfg.user_conf, demo=cfg.demo).text)


def verified(cfg: RunConfig, kind: str) -> str | None:
    """The verdict of the run of this kind already in the run root, when it is finished,
    verified and made with the same settings; None otherwise (it must run)."""
    from accuracy import rouge

    layout = RunLayout(cfg.output_root, SCENARIO_SPECS[cfg.scenario].name)
    folder = _folder(layout, kind)
    if not folder.is_dir() or status.not_a_result(folder) or not _settings_match(cfg, folder):
        return None
    try:
        if kind == "performance":
            summary = parse_run(folder)
            return _performance_verdict(summary) if summary.valid else None
        if kind == "accuracy":
            scores = rouge.read_scores(folder / ACCURACY_JSON)
            return None if rouge.passes_targets(scores) is False else _rouge_verdict(scores)
        text = layout.test06_verify_file.read_text()
        return "PASS" if "TEST06 verification complete" in text else None
    except (OSError, HarnessError):
        return None


def _performance_verdict(summary) -> str:
    figure = (f"{summary.tokens_per_second:,.1f} tok/s" if summary.tokens_per_second
              else f"p90 {summary.latency_p90_ms:,.1f} ms" if summary.latency_p90_ms else "")
    qps = f" at {summary.target_qps:g} QPS" if summary.target_qps else ""
    return f"{summary.validity} {figure}{qps}".strip()


def _rouge_verdict(scores) -> str:
    from accuracy import rouge

    passed = rouge.passes_targets(scores)
    word = {True: "PASS", False: "FAIL", None: "scored (no MLPerf target for this size)"}
    return f"{word[passed]}: rouge1 {scores.rouge1:.4f}, gen_len {scores.gen_len:,}"


@functools.lru_cache(maxsize=8)
def _dataset_size(path: Path) -> int:
    return len(read_records(path))


def _mode(kind: str) -> str:
    return "accuracy" if kind == "accuracy" else "performance"


def plan(campaign: Campaign) -> list[PlannedRun]:
    """Every run of the campaign with its expected duration and whether it is kept."""
    names = {s for s in campaign.scenarios} | {f"{s}/{k}" for s in campaign.scenarios
                                               for k in KINDS}
    if unknown := sorted(campaign.redo - names):
        raise ConfigError(f"--redo {unknown[0]}: not a run of this campaign; give a scenario "
                          f"or scenario/kind, e.g. {campaign.scenarios[0]}/accuracy")
    runs = []
    for scenario in campaign.scenarios:
        spec = SCENARIO_SPECS[scenario]
        for kind in KINDS:
            cfg = campaign.config_for(scenario, _mode(kind))
            with tempfile.TemporaryDirectory() as tmp:
                conf = load_user_conf(cfg.user_conf, demo=cfg.demo).write(Path(tmp))
                settings = loadgen.extra_settings(conf, spec.loadgen_model,
                                                  spec.loadgen_scenario, _mode(kind))
            size = _dataset_size(Path(cfg.dataset))
            redo = scenario in campaign.redo or f"{scenario}/{kind}" in campaign.redo
            expected = loadgen.expected_test(settings, spec.loadgen_scenario, size,
                                             kind == "accuracy", kind == TEST06)
            runs.append(PlannedRun(scenario, kind, expected.seconds,
                                   None if redo else verified(cfg, kind)))
    return runs


def render_plan(runs: list[PlannedRun]) -> str:
    engines = len({r.scenario for r in runs if r.kept is None})
    todo = sum(r.expected_s for r in runs if r.kept is None) + engines * ENGINE_START_S
    lines = ["campaign plan:"]
    for r in runs:
        what = f"kept ({r.kept})" if r.kept else f"about {clock(r.expected_s)}"
        lines.append(f"  {r.name:<26} {what}")
    lines.append(f"  {engines} engine start(s), about {clock(ENGINE_START_S)} each; expected "
                 f"total {clock(todo)}")
    return "\n".join(lines)


def _eta(pending: list[PlannedRun], scenario: str) -> float:
    """What is left: the pending runs' expected time and the later scenarios' engine starts."""
    engines = len({r.scenario for r in pending} - {scenario})
    return sum(r.expected_s for r in pending) + engines * ENGINE_START_S


def _run_scenario(campaign: Campaign, runs: list[PlannedRun], pending: list[PlannedRun],
                  first: list[bool]) -> None:
    """The scenario's runs that are not kept, on one engine session."""
    scenario = runs[0].scenario
    todo = [r for r in runs if r.kept is None]
    for r in runs:
        if r.kept:
            campaign.results.append(RunVerdict(r.name, "kept", r.kept, None, True))
    if not todo:
        return
    perf_cfg = campaign.config_for(scenario, "performance")
    dataset = load_run_dataset(perf_cfg)
    tests: list[tuple[PlannedRun, PreparedTest]] = []
    for r in todo:
        cfg = campaign.config_for(scenario, _mode(r.kind))
        if r.kind == "accuracy":
            from harness.results.report import check_ready_to_score

            check_ready_to_score(cfg)
        user_conf = load_user_conf(cfg.user_conf, demo=cfg.demo)
        audit = AUDIT_TESTS[TEST06] if r.kind == TEST06 else None
        tests.append((r, prepare_test(cfg, user_conf, dataset, audit, first[0])))
        first[0] = False
    with EngineSession(perf_cfg, dataset) as session:
        for n, (r, test) in enumerate(tests):
            say(f"campaign: {r.name}, about {clock(r.expected_s)}; campaign ETA "
                f"{clock(_eta(pending, scenario))}")
            pending.remove(r)
            try:
                campaign.results.append(_run_one(r, test, session))
            except RunError as e:
                print(f"\n{r.name} FAILED: {e}; the rest of {scenario} is not run",
                      file=sys.stderr, flush=True)
                campaign.results.append(RunVerdict(r.name, "FAILED", str(e), None, False,
                                                   RunError.exit_code))
                skipped = [p for p, _ in tests[n + 1:]]
                campaign.results += [RunVerdict(p.name, "skipped", f"{r.name} failed", None,
                                                False, RunError.exit_code) for p in skipped]
                for p in skipped:
                    pending.remove(p)
                return


def _run_one(r: PlannedRun, test: PreparedTest, session: EngineSession) -> RunVerdict:
    from harness.results.report import print_performance, score_accuracy_run, verify_audit_run

    outcome = run_prepared(session, test)
    if r.kind == "performance":
        print_performance(outcome)
        ok = bool(outcome.summary.valid)
        return RunVerdict(r.name, "ran", _performance_verdict(outcome.summary), outcome.log_dir, ok,
                          0 if ok else RunError.exit_code)
    try:
        if r.kind == "accuracy":
            from accuracy import rouge

            score_accuracy_run(test.cfg, outcome)
            scores = rouge.read_scores(outcome.log_dir / ACCURACY_JSON)
            return RunVerdict(r.name, "ran", _rouge_verdict(scores), outcome.log_dir, True)
        verify_audit_run(test.cfg, test.audit)
        return RunVerdict(r.name, "ran", "PASS", outcome.log_dir.parent, True)
    except AccuracyError as e:
        return RunVerdict(r.name, "ran", f"FAIL: {e}", outcome.log_dir, False,
                          AccuracyError.exit_code)


def run_campaign(campaign: Campaign, dry_run: bool = False) -> int:
    """Plan, run, package, check; print the final table. The exit code: 0 when every run
    is good and the tree (if packaged) passed, else the first problem's code."""
    runs = plan(campaign)
    print(render_plan(runs), flush=True)
    if dry_run:
        return 0
    pending, first = [r for r in runs if r.kept is None], [True]
    try:
        for scenario in campaign.scenarios:
            _run_scenario(campaign, [r for r in runs if r.scenario == scenario], pending, first)
        _package_and_check(campaign)
    finally:
        print(render_table(campaign.results), flush=True)
    bad = [v for v in campaign.results if not v.ok]
    return bad[0].exit_code if bad else 0


def _package_and_check(campaign: Campaign) -> None:
    """Package the runs (and run the checker on a tree without problems): table rows."""
    if campaign.package is None:
        return
    try:
        root, findings = campaign.package()
    except SubmissionError as e:
        campaign.results.append(RunVerdict("submission", "FAILED", str(e), None, False,
                                           SubmissionError.exit_code))
        return
    for finding in findings:
        print(f"  submission: {finding}")
    verdict = (f"{len(findings)} problem(s) the checker would reject, listed above; written "
               f"for inspection" if findings else "ready")
    campaign.results.append(RunVerdict("submission", "packaged", verdict, root, not findings,
                                       SubmissionError.exit_code if findings else 0))
    if campaign.check is not None and not findings:
        rc = campaign.check()
        campaign.results.append(RunVerdict("official checker", "ran",
                                           "passed" if rc == 0 else f"errors (exit {rc})",
                                           None, rc == 0, SubmissionError.exit_code))


def render_table(results: list[RunVerdict]) -> str:
    lines = [f"\n{'run':<26} {'state':<8} verdict"]
    for v in results:
        where = f"  ({v.folder})" if v.folder else ""
        lines.append(f"{v.name:<26} {v.state:<8} {v.verdict}{where}")
    return "\n".join(lines)
