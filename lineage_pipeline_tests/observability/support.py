"""Helpers for the observability specs: run metric-recording code in a separate real process, parse a scrape."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families


def metrics_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a child process whose metrics go to ``<data_dir>/metrics`` (nothing inherited)."""
    env = {k: v for k, v in os.environ.items() if "MULTIPROC" not in k.upper()}
    return {**env, "LINEAGE_DATA_DIR": str(data_dir), **extra}


def record_in_subprocess(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """Run ``code`` with ``m`` = lineage_pipeline.observability.metrics in a fresh interpreter."""
    script = "from lineage_pipeline.observability import metrics as m\n" + code
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def samples(exposition: str) -> dict[str, float]:
    """Sample name (with sorted labels when present) -> value, from the Prometheus text format."""
    values = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
