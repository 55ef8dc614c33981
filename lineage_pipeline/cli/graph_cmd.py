"""``lineage upstream|downstream`` and ``lineage graph start|stop|status``."""

import json

import click

from lineage_pipeline.cli.common import print_table, settings_or_exit
from lineage_pipeline.graph.queries import MAX_DEPTH, Direction  # light: dataclasses and Cypher text, no driver


def _store_unavailable_errors() -> tuple[type[Exception], ...]:
    from lineage_pipeline.graph.connect import GraphStoreUnavailable
    from lineage_pipeline.graph.faults import GraphStoreDown

    return (GraphStoreUnavailable, GraphStoreDown)


def _trace_command(direction: Direction) -> click.Command:
    @click.command(name=direction)
    @click.argument("name")
    @click.option("--depth", type=click.IntRange(1, MAX_DEPTH), default=10, show_default=True, help="Max hops.")
    @click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
    def command(name: str, depth: int, output: str) -> None:
        settings = settings_or_exit()
        from lineage_pipeline.graph.connect import graph_backend, store_config_from_settings
        from lineage_pipeline.graph.queries import UnknownNameError, trace

        expected: tuple[type[Exception], ...] = (UnknownNameError, *_store_unavailable_errors())
        try:
            with graph_backend(store_config_from_settings(settings)) as backend:
                start, hits = trace(backend, name, direction, depth)
        except expected as error:
            raise click.ClickException(str(error).strip("'\"")) from None
        if output == "json":
            results = [{"name": h.name, "depth": h.depth, "files": h.files} for h in hits]
            click.echo(json.dumps({"start": start, "direction": direction, "results": results}, indent=2))
            return
        click.echo(f"{direction} of {start}: {len(hits)}")
        print_table(["depth", "name", "via files"], [[h.depth, h.name, ", ".join(h.files)] for h in hits])

    command.help = (
        f"List the tables (TABLE) or columns (TABLE.COLUMN) {direction} of NAME, nearest first. "
        "An unqualified name matches a unique qualified one."
    )
    return command


upstream = _trace_command("upstream")
downstream = _trace_command("downstream")


@click.group()
def graph() -> None:
    """Manage the graph store (the embedded FalkorDB server by default)."""


def _embedded_only(settings) -> None:
    if settings.graph_backend != "falkordb" or settings.falkordb_url:
        raise click.ClickException("start/stop apply to the embedded FalkorDB only; the configured store is external")


@graph.command()
def start() -> None:
    """Start the embedded FalkorDB server (no-op if it runs)."""
    settings = settings_or_exit()
    _embedded_only(settings)
    from lineage_pipeline.graph import embedded_server

    expected: tuple[type[Exception], ...] = (OSError, *_store_unavailable_errors())
    try:
        info = embedded_server.ensure_server(settings.data_dir)
    except expected as error:
        raise click.ClickException(f"embedded FalkorDB did not start: {error}") from None
    click.echo(f"embedded FalkorDB running: pid {info.pid}, socket {info.socket_path}")


@graph.command()
def stop() -> None:
    """Stop the embedded FalkorDB server, saving its data."""
    settings = settings_or_exit()
    _embedded_only(settings)
    from lineage_pipeline.graph import embedded_server

    stopped = embedded_server.stop_server(settings.data_dir)
    click.echo("embedded FalkorDB stopped" if stopped else "embedded FalkorDB was not running")


@graph.command()
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(output: str) -> None:
    """Backend, location, embedded server pid, node counts by label and relationship counts by type."""
    settings = settings_or_exit()
    from lineage_pipeline.graph import embedded_server
    from lineage_pipeline.graph.connect import graph_backend, store_config_from_settings
    from lineage_pipeline.graph.queries import graph_counts

    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            nodes, relationships = graph_counts(backend)
            location = backend.location
    except _store_unavailable_errors() as error:
        raise click.ClickException(str(error)) from None
    embedded = settings.graph_backend == "falkordb" and not settings.falkordb_url
    info = embedded_server.server_status(settings.data_dir) if embedded else None
    report = {
        "backend": settings.graph_backend,
        "location": location,
        "pid": info.pid if info else None,
        "nodes": nodes,
        "relationships": relationships,
    }
    if output == "json":
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"backend:  {report['backend']}\nlocation: {location}\npid:      {report['pid']}")
    rows = [["node", k, v] for k, v in nodes.items()] + [["relationship", k, v] for k, v in relationships.items()]
    print_table(["kind", "name", "count"], rows)
