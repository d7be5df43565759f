"""After a run: the console report. Performance runs show LoadGen's own metrics, rendered,
never recomputed; accuracy runs are scored by their task and audit runs verified by their
test, each writing its result files next to LoadGen's logs."""

from __future__ import annotations

from harness.audit import AuditTest
from harness.config import RunConfig
from harness.errors import AccuracyError
from harness.results.engine_report import render_replica_stats
from harness.results.run_report import write_run_report
from harness.rules import SCENARIO_SPECS
from harness.run.layout import REPORT_FILE, RunLayout
from harness.run.runner import RunOutcome
from qsl.tokenizer import tokenizer_or_embedded


def check_ready_to_score(cfg: RunConfig) -> None:
    """What scoring the task's accuracy run needs, checked before the run: a SetupError now,
    not after the engine's minutes."""
    cfg.task.scorer.check_ready(tokenizer_or_embedded(cfg.tokenizer))


def print_performance(outcome: RunOutcome) -> None:
    print(outcome.summary.render())
    if outcome.replica_stats:
        print(render_replica_stats(outcome.replica_stats))
    report = outcome.log_dir / REPORT_FILE
    print(f"logs: {outcome.log_dir}" + (f" (report {report})" if report.is_file() else ""))


def score_accuracy_run(cfg: RunConfig, outcome: RunOutcome) -> None:
    """Score the run with its task's scorer (which prints the verdict and writes its files);
    AccuracyError when it misses the task's targets."""
    scored = cfg.task.scorer.score(outcome.log_dir, cfg.dataset,
                                   tokenizer_or_embedded(cfg.tokenizer))
    print(outcome.clock.render())
    report = write_run_report(outcome.log_dir)  # again, now with the scores
    print(f"logs: {outcome.log_dir} ({', '.join(scored.files)} written; report {report})")
    if scored.failure:
        raise AccuracyError(scored.failure)


def verify_audit_run(cfg: RunConfig, audit: AuditTest) -> None:
    """Verify a finished audit run; AccuracyError when it fails."""
    spec = SCENARIO_SPECS[cfg.scenario]
    audit.verify(RunLayout(cfg.output_root, spec.name), spec.streaming)
