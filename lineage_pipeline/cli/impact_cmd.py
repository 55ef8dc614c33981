"""``lineage impact NAME``: what breaks if this table or column changes."""

import click

from lineage_pipeline.cli.common import settings_or_exit

MAX_DEPTH = 50  # graph.queries.MAX_DEPTH; not imported so ``--help`` loads no graph module


@click.command()
@click.argument("name")
@click.option("--depth", type=click.IntRange(1, MAX_DEPTH), default=10, show_default=True, help="Max hops downstream.")
@click.option(
    "--format", "output", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True,
    help="markdown: a section to paste into a change ticket.",
)
def impact(name: str, depth: int, output: str) -> None:
    """Everything downstream of table or column NAME, nearest first, with the files, procedures,
    statements and lines that read or write each (report queries that only read included) and the
    transform kind on each hop. An unqualified name matches a unique qualified one."""
    from lineage_pipeline.explore.impact import impact as impact_of
    from lineage_pipeline.explore.impact import (
        impact_json,
        impact_markdown,
        impact_text,
    )
    from lineage_pipeline.graph.connect import (
        GraphStoreUnavailable,
        graph_backend,
        store_config_from_settings,
    )
    from lineage_pipeline.graph.queries import UnknownNameError

    settings = settings_or_exit()
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            result = impact_of(backend, name, depth)
    except (UnknownNameError, GraphStoreUnavailable) as error:
        raise click.ClickException(str(error).strip("'\"")) from None
    render = {"json": impact_json, "markdown": impact_markdown, "table": impact_text}[output]
    click.echo(render(result))
