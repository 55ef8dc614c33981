"""Helpers shared by the CLI commands: settings errors as clean messages, simple table output."""

import click
import yaml
from pydantic import ValidationError
from pydantic_settings import SettingsError

from lineage_pipeline.settings import IngestionSettings, config_file, load_settings
from lineage_pipeline.settings_sources import format_settings_error, format_validation_error


def settings_or_exit() -> IngestionSettings:
    """The project settings; an invalid value ends the command with the key and the reason."""
    try:
        return load_settings()
    except ValidationError as error:
        raise click.ClickException(f"invalid settings:\n{format_validation_error(error)}") from None
    except SettingsError as error:
        raise click.ClickException(f"invalid settings:\n{format_settings_error(error)}") from None
    except yaml.YAMLError as error:
        raise click.ClickException(f"invalid settings file {config_file()}: {error}") from None


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """Left-aligned columns sized to their content."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
