"""``lineage show NAME``: a picture of the lineage around a table or column."""

import click

from lineage_pipeline.cli.common import settings_or_exit


@click.command()
@click.argument("name")
@click.option("--depth", type=click.IntRange(1, 50), default=2, show_default=True, help="Hops up- and downstream.")
@click.option("--columns", is_flag=True, help="Draw each table's columns and the derivations between them.")
@click.option(
    "--format", "output", type=click.Choice(["html", "svg", "mermaid", "dot"]), default="html", show_default=True,
    help="html: a self-contained page (pan, zoom, search; works offline); svg: a static drawing; "
    "mermaid/dot: text for Markdown or Graphviz.",
)
@click.option("--out", default="-", show_default=True, help="File to write ('-': stdout).")
@click.option("--max-nodes", type=click.IntRange(1, 5000), default=400, show_default=True,
              help="Keep the nearest nodes only, beyond this many.")
def show(name: str, depth: int, columns: bool, output: str, out: str, max_nodes: int) -> None:
    """Draw the table-level (and with --columns the column-level) lineage around table or column NAME,
    with the report queries that read it. A column NAME always draws columns."""
    from lineage_pipeline.explore import picture as pictures
    from lineage_pipeline.graph.connect import (
        GraphStoreUnavailable,
        graph_backend,
        store_config_from_settings,
    )
    from lineage_pipeline.graph.queries import UnknownNameError

    settings = settings_or_exit()
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            picture = pictures.neighbourhood(backend, name, depth, columns, max_nodes)
    except (UnknownNameError, GraphStoreUnavailable) as error:
        raise click.ClickException(str(error).strip("'\"")) from None
    if output == "html":
        from lineage_pipeline.explore.html_page import to_html

        text = to_html(picture)
    else:
        text = {"svg": pictures.to_svg, "mermaid": pictures.to_mermaid, "dot": pictures.to_dot}[output](picture)
    with click.open_file(out, "w", encoding="utf-8") as stream:
        stream.write(text)
    if out != "-":
        click.echo(f"wrote {output} of {len(picture.nodes)} nodes around {picture.focus} to {out}", err=True)
