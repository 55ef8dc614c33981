"""``lineage config show``: the effective settings, where each value came from, secrets masked."""

import json

import click

from lineage_pipeline.cli.common import print_table, settings_or_exit


@click.group()
def config() -> None:
    """Inspect the project settings (defaults < YAML file < environment)."""


@config.command()
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(output: str) -> None:
    """Print every setting's effective value and its source; secrets are masked. Exits 1 on invalid settings."""
    settings = settings_or_exit()
    from lineage_pipeline.settings_sources import describe

    rows = describe(settings)
    if output == "json":
        click.echo(json.dumps({r.key: {"value": r.value, "source": r.source, "env": r.env} for r in rows}, indent=2))
        return
    click.echo(f"Settings file: {type(settings).source_file().resolve()}\n")
    print_table(["key", "value", "source", "env var"], [[r.key, r.value, r.source, r.env] for r in rows])
