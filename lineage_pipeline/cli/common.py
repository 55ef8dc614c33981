"""What the CLI commands share: the group's state (``ctx.obj``), settings errors as clean messages, table output.

Only click and the standard library are imported here: ``lineage --help`` and ``lineage parse`` must not
pay for pydantic-settings, YAML or the settings validation unless a command really reads the settings.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from lineage_pipeline.settings import IngestionSettings


@dataclass
class CliState:
    """``ctx.obj`` of the ``lineage`` group: the ``--config-file`` chosen (None = LINEAGE_CONFIG or the
    project's config/ingestion.yaml) and the settings once a command loaded them."""

    config_file: Path | None = None
    settings: "IngestionSettings | None" = None


def cli_state(ctx: click.Context | None = None) -> CliState:
    """The group's state; a command invoked on its own (tests) gets a default one."""
    ctx = ctx or click.get_current_context()
    return ctx.find_object(CliState) or ctx.ensure_object(CliState)


def settings_or_exit(ctx: click.Context | None = None) -> "IngestionSettings":
    """The project settings read from the group's ``--config-file``; an invalid value ends the command with
    ``Error: invalid settings`` and the report naming each key, its value and its source."""
    state = cli_state(ctx)
    if state.settings is None:
        from lineage_pipeline.settings import InvalidSettingsError, load_settings

        try:
            state.settings = load_settings(state.config_file)
        except InvalidSettingsError as error:
            raise click.ClickException(str(error)) from None
    return state.settings


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """Left-aligned columns sized to their content."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
