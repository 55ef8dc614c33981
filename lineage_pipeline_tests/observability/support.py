"""Helpers for the observability specs: record metrics in a separate real process, parse a scrape."""

import json
import socket
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

_PRELUDE = (
    "import json, sys\nfrom pathlib import Path\n"
    "from lineage_pipeline.observability.metrics import configure_metrics\n"
    "m = configure_metrics(Path(sys.argv[1]), **json.loads(sys.argv[2]))\n"
)


def record_in_subprocess(directory: Path, code: str, **configure: object) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``m = configure_metrics(directory, **configure)``."""
    result = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code, str(directory), json.dumps(configure)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


def recording_process(directory: Path, code: str) -> subprocess.Popen:
    """Start ``code`` (with ``m`` as in ``record_in_subprocess``) in a process that runs until its stdin closes."""
    return subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + code, str(directory), "{}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )


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
