"""A short fake-latency Server run, for the report tests."""

from pathlib import Path

from tests.conftest import REPO, run_cli


def run_fake_server(root: Path):
    """300 queries at 100 QPS, 16 tokens each (20 ms to the first, 2 ms apart), into
    root/runs; the finished process."""
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "user.conf"
    conf.write_text((REPO / "user.conf").read_text() + "llama3_1-8b.Server.target_qps = 100\n"
                    "llama3_1-8b.Server.min_query_count = 300\n")
    return run_cli("run-server", "--backend", "fake-latency", "--fake-ttft-ms", "20",
                   "--fake-itl-ms", "2", "--fake-output-tokens", "16", "--user-conf", str(conf),
                   "--output-dir", str(root / "runs"), "--progress-interval", "0")
