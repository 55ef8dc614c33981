"""Serve the metrics of every process that wrote to a metrics directory, aggregated, at ``/metrics``.

Reading goes through prometheus-client's ``MultiProcessCollector`` (plain file reads, no memory maps):
showing or serving metrics never writes to the directory.
"""

from pathlib import Path


def aggregate_registry(directory: Path):
    """A registry whose only collector merges the multiprocess files of ``directory``."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return registry


def exposition(directory: Path) -> bytes:
    """The aggregated metrics in the Prometheus text format, as ``/metrics`` serves them (empty when
    ``directory`` does not exist yet: nothing was recorded)."""
    from prometheus_client import generate_latest

    if not Path(directory).is_dir():
        return b""
    return generate_latest(aggregate_registry(directory))


def serve(directory: Path, port: int, address: str = "0.0.0.0") -> None:
    """Start the ``/metrics`` HTTP server for ``directory`` (created) in a daemon thread."""
    from prometheus_client import start_http_server

    Path(directory).mkdir(parents=True, exist_ok=True)
    start_http_server(port, addr=address, registry=aggregate_registry(directory))


def reset(directory: Path) -> int:
    """Delete the accumulated metric files (counters restart at zero); returns how many were removed."""
    files = list(Path(directory).glob("*.db"))
    for file in files:
        file.unlink(missing_ok=True)
    return len(files)
