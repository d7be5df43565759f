"""user.conf: check it before a run, and write the effective copy LoadGen reads.

LoadGen silently ignores keys it does not know, so a typo would quietly fall
back to mlperf.conf's value; every line is checked here against the keys
LoadGen's FromConfig reads, and its value against the range LoadGen handles
(out of it, LoadGen may crash or hang with empty logs, or run a meaningless
test that still reads VALID). A clearly marked section applies only to the
embedded demo model (it makes `make run-offline` short on a CPU); for any
other model the harness leaves it out of the effective user.conf, which is
written into the run folder and is what LoadGen reads and what gets submitted.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.rules import LOADGEN_MODEL_DATACENTER
from harness.run.layout import USER_CONF_FILE

_U64 = 2**64 - 1
# LoadGen doubles min_duration and compares it as int64 nanoseconds: longer wraps around.
_MAX_MS = (2**63 - 1) // (2 * 10**6)


@dataclass(frozen=True)
class Range:
    """The values LoadGen handles for a key: a whole number (LoadGen reads it with
    strtoull) in [low, high], or a real number (strtod) in the open interval (low, high)."""

    whole: bool
    low: float
    high: float
    words: str

    def problem(self, text: str) -> str | None:
        """What is wrong with text (already a number to _NUMBER) for LoadGen, or None."""
        hexa = text[:2] in ("0x", "0X")
        if self.whole and not hexa:
            if "." in text or "e" in text.lower():
                return f"must be {self.words} (LoadGen would keep the digits before '.' or 'e')"
            if re.match(r"[+-]?0\d", text):
                return f"must be {self.words} (LoadGen would read the leading 0 as octal)"
        x = int(text, 16) if hexa else int(text) if self.whole else float(text)
        inside = (self.low <= x <= self.high) if self.whole else (self.low < x < self.high)
        if inside:
            return None
        if not self.whole or 0 <= x <= _U64:
            return f"must be {self.words}"
        read = 2**64 + x if -_U64 <= x < 0 else _U64  # strtoull wraps negatives, saturates
        return f"must be {self.words} (LoadGen would read it as {read})"


_BOOL = Range(True, 0, 1, "0 or 1")
_COUNT = Range(True, 1, _U64, "a whole number >= 1")
_POSITIVE = Range(False, 0, math.inf, "a positive finite number (> 0)")
_LATENCY_MS = Range(True, 1, _MAX_MS, f"a whole number of milliseconds from 1 to {_MAX_MS}")


def _zero_means(meaning: str) -> Range:
    """A whole number >= 0, where 0 has a meaning of its own."""
    return Range(True, 0, _U64, f"a whole number >= 0 (0: {meaning})")


# How LoadGen 6.0.17's TestSettings::FromConfig reads each user.conf key, and the values
# that run as meant. Out of range, LoadGen crashes (exit 139) or hangs with empty logs, or
# runs on a wrapped-around or meaningless value, often to a VALID result. A dict gives a
# range per scenario (target_latency is whole ms in Server, real ms in the streams).
RANGES: dict[str, Range | dict[str, Range]] = {
    "min_duration": Range(True, 0, _MAX_MS, f"a whole number of milliseconds from 0 to {_MAX_MS}"),
    "max_duration": Range(True, 0, _MAX_MS,
                          f"a whole number of milliseconds from 0 (no limit) to {_MAX_MS}"),
    "min_query_count": _COUNT,  # 0 (with min_duration 0): LoadGen segfaults
    "max_query_count": _zero_means("no limit"),
    "samples_per_query": _COUNT,  # MultiStream: LoadGen divides by it
    # LoadGen reads 0 as "the QSL's count", which the harness takes from this very value.
    "performance_sample_count_override": Range(
        True, 1, _U64, "a whole number >= 1 (the harness loads that many samples: 0 crashes)"),
    "accuracy_sample_count_override": _zero_means("the whole dataset"),
    "performance_issue_same_index": _zero_means("the first loaded sample"),
    "accuracy_log_sampling_target": _zero_means("off"),
    "max_async_queries": _zero_means("no limit"),
    "token_latency_scaling_factor": _COUNT,  # multiplies the inferred tokens/s
    "accuracy_log_rng_seed": Range(True, 0, _U64, f"a whole number from 0 to {_U64}"),
    "print_timestamps": _BOOL,
    "performance_issue_unique": _BOOL,
    "performance_issue_same": _BOOL,
    "sample_concatenate_permutation": _BOOL,  # LoadGen reads any value but 1 as 0
    "use_token_latencies": _BOOL,
    "infer_token_latencies": _BOOL,
    "coalesce_queries": _BOOL,
    "target_qps": _POSITIVE,
    # LoadGen reads percent (x 0.01); 100 and above index past its sorted latencies.
    "target_latency_percentile": Range(False, 0, 100, "a percentage above 0 and below 100"),
    "ttft_latency": _LATENCY_MS,
    "tpot_latency": _LATENCY_MS,
    # Server: 0 is mlperf.conf's own value for the token-latency models.
    "target_latency": {
        "Server": Range(True, 0, _MAX_MS,
                        f"a whole number of milliseconds from 0 to {_MAX_MS} for Server"),
        **dict.fromkeys(("SingleStream", "MultiStream"), Range(
            False, 0, math.inf,
            "a positive finite number of milliseconds (> 0) for SingleStream and MultiStream")),
    },
}
# Keys FromConfig reads only from its built-in mlperf.conf: it ignores them in user.conf.
MLPERF_CONF_ONLY = frozenset("""
qsl_rng_seed sample_index_rng_seed schedule_rng_seed accuracy_log_probability test05
test05_qsl_rng_seed test05_sample_index_rng_seed test05_schedule_rng_seed
""".split())
LOADGEN_KEYS = frozenset(RANGES) | MLPERF_CONF_ONLY
SCENARIOS = frozenset({"SingleStream", "MultiStream", "Server", "Offline", "*"})
DEMO_BEGIN = re.compile(r"^#\s.*BEGIN DEMO SETTINGS")
DEMO_END = re.compile(r"^#\s.*END DEMO SETTINGS")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^0[xX][0-9a-fA-F]+$")


@dataclass(frozen=True)
class UserConf:
    """The effective user.conf text for one run."""

    text: str

    def write(self, run_root: Path) -> Path:
        path = run_root / USER_CONF_FILE
        path.write_text(self.text)
        return path


def _ranges(scenario: str, name: str) -> list[Range]:
    """The ranges a value of scenario.name must be in: one per scenario it applies to."""
    legal = RANGES[name]
    if isinstance(legal, Range):
        return [legal]
    return [r for s, r in legal.items() if scenario in (s, "*")]


def _check_line(source: Path, line_no: int, line: str) -> None:
    """Tokenize the line as LoadGen's parser does; reject what it would reject, ignore or
    misread."""
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
    if name in MLPERF_CONF_ONLY:
        raise ConfigError(f"{where}: LoadGen reads {name!r} only from its built-in mlperf.conf "
                          f"(it would be ignored silently here); remove this line")
    if not _NUMBER.match(value):
        raise ConfigError(f"{where}: value {value!r} for {key} must be a number")
    for legal in _ranges(scenario, name):
        if problem := legal.problem(value):
            raise ConfigError(f"{where}: {key} = {value}: {problem}")


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
