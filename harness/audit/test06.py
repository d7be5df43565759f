"""MLPerf compliance test TEST06 for llama3.1-8b: run it with its audit settings, verify it.

TEST06 is a short performance run in which LoadGen also logs sampled outputs (and,
when streaming, their first tokens). The checks, as MLCommons' verifier words them:
the first tokens reported equal the start of the output (skipped for Offline), at
most one end token at the end of an output, and the token count equals the output
length. The verifier here uses Llama-3.1's real end ids (the public script's default
id 2 would make that check vacuous).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accuracy.log import read_accuracy_log
from harness.errors import AccuracyError
from harness.rules import STOP_TOKEN_IDS, TOKEN_DTYPE
from harness.run.layout import ACCURACY_LOG, TEST06, RunLayout

# compliance/TEST06/audit.config of mlcommons/inference (the round's audit settings).
TEST06_AUDIT_CONFIG = """\
# TEST06 audit settings (mlcommons/inference compliance/TEST06/audit.config)
*.*.mode = 2
*.*.accuracy_log_rng_seed = 720381539243781796
*.*.accuracy_log_sampling_target = 100
*.*.min_query_count = 100
*.*.min_duration = 0
*.*.sample_concatenate_permutation = 0
"""


@dataclass(frozen=True)
class Test06Result:
    first_token_pass: bool | None  # None: skipped (Offline)
    eos_pass: bool
    sample_len_pass: bool
    samples_checked: int
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.first_token_pass is not False and self.eos_pass and self.sample_len_pass

    def verify_accuracy_txt(self) -> str:
        """The official verifier's wording."""
        first = "Skipped" if self.first_token_pass is None else self.first_token_pass
        return (f"First token check pass: {first}\nEOS check pass: {self.eos_pass}\n"
                f"Sample length check pass: {self.sample_len_pass}\n"
                + ("TEST06 verification complete\n" if self.passed
                   else "TEST06 verification failed\n"))


def verify_test06(accuracy_log: Path, streaming: bool) -> Test06Result:
    entries = read_accuracy_log(accuracy_log, TOKEN_DTYPE, every_entry=True)
    if not entries:
        raise AccuracyError(f"{accuracy_log} logs no samples; TEST06 needs LoadGen's sampled "
                            f"outputs (accuracy_log_sampling_target)")
    problems: list[str] = []
    first_ok, eos_ok, len_ok = True, True, True
    ends = set(STOP_TOKEN_IDS)
    for e in entries:
        idx, data = e.qsl_idx, e.token_ids
        trailing = 0
        for tok in data[::-1]:
            if int(tok) not in ends:
                break
            trailing += 1
        if trailing > 1:
            eos_ok = False
            problems.append(f"qsl_idx {idx}: {trailing} end tokens at the end")
        if e.token_count != data.size:
            len_ok = False
            problems.append(f"qsl_idx {idx}: token_count {e.token_count} != {data.size}")
        if streaming:
            first = e.first_token_ids if e.first_token_ids is not None else data[:0]
            if first.size == 0 or not np.array_equal(data[:first.size], first):
                first_ok = False
                problems.append(f"qsl_idx {idx}: first tokens {first[:4].tolist()} are not the "
                                f"start of the output {data[:4].tolist()}")
    return Test06Result(first_ok if streaming else None, eos_ok, len_ok, len(entries),
                        tuple(problems))


class Test06:
    """TEST06 as the runner and packaging see it: its settings, its folders, its check."""

    name = TEST06
    audit_config = TEST06_AUDIT_CONFIG

    def run_dir(self, layout: RunLayout) -> Path:
        """LoadGen's logs of the run (the harness's own; not in a submission)."""
        return layout.test06_run_dir

    def verify(self, layout: RunLayout, streaming: bool) -> Test06Result:
        """Check the run's sampled outputs; write verify_accuracy.txt and a copy of the
        accuracy log where the official layout has them; print the verdict."""
        result = verify_test06(layout.test06_run_dir / ACCURACY_LOG, streaming)
        layout.test06_verify_file.write_text(result.verify_accuracy_txt())
        layout.test06_accuracy_log.parent.mkdir(exist_ok=True)
        shutil.copy2(layout.test06_run_dir / ACCURACY_LOG, layout.test06_accuracy_log)
        print(result.verify_accuracy_txt(), end="")
        for problem in result.problems[:10]:
            print(f"  {problem}")
        print(f"{result.samples_checked} sampled outputs checked; written: "
              f"{layout.test06_verify_file}")
        if not result.passed:
            raise AccuracyError(f"{self.name} verification failed (see above)")
        return result
