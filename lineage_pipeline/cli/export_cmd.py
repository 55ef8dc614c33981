"""``lineage export openlineage``: the lineage graph as OpenLineage RunEvents, to a file, stdout or a URL."""

import click

from lineage_pipeline.cli.common import settings_or_exit


@click.group()
def export() -> None:
    """Export the lineage graph to other tools."""


@export.command()
@click.option("--domain", help="Only the files of this domain (default: every domain).")
@click.option(
    "--out", default="-", show_default=True,
    help="JSON Lines file ('-': stdout), or an http(s) URL of an OpenLineage endpoint (e.g. Marquez) to POST to.",
)
@click.option("--namespace", default="warehouse", show_default=True, help="OpenLineage namespace of the tables.")
@click.option("--job-namespace", default="lineage_pipeline", show_default=True, help="OpenLineage namespace of the jobs (files).")
@click.option("--endpoint", default="api/v1/lineage", show_default=True, help="Path of the endpoint under a URL --out.")
def openlineage(domain: str | None, out: str, namespace: str, job_namespace: str, endpoint: str) -> None:
    """One COMPLETE RunEvent per SQL file: the tables it reads as inputs, those it writes as outputs, with
    the columnLineage facet (transform kinds mapped to DIRECT/INDIRECT transformations)."""
    from lineage_pipeline.explore import openlineage as ol
    from lineage_pipeline.graph.connect import (
        GraphStoreUnavailable,
        graph_backend,
        store_config_from_settings,
    )

    settings = settings_or_exit()
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            # materialised inside the connection: the events are built from reads on it
            events = list(ol.run_events(backend, domain, namespace, job_namespace))
    except GraphStoreUnavailable as error:
        raise click.ClickException(str(error)) from None
    if out.startswith(("http://", "https://")):
        try:
            sent = ol.emit_http(events, out, endpoint)
        except OSError as error:  # the client's transport raises requests' errors, which are OSErrors
            raise click.ClickException(f"could not send OpenLineage events to {out}: {error}") from None
        click.echo(f"sent {sent} OpenLineage event(s) to {out}", err=True)
        return
    with click.open_file(out, "w", encoding="utf-8") as stream:
        written = ol.write_json_lines(events, stream)
    if out != "-":
        click.echo(f"wrote {written} OpenLineage event(s) to {out}", err=True)
