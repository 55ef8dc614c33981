"""A click group that imports a command's module only when that command runs (or shows its own help).

The registry maps each command name to ``("package.module:attribute", "short help")``. The short help
is kept in the registry so ``lineage --help`` can list every command without importing any of them;
``lineage_pipeline_tests/cli/test_main.py`` checks it matches the command's own docstring.
"""

import os
import sys
from importlib import import_module

import click

LazyRegistry = dict[str, tuple[str, str]]
"""command name -> ("package.module:attribute", one-line help shown in the parent's command list)"""


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 1)].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."


def _unexpected(error: Exception) -> click.ClickException:
    detail = " ".join(str(error).split()) or type(error).__name__  # one line, whatever the message
    return click.ClickException(f"{detail} ({type(error).__name__}; LINEAGE_TRACEBACK=1 shows where)")


class LazyGroup(click.Group):
    """``click.Group`` whose subcommands come from a registry of import paths, imported on first use.

    Any exception a subcommand lets escape ends the command with ``Error: ...`` (exit 1) instead of a
    traceback; ``LINEAGE_TRACEBACK=1`` re-raises it for debugging.
    """

    def __init__(self, *args, lazy_commands: LazyRegistry | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands: LazyRegistry = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self.lazy_commands:
            command = self._load(name)
            self.add_command(command, name)
        return command

    def _load(self, name: str) -> click.Command:
        target = self.lazy_commands[name][0]
        module_name, _, attribute = target.partition(":")
        command = getattr(import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} (command {name!r}) is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``: the registry's help for commands not imported yet (no import)."""
        names = [name for name in self.list_commands(ctx) if not (name in self.commands and self.commands[name].hidden)]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)  # as click.Group lays it out
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            text = loaded.get_short_help_str(limit) if loaded is not None else _shorten(self.lazy_commands[name][1], limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # the reader of the output went away (``| head``): nothing to say to it
            if ctx.parent is not None:
                raise
            # the interpreter flushes stdout on exit: pointed at /dev/null, that flush cannot fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except Exception as error:  # re-raised as one line, not a traceback
            if os.environ.get("LINEAGE_TRACEBACK") or ctx.parent is not None:
                raise
            raise _unexpected(error) from None
