"""Find the highest Server/Interactive target QPS that LoadGen judges VALID.

One engine session serves every probe. Each probe is a short LoadGen Server
test at one target QPS, with settings = the round's mlperf.conf + the
effective user.conf + probe overrides (a fixed duration, no sample
concatenation, enough queries for early stopping). The verdict of each probe
is LoadGen's own. The search starts near the engine's measured capacity,
brackets the answer by growing or shrinking geometrically, then bisects to the
resolution asked (1 % by default). A probe that held every latency limit but was
INVALID only on LoadGen's early-stopping estimate (too few queries) says nothing
about the rate: it runs again with the query count LoadGen asked for. The probes'
table and report.html (harness.results.rate_report) are rewritten after each probe.
Probe settings are not submission settings; run the final QPS normally after.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.config import RunConfig
from harness.errors import ConfigError
from harness.results.rate_report import RatePoint
from harness.rules import SCENARIO_SPECS, ScenarioSpec
from harness.run.layout import FIND_QPS_DIR
from harness.run.rate_tests import RateTests, new_search_root
from harness.run.runner import EngineSession, load_run_dataset, say
from harness.run.userconf import DEMO_BEGIN, DEMO_END


@dataclass(frozen=True)
class SearchResult:
    best: RatePoint | None
    probes: tuple[RatePoint, ...]


def probes_to_resolve(step: float, tolerance: float) -> int:
    """Bisection probes that narrow a bracket one step wide to `tolerance` (relative)."""
    return max(0, math.ceil(math.log2(math.log(step) / math.log1p(tolerance))))


def search(run_probe: Callable[[float], RatePoint], start_qps: float, step: float = 1.25,
           tolerance: float = 0.01, max_probes: int = 12,
           ceiling: float | None = None) -> SearchResult:
    """Bracket [valid, invalid] from start_qps, stepping by a factor that squares each time
    (1.25, 1.56, 2.44, ...), then bisect geometrically until the bracket is narrower than
    `tolerance` (relative) or max_probes ran. A step up from below `ceiling` (the engine's
    measured capacity: no Server rate above it holds) stops there first."""
    probes: list[RatePoint] = []

    def probe(qps: float) -> RatePoint:
        p = run_probe(qps)
        probes.append(p)
        return p

    first = probe(start_qps)
    lo = first if first.valid else None
    hi = None if first.valid else first
    factor = step
    while len(probes) < max_probes and (lo is None or hi is None):
        if hi is None:
            up = lo.qps * factor
            p = probe(ceiling if ceiling and lo.qps < ceiling < up else up)
        else:
            p = probe(hi.qps / factor)
        lo, hi = (p, hi) if p.valid else (lo, p)
        factor *= factor
    while lo and hi and len(probes) < max_probes and (hi.qps - lo.qps) / lo.qps > tolerance:
        p = probe((lo.qps * hi.qps) ** 0.5)
        lo, hi = (p, hi) if p.valid else (lo, p)
    return SearchResult(best=lo, probes=tuple(probes))


def write_target_qps(user_conf: Path, spec: ScenarioSpec, qps: float, demo: bool) -> None:
    """Set '<model>.Server.target_qps = qps' in user_conf: in the demo section for the demo,
    outside it otherwise; an existing line there is replaced, else one is added."""
    key = f"{spec.loadgen_model}.{spec.loadgen_scenario}.target_qps"
    new_line = f"{key} = {qps:.3f}"
    lines = user_conf.read_text().splitlines()
    in_demo, insert_at, replaced = False, None, False
    for i, line in enumerate(lines):
        if DEMO_BEGIN.match(line):
            in_demo = True
            insert_at = i if not demo else insert_at
            continue
        if DEMO_END.match(line):
            in_demo = False
            insert_at = i if demo else insert_at
            continue
        if in_demo == demo and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            lines[i], replaced = new_line, True
    if not replaced:
        lines.insert(len(lines) if insert_at is None else insert_at, new_line)
    user_conf.write_text("\n".join(lines) + "\n")


def find_qps(cfg: RunConfig, duration_s: float, min_queries: int, start_qps: float | None,
             max_probes: int, write: bool, resolution: float = 0.01) -> SearchResult:
    spec = SCENARIO_SPECS[cfg.scenario]
    if spec.loadgen_scenario != "Server":
        raise ConfigError(f"find-qps is for Server and Interactive, not {cfg.scenario}")
    dataset = load_run_dataset(cfg)
    root = new_search_root(cfg, FIND_QPS_DIR, spec)
    capacity = None
    with EngineSession(cfg, dataset) as session:
        tests = RateTests(cfg, session, spec, root, "find-qps", duration_s)
        if start_qps is None:
            capacity = session.generate_all(min(len(dataset), 512))
            start_qps = 0.8 * capacity
            say(f"engine capacity with every request at once: {capacity:,.2f} samples/s; "
                f"first probe at {start_qps:,.2f} QPS")
        say(f"search to {resolution:.1%}: about {probes_to_resolve(1.25, resolution)} "
            f"bisection probes once the answer is bracketed (at most {max_probes} probes)")

        def run_probe(qps: float) -> RatePoint:
            summary = tests.run(qps, min_queries)
            if summary.too_short_only and summary.early_stopping_short_by:
                queries = math.ceil(1.1 * (summary.sample_count + summary.early_stopping_short_by))
                note = (f"the probe at {qps:.3f} QPS held every latency limit but ran too few "
                        f"queries for LoadGen's early-stopping estimate ({summary.sample_count:,}"
                        f" run, {summary.early_stopping_short_by:,} more needed): run again "
                        f"with {queries:,} queries; a first probe this short is not an answer")
                say(note)
                tests.notes.append(note)
                tests.run(qps, queries)
            return tests.points[-1]

        result = search(run_probe, start_qps, tolerance=resolution, max_probes=max_probes,
                        ceiling=capacity)
    report = tests.write(result.best.qps if result.best else None)
    if result.best is None:
        lowest = min(p.qps for p in result.probes)
        hint = ("every probe held the latency limits but was too short for early stopping: "
                "raise --probe-min-queries" if all(p.too_short for p in result.probes)
                else "start lower with --start-qps, or check the engine's settings")
        print(f"no probe was VALID (lowest tried: {lowest:.3f} QPS): {hint}; report {report}")
        return result
    print(f"highest VALID target QPS for {spec.name}: {result.best.qps:.3f} "
          f"({len(tests.points)} LoadGen tests; resolution {resolution:.1%}; report {report})")
    if write:
        write_target_qps(cfg.user_conf, spec, result.best.qps, cfg.demo)
        print(f"written to {cfg.user_conf}: {spec.loadgen_model}.{spec.loadgen_scenario}"
              f".target_qps = {result.best.qps:.3f}")
    return result
