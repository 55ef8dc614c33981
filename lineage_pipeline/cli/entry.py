"""Entry point of the ``lineage`` console script.

Several command modules read the settings when they are imported (Dagster resources take their
defaults from them), so ``--config-file`` must be in force before ``cli.main`` is imported, and an
invalid configuration must end with the settings report rather than an import traceback.
"""

import os
import sys

import click

from lineage_pipeline.settings import InvalidSettingsError

_OPTION = "--config-file"


def _config_file_argument(args: list[str]) -> str | None:
    """The value of the group-level ``--config-file`` option (it precedes the command name), if given."""
    for index, arg in enumerate(args):
        if arg.startswith(f"{_OPTION}="):
            return arg.split("=", 1)[1]
        if arg == _OPTION:
            return args[index + 1] if index + 1 < len(args) else None
        if not arg.startswith("-"):
            return None
    return None


def main() -> None:
    """Apply ``--config-file``, load the commands, run the CLI."""
    chosen = _config_file_argument(sys.argv[1:])
    if chosen and os.path.isfile(chosen):
        os.environ["LINEAGE_CONFIG"] = os.path.abspath(chosen)
    try:
        from lineage_pipeline.cli.main import cli
    except InvalidSettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    cli()
