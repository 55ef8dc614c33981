"""``lineage metrics serve|show|reset``: the Prometheus metrics of every ingest process, aggregated."""

import signal
import threading

import click

from lineage_pipeline.cli.common import settings_or_exit


@click.group()
def metrics() -> None:
    """Prometheus metrics aggregated over every process that wrote them (multiprocess mode)."""


@metrics.command()
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True, help="HTTP port.")
@click.option("--address", default="0.0.0.0", show_default=True, help="Address to listen on.")
def serve(port: int, address: str) -> None:
    """Serve /metrics until interrupted (Ctrl-C or SIGTERM)."""
    settings_or_exit()
    from lineage_pipeline.observability.server import serve as start

    directory = start(port, address)
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
    settings_or_exit()
    from lineage_pipeline.observability.server import exposition

    click.echo(exposition().decode(), nl=False)


@metrics.command()
@click.confirmation_option(prompt="Delete every accumulated metric (counters restart at zero)?")
def reset() -> None:
    """Delete the accumulated metric files; counters and histograms restart at zero."""
    settings_or_exit()
    from lineage_pipeline.observability.server import reset as clear

    click.echo(f"Removed {clear()} metric file(s)")
