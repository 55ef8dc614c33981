"""Helpers shared by the CLI commands: settings errors as clean messages, simple table output."""

import click

from lineage_pipeline.settings import IngestionSettings, InvalidSettingsError, load_settings


def settings_or_exit() -> IngestionSettings:
    """The project settings; an invalid value ends the command with the key and the reason."""
    try:
        return load_settings()
    except InvalidSettingsError as error:
        raise click.ClickException(str(error)) from None


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """Left-aligned columns sized to their content."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
