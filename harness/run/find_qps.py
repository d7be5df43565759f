"""Find the highest Server/Interactive target QPS that LoadGen judges VALID.

One engine session serves every probe. Each probe is a short LoadGen Server
test at one target QPS, with settings = the round's mlperf.conf + the
effective user.conf + probe overrides (a fixed duration, no sample
concatenation, enough queries for early stopping). The verdict of each probe
is LoadGen's own. The search starts near the engine's measured capacity,
brackets the answer by growing or shrinking geometrically, then bisects.
Probe settings are not submission settings; run the final QPS normally after.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.config import RunConfig
from harness.errors import ConfigError, RunError
from harness.rules import SCENARIO_SPECS, ScenarioSpec
from harness.run import loadgen
from harness.run.layout import FIND_QPS_DIR, USER_CONF_FILE, check_output_root
from harness.run.runner import EngineSession, load_run_dataset, say
from harness.run.userconf import DEMO_BEGIN, DEMO_END, load_user_conf


@dataclass(frozen=True)
class Probe:
    """One probe's LoadGen verdict and latencies."""

    qps: float
    valid: bool
    ttft_p99_ms: float | None
    tpot_p99_ms: float | None
    tokens_per_second: float | None
    reasons: tuple[str, ...]

    def line(self) -> str:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:,.1f}"

        verdict = "VALID" if self.valid else "INVALID"
        why = f"  ({'; '.join(self.reasons)})" if self.reasons else ""
        tok = "-" if self.tokens_per_second is None else f"{self.tokens_per_second:,.0f}"
        return (f"QPS {self.qps:9.3f}  TTFT p99 {ms(self.ttft_p99_ms):>8} ms  "
                f"TPOT p99 {ms(self.tpot_p99_ms):>7} ms  {tok:>8} tok/s  {verdict}{why}")


@dataclass(frozen=True)
class SearchResult:
    best: Probe | None
    probes: tuple[Probe, ...]


def search(run_probe: Callable[[float], Probe], start_qps: float, step: float = 1.25,
           tolerance: float = 0.03, max_probes: int = 10,
           ceiling: float | None = None) -> SearchResult:
    """Bracket [valid, invalid] from start_qps, stepping by a factor that squares each time
    (1.25, 1.56, 2.44, ...), then bisect geometrically until the bracket is narrower than
    `tolerance` (relative) or max_probes ran. A step up from below `ceiling` (the engine's
    measured capacity: no Server rate above it holds) stops there first."""
    probes: list[Probe] = []

    def probe(qps: float) -> Probe:
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


def probe_conf_text(base: str, spec: ScenarioSpec, qps: float, duration_s: float,
                    min_queries: int) -> str:
    m, s = spec.loadgen_model, spec.loadgen_scenario
    return base + "\n".join([
        "# find-qps probe overrides (not submission settings)",
        f"{m}.{s}.target_qps = {qps:.4f}",
        f"{m}.{s}.min_duration = {int(duration_s * 1000)}",
        f"{m}.{s}.max_duration = {int(duration_s * 3000)}",
        f"{m}.{s}.min_query_count = {min_queries}",
        f"{m}.*.sample_concatenate_permutation = 0",
    ]) + "\n"


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
             max_probes: int, write: bool) -> SearchResult:
    spec = SCENARIO_SPECS[cfg.scenario]
    if spec.loadgen_scenario != "Server":
        raise ConfigError(f"find-qps is for Server and Interactive, not {cfg.scenario}")
    base = load_user_conf(cfg.user_conf, demo=cfg.demo).text
    dataset = load_run_dataset(cfg)
    check_output_root(cfg.output_root / FIND_QPS_DIR)
    root = cfg.output_root / FIND_QPS_DIR / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    root.mkdir(parents=True)
    capacity = None
    with EngineSession(cfg, dataset) as session:
        if start_qps is None:
            capacity = session.generate_all(min(len(dataset), 512))
            start_qps = 0.8 * capacity
            say(f"engine capacity with every request at once: {capacity:,.2f} samples/s; "
                f"first probe at {start_qps:,.2f} QPS")

        def run_probe(qps: float) -> Probe:
            probe_dir = root / f"probe-{len(list(root.iterdir())) + 1:02d}-qps-{qps:.3f}"
            probe_dir.mkdir(parents=True)
            conf = probe_dir / USER_CONF_FILE
            conf.write_text(probe_conf_text(base, spec, qps, duration_s, min_queries))
            settings = loadgen.extra_settings(conf, spec.loadgen_model, spec.loadgen_scenario,
                                                  "performance")
            outcome = session.run_test(spec, "performance", settings, probe_dir)
            s = outcome.summary
            if s.valid is None:
                raise RunError(f"LoadGen gave no verdict for the probe in {probe_dir}")
            p = Probe(qps, s.valid, s.ttft_p99_ms, s.tpot_p99_ms, s.tokens_per_second,
                      s.invalid_reasons)
            print(f"probe {p.line()}", flush=True)
            return p

        result = search(run_probe, start_qps, max_probes=max_probes, ceiling=capacity)
    if result.best is None:
        print(f"no probe was VALID (lowest tried: {min(p.qps for p in result.probes):.3f} QPS)")
        return result
    print(f"highest VALID target QPS for {spec.name}: {result.best.qps:.3f} "
          f"({len(result.probes)} probes; logs in {root})")
    if write:
        write_target_qps(cfg.user_conf, spec, result.best.qps, cfg.demo)
        print(f"written to {cfg.user_conf}: {spec.loadgen_model}.{spec.loadgen_scenario}"
              f".target_qps = {result.best.qps:.3f}")
    return result
