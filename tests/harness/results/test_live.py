"""The live progress line counts against the samples the test will issue, not those issued
so far (a Server run issues as it goes)."""

import re
import time

from harness.results.live import progress_line
from sut.progress import RunProgress


def _progress(planned: int, issued: int, completed: int, elapsed_s: float) -> RunProgress:
    p = RunProgress(planned=planned)
    p.issued, p.completed, p.output_tokens = issued, completed, completed * 128
    p.started_ns = time.monotonic_ns() - int(elapsed_s * 1e9)
    return p


def test_a_server_run_counts_against_its_planned_queries():
    line = progress_line("Server", _progress(500, 84, 71, 10.0))
    assert "71/500 samples (84 issued) (14.2%)" in line
    # 7.1 samples/s, 429 left: about 60 s
    h, m, s = map(int, re.search(r"ETA (\d+):(\d\d):(\d\d)", line).groups())
    assert abs(h * 3600 + m * 60 + s - 429 / 7.1) <= 1.5


def test_without_a_plan_or_past_it_the_issued_count_is_the_total():
    assert "32/32 samples (100.0%)" in progress_line("Offline", _progress(0, 32, 32, 4.0))
    line = progress_line("Server", _progress(480, 500, 250, 10.0))  # LoadGen issued more
    assert "250/500 samples (50.0%)" in line and "issued" not in line
