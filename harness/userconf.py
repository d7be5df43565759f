"""user.conf: check it before a run, and write the effective copy LoadGen reads.

LoadGen silently ignores keys it does not know, so a typo would quietly fall
back to mlperf.conf's value; every line is checked here against the keys
LoadGen's FromConfig reads. A clearly marked section applies only to the
embedded demo model (it makes `make run-offline` short on a CPU); for any
other model the harness leaves it out of the effective user.conf, which is
written into the run folder and is what LoadGen reads and what gets submitted.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.rules import LOADGEN_MODEL_DATACENTER

# Keys read by TestSettings::FromConfig (mlcommons-loadgen 6.0.x).
LOADGEN_KEYS = frozenset("""
min_duration max_duration min_query_count max_query_count qsl_rng_seed
sample_index_rng_seed schedule_rng_seed accuracy_log_rng_seed accuracy_log_probability
accuracy_log_sampling_target print_timestamps performance_issue_unique performance_issue_same
performance_issue_same_index performance_sample_count_override accuracy_sample_count_override
sample_concatenate_permutation test05 test05_qsl_rng_seed test05_sample_index_rng_seed
test05_schedule_rng_seed target_latency_percentile target_latency target_qps samples_per_query
max_async_queries coalesce_queries use_token_latencies ttft_latency tpot_latency
infer_token_latencies token_latency_scaling_factor
""".split())
SCENARIOS = frozenset({"SingleStream", "MultiStream", "Server", "Offline", "*"})
DEMO_BEGIN = re.compile(r"^#\s.*BEGIN DEMO SETTINGS")
DEMO_END = re.compile(r"^#\s.*END DEMO SETTINGS")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^0[xX][0-9a-fA-F]+$")


@dataclass(frozen=True)
class UserConf:
    """The effective user.conf text for one run."""

    text: str

    def write(self, run_root: Path) -> Path:
        path = run_root / "user.conf"
        path.write_text(self.text)
        return path


def _check_line(source: Path, line_no: int, line: str) -> None:
    """Tokenize the line as LoadGen's parser does, and reject what it would reject or ignore."""
    where = f"{source}:{line_no}"
    tokens = line.split()
    if not tokens or tokens[0] == "#":
        return
    if tokens[0].startswith("#"):
        raise ConfigError(f"{where}: LoadGen reads '#' as a comment only as a word of its own; "
                          f"write '# {tokens[0].lstrip('#')} ...'")
    if len(tokens) < 3 or tokens[1] != "=":
        raise ConfigError(f"{where}: expected 'model.scenario.key = value', found {line.strip()!r}")
    if len(tokens) > 3:
        raise ConfigError(f"{where}: only one value may follow '=' (LoadGen rejects anything "
                          f"after it, comments included); put comments on their own line")
    key, value = tokens[0], tokens[2]
    parts = key.split(".")
    if len(parts) != 3:
        raise ConfigError(f"{where}: key {key!r} must have the form model.scenario.key")
    _, scenario, name = parts
    if scenario not in SCENARIOS:
        raise ConfigError(f"{where}: unknown scenario {scenario!r}; use one of "
                          f"{', '.join(sorted(SCENARIOS))}")
    if name == "mode":
        raise ConfigError(f"{where}: the test mode comes from the command (run-offline, "
                          f"run-accuracy, ...), not user.conf; remove this line")
    if name not in LOADGEN_KEYS:
        close = difflib.get_close_matches(name, LOADGEN_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{where}: LoadGen has no setting {name!r} (it would be ignored "
                          f"silently){hint}")
    if not _NUMBER.match(value):
        raise ConfigError(f"{where}: value {value!r} for {key} must be a number")


def load_user_conf(source: Path, demo: bool) -> UserConf:
    """Check source and return the effective text: the demo section kept only when demo."""
    if not source.is_file():
        raise ConfigError(f"user.conf not found: {source}; pass an existing file with --user-conf")
    kept: list[str] = []
    in_demo = False
    for line_no, line in enumerate(source.read_text().splitlines(), start=1):
        if DEMO_BEGIN.match(line):
            if in_demo:
                raise ConfigError(f"{source}:{line_no}: a demo section begins inside another")
            in_demo = True
        elif DEMO_END.match(line):
            if not in_demo:
                raise ConfigError(f"{source}:{line_no}: END DEMO SETTINGS without a BEGIN")
            in_demo = False
            kept.append(line if demo else "# (demo settings left out: not the embedded demo)")
            continue
        _check_line(source, line_no, line)
        if demo or not in_demo:
            kept.append(line)
    if in_demo:
        raise ConfigError(f"{source}: BEGIN DEMO SETTINGS is never closed by END DEMO SETTINGS")
    return UserConf(text="\n".join(kept) + "\n")


def one_pass_offline_conf(folder: Path, samples: int, perf_count: int) -> Path:
    """A user.conf for one Offline pass of `samples` queries over `perf_count` loaded
    samples: for benchmarks, never a valid submission setting."""
    conf = folder / "bench.conf"
    conf.write_text("\n".join([
        f"{LOADGEN_MODEL_DATACENTER}.*.performance_sample_count_override = {perf_count}",
        f"{LOADGEN_MODEL_DATACENTER}.Offline.min_query_count = {samples}",
        f"{LOADGEN_MODEL_DATACENTER}.Offline.min_duration = 0",
        f"{LOADGEN_MODEL_DATACENTER}.Offline.target_qps = 1000",
    ]) + "\n")
    return conf
