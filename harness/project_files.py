"""Files of this checkout that the harness reads: its user.conf and mlperf.conf, and the
source folders a submission's src/ holds."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
USER_CONF = REPO_ROOT / "user.conf"
MLPERF_CONF = REPO_ROOT / "mlperf.conf"
SOURCE_PACKAGES = ("harness", "sut", "qsl", "accuracy")
