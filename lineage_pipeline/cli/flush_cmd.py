"""``lineage flush``: ask sql_corpus_sensor to emit its pending batch now instead of after the debounce window."""

import time

import click

from lineage_pipeline.cli.common import settings_or_exit

_POLL_SECONDS = 0.5


@click.command()
@click.option(
    "--wait", "wait_seconds", type=float, default=0.0, show_default=True,
    help="Seconds to wait for the sensor to serve the request (0 = return at once).",
)
def flush(wait_seconds: float) -> None:
    """Emit the sensor's pending batch at its next tick (debounce and threshold are skipped)."""
    settings = settings_or_exit()
    from lineage_pipeline.pipeline.launch import project_instance
    from lineage_pipeline.sensors.corpus_sensor import SENSOR_NAME, read_sensor_cursor
    from lineage_pipeline.sensors.state_store import StateStore, default_state_path

    with StateStore(default_state_path(settings.data_dir)) as store:
        number = store.request_flush()
    instance = project_instance()
    cursor = read_sensor_cursor(instance)
    if cursor is None:
        click.echo(f"flush request #{number} recorded; {SENSOR_NAME} has not ticked yet on this instance")
    else:
        domains = ", ".join(f"{d} ({'all' if p.full else p.size})" for d, p in sorted(cursor.pending.items()))
        click.echo(f"flush request #{number} recorded; pending: {domains or 'nothing'}")
    if wait_seconds <= 0:
        return
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        cursor = read_sensor_cursor(instance)
        if cursor is not None and cursor.flushes_served >= number:
            click.echo(f"served: {SENSOR_NAME} emitted the batch; still pending: {len(cursor.pending)} domain(s)")
            return
        time.sleep(_POLL_SECONDS)
    raise click.ClickException(
        f"flush request #{number} not served within {wait_seconds:g}s: is {SENSOR_NAME} running "
        "(dagster-daemon run, sensor started)?"
    )
