"""``lineage metrics serve|show|reset``: the Prometheus metrics of every ingest process, aggregated.

These commands read (or delete) the files under the settings' ``effective_metrics_dir``; none of them
records metrics, so none maps a metrics file (a full disk cannot stop them).
"""

import signal
import threading
from pathlib import Path

import click

from lineage_pipeline.cli.common import settings_or_exit


def _metrics_dir() -> Path:
    return settings_or_exit().effective_metrics_dir


@click.group()
def metrics() -> None:
    """Prometheus metrics aggregated over every process that wrote them (multiprocess mode)."""


@metrics.command()
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True, help="HTTP port.")
@click.option("--address", default="0.0.0.0", show_default=True, help="Address to listen on.")
def serve(port: int, address: str) -> None:
    """Serve /metrics until interrupted (Ctrl-C or SIGTERM)."""
    directory = _metrics_dir()
    from lineage_pipeline.observability.server import serve as start

    try:
        start(directory, port, address)
    except OSError as error:
        raise click.ClickException(f"cannot serve metrics on {address}:{port}: {error.strerror or error}") from None
    click.echo(f"Serving metrics from {directory} at http://{address}:{port}/metrics", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


@metrics.command()
def show() -> None:
    """Print the aggregated metrics once, in the Prometheus text format."""
    directory = _metrics_dir()
    from lineage_pipeline.observability.server import exposition

    text = exposition(directory).decode()
    if not text:
        click.echo(f"no metrics recorded in {directory}", err=True)
    click.echo(text, nl=False)


@metrics.command()
@click.confirmation_option(prompt="Delete every accumulated metric (counters restart at zero)?")
def reset() -> None:
    """Delete the accumulated metric files; counters and histograms restart at zero."""
    directory = _metrics_dir()
    from lineage_pipeline.observability.server import reset as clear

    click.echo(f"Removed {clear(directory)} metric file(s)")
