"""Serve the metrics of every process of the project, aggregated, at ``/metrics``."""

from pathlib import Path

from lineage_pipeline.observability.multiproc import configure_multiprocess

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector


def aggregate_registry(directory: Path | None = None) -> CollectorRegistry:
    """A registry whose only collector merges the multiprocess files of ``directory`` (default: the configured one)."""
    path = directory or configure_multiprocess()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))
    return registry


def exposition(directory: Path | None = None) -> bytes:
    """The aggregated metrics in the Prometheus text format, as ``/metrics`` serves them."""
    return generate_latest(aggregate_registry(directory))


def serve(port: int, address: str = "0.0.0.0") -> Path:
    """Start the ``/metrics`` HTTP server in a daemon thread; returns the directory it aggregates."""
    directory = configure_multiprocess()
    start_http_server(port, addr=address, registry=aggregate_registry(directory))
    return directory


def reset(directory: Path | None = None) -> int:
    """Delete the accumulated metric files (counters restart at zero); returns how many were removed."""
    path = directory or configure_multiprocess()
    files = list(path.glob("*.db"))
    for file in files:
        file.unlink(missing_ok=True)
    return len(files)
