"""A latency–throughput sweep: one LoadGen Server test per offered rate, all on one engine,
giving the throughput–interactivity frontier (system output tokens/s against what one user
sees: 1/TPOT and TTFT) in a table and report.html.

    python -m harness sweep --scenario Server|Interactive --rates 2,4,8 | 2:10:2
"""

from __future__ import annotations

from harness.config import RunConfig
from harness.errors import ConfigError
from harness.results.rate_report import RateRecord, read_rates
from harness.rules import SCENARIO_SPECS
from harness.run.layout import RATES_CSV, SWEEP_DIR
from harness.run.rate_tests import RateTests, new_search_root
from harness.run.runner import EngineSession, load_run_dataset, say

MAX_RATES = 50


def parse_rates(text: str) -> tuple[float, ...]:
    """'2,4,8' (a list) or '2:10:2' (start:stop:step, stop included); ConfigError otherwise."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(round((stop - start) / step)) + 1
            rates = tuple(round(start + i * step, 6) for i in range(count))
        else:
            rates = tuple(float(x) for x in text.split(",") if x.strip())
        if not rates:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--rates {text!r}: give rates as 2,4,8 or start:stop:step "
                          f"(e.g. 2:10:2), each > 0") from None
    if min(rates) <= 0:
        raise ConfigError(f"--rates {text!r}: every rate must be > 0")
    if len(rates) > MAX_RATES:
        raise ConfigError(f"--rates {text!r} gives {len(rates)} rates; at most {MAX_RATES}")
    return rates


def sweep(cfg: RunConfig, rates: tuple[float, ...], duration_s: float,
          min_queries: int) -> RateRecord:
    spec = SCENARIO_SPECS[cfg.scenario]
    if spec.loadgen_scenario != "Server":
        raise ConfigError(f"sweep is for Server and Interactive, not {cfg.scenario}")
    dataset = load_run_dataset(cfg)
    root = new_search_root(cfg, SWEEP_DIR, spec)
    with EngineSession(cfg, dataset) as session:
        tests = RateTests(cfg, session, spec, root, "sweep", duration_s)
        say(f"sweep of {len(rates)} rates ({', '.join(f'{r:g}' for r in rates)} QPS), each at "
            f"least {duration_s:g} s and {min_queries:,} queries; results in {root}")
        for n, qps in enumerate(rates, 1):
            say(f"rate {n}/{len(rates)}: {qps:g} QPS")
            tests.run(qps, min_queries)
    report = tests.write()
    print(f"sweep table {root / RATES_CSV}; report {report}")
    return read_rates(root)
