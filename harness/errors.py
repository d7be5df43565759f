"""The harness's exception taxonomy; each class maps to its own process exit code."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: a failure the user can act on. The message says what to do next."""

    exit_code = 1


class ConfigError(HarnessError):
    """Bad command line, user.conf or engine arguments."""

    exit_code = 2


class DatasetError(HarnessError):
    """The dataset file is missing, malformed or does not fit the model."""

    exit_code = 3


class SetupError(HarnessError):
    """The engine, model or a dependency could not be brought up."""

    exit_code = 4


class RunError(HarnessError):
    """LoadGen or the SUT failed during a run (a sample failed, the engine died, Ctrl-C)."""

    exit_code = 5


class AccuracyError(HarnessError):
    """The accuracy log cannot be scored, or the scores miss the MLPerf targets."""

    exit_code = 6


class SubmissionError(HarnessError):
    """The runs cannot be packaged, or the packaged tree breaks the submission rules."""

    exit_code = 7
