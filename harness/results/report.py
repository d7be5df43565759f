"""After a run: score it (accuracy modes, TEST06), write the result files next to LoadGen's
logs, print the report, and turn a failed target into an error. LoadGen's own metrics are
rendered, never recomputed."""

from __future__ import annotations

import json

from accuracy import mmlu, rouge
from harness.config import RunConfig
from harness.errors import AccuracyError
from harness.run.layout import ACCURACY_LOG
from harness.run.runner import RunOutcome


def check_ready_to_score(cfg: RunConfig) -> None:
    """What scoring an accuracy run needs (the tokenizer; for ROUGE, its packages), checked
    before the run: a SetupError now, not after the engine's minutes."""
    from qsl.tokenizer import load_tokenizer

    load_tokenizer(cfg.tokenizer_dir())
    if cfg.task == "cnn":
        rouge.check_scorer_installed()


def print_performance(outcome: RunOutcome) -> None:
    print(outcome.summary.render())
    if outcome.replica_summary:
        print(outcome.replica_summary)
    print(f"logs: {outcome.log_dir}")


def score_rouge_run(cfg: RunConfig, outcome: RunOutcome) -> int:
    """Score the accuracy log, write accuracy.txt next to it, print the verdict; exit code."""
    scores = rouge.evaluate(outcome.log_dir / ACCURACY_LOG, cfg.dataset,
                            cfg.tokenizer_dir())
    (outcome.log_dir / "accuracy.txt").write_text(rouge.accuracy_txt(scores))
    (outcome.log_dir / "accuracy.json").write_text(json.dumps(scores.as_dict(), indent=2) + "\n")
    print(rouge.format_report(scores))
    print(outcome.clock.render())
    print(f"logs: {outcome.log_dir} (accuracy.txt written)")
    if rouge.passes_targets(scores) is False:
        raise AccuracyError("accuracy below the MLPerf targets (see the table above)")
    return 0


def score_mmlu_run(cfg: RunConfig, outcome: RunOutcome) -> int:
    """Score an MMLU accuracy run: mmlu.json and mmlu_report.html next to LoadGen's log."""
    result = mmlu.evaluate(outcome.log_dir / ACCURACY_LOG, cfg.dataset,
                           cfg.tokenizer_dir())
    mmlu.write_outputs(result, outcome.log_dir / "mmlu.json", outcome.log_dir / "mmlu_report.html")
    print(mmlu.format_report(result))
    print(outcome.clock.render())
    print(f"logs: {outcome.log_dir} (mmlu.json, mmlu_report.html written)")
    return 0


def verify_test06_run(cfg: RunConfig, outcome: RunOutcome) -> int:
    """Verify a TEST06 run, write verify_accuracy.txt; exit code 6 when it fails."""
    from harness.audit.test06 import verify_test06, write_test06
    from harness.rules import SCENARIO_SPECS
    from harness.run.layout import RunLayout

    spec = SCENARIO_SPECS[cfg.scenario]
    result = verify_test06(outcome.log_dir / ACCURACY_LOG, spec.streaming)
    layout = RunLayout(cfg.output_root, spec.name)
    write_test06(layout, result)
    print(result.verify_accuracy_txt(), end="")
    for problem in result.problems[:10]:
        print(f"  {problem}")
    print(f"{result.samples_checked} sampled outputs checked; written: "
          f"{layout.test06_verify_file}")
    if not result.passed:
        raise AccuracyError("TEST06 verification failed (see above)")
    return 0
