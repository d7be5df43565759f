"""Short LoadGen Server tests at chosen rates on one engine session (find-qps's probes, a
sweep's points). Each test runs in its own folder with settings = the round's mlperf.conf
+ the effective user.conf + overrides (the rate, a fixed duration, at least a query count,
no sample concatenation): not submission settings. The table of every test and its
report are rewritten after each one, so a stopped search keeps what it measured."""

from __future__ import annotations

import time
from pathlib import Path

from harness.config import RunConfig
from harness.errors import RunError
from harness.results.rate_report import RatePoint, RateRecord, write_rates
from harness.results.summary import RunSummary
from harness.rules import ScenarioSpec
from harness.run import loadgen
from harness.run.layout import CONFIG_FILE, USER_CONF_FILE, check_output_root
from harness.run.runner import EngineSession
from harness.run.userconf import load_user_conf


def rate_conf_text(base: str, spec: ScenarioSpec, qps: float, duration_s: float,
                   min_queries: int) -> str:
    m, s = spec.loadgen_model, spec.loadgen_scenario
    longest_s = 3 * max(duration_s, min_queries / qps)
    return base + "\n".join([
        "# rate-test overrides (not submission settings)",
        f"{m}.{s}.target_qps = {qps:.4f}",
        f"{m}.{s}.min_duration = {int(duration_s * 1000)}",
        f"{m}.{s}.max_duration = {int(longest_s * 1000)}",
        f"{m}.{s}.min_query_count = {min_queries}",
        f"{m}.*.sample_concatenate_permutation = 0",
    ]) + "\n"


def new_search_root(cfg: RunConfig, folder: str, spec: ScenarioSpec) -> Path:
    """<output root>/<folder>/<Scenario>-<time>/, checked and made."""
    check_output_root(cfg.output_root / folder)
    root = cfg.output_root / folder / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    root.mkdir(parents=True)
    return root


class RateTests:
    """Runs the tests of one search and keeps its table (harness.results.rate_report)."""

    LABELS = {"find-qps": "probe", "sweep": "rate"}  # a test's folder prefix and console word

    def __init__(self, cfg: RunConfig, session: EngineSession, spec: ScenarioSpec, root: Path,
                 kind: str, duration_s: float) -> None:
        self.session, self.spec, self.root, self.kind = session, spec, root, kind
        self.label = self.LABELS[kind]
        self.duration_s = duration_s
        self.base = load_user_conf(cfg.user_conf, demo=cfg.demo).text
        self.cfg_json = cfg.to_json() + "\n"
        self.points: list[RatePoint] = []
        self.notes: list[str] = []
        self.limits: tuple[float | None, float | None] = (None, None)

    def run(self, qps: float, min_queries: int) -> RunSummary:
        """One LoadGen test at qps; its point is added to the table and printed."""
        done = sum(1 for d in self.root.iterdir() if d.is_dir())
        test_dir = self.root / f"{self.label}-{done + 1:02d}-qps-{qps:.3f}"
        test_dir.mkdir(parents=True)
        conf = test_dir / USER_CONF_FILE
        conf.write_text(rate_conf_text(self.base, self.spec, qps, self.duration_s, min_queries))
        (test_dir / CONFIG_FILE).write_text(self.cfg_json)
        settings = loadgen.extra_settings(conf, self.spec.loadgen_model,
                                          self.spec.loadgen_scenario, "performance")
        summary = self.session.run_test(self.spec, "performance", settings, test_dir).summary
        if summary.valid is None:
            raise RunError(f"LoadGen gave no verdict for the test in {test_dir}")
        self.limits = (summary.ttft_limit_ms, summary.tpot_limit_ms)
        self.points.append(RatePoint.of(summary, test_dir))
        self.write()
        print(f"{self.label} {self.points[-1].line()}", flush=True)
        return summary

    def write(self, answer: float | None = None) -> Path:
        """The table and report as they stand; the report's path."""
        return write_rates(self.root, RateRecord(self.kind, self.spec.name, *self.limits,
                                                 tuple(self.points), answer, tuple(self.notes)))
