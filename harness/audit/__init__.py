"""MLPerf compliance (audit) tests by name. An audit test is one object: its audit settings
(LoadGen applies them over the performance settings), where its run goes, and its check.

Adding one (the next round's TEST07-style test): a module beside test06.py with a class
of the same members, and one line in AUDIT_TESTS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from harness.audit.test06 import Test06
from harness.run.layout import RunLayout


class AuditTest(Protocol):
    name: str  # also its folder under the scenario's: <Scenario>/<name>/
    audit_config: str  # the audit.config LoadGen reads beside the run

    def run_dir(self, layout: RunLayout) -> Path:
        """Where LoadGen's logs of the audit run go."""

    def verify(self, layout: RunLayout, streaming: bool) -> object:
        """Check the finished run, write the files a submission holds, print the verdict;
        AccuracyError when it fails."""


AUDIT_TESTS: dict[str, AuditTest] = {test.name: test for test in (Test06(),)}
