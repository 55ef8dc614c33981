"""``lineage parse``: print the lineage extracted from SQL files or folders (no graph, no Dagster).

The settings are read only when a folder is given (its file extensions) or a file's dialect comes from
them (no ``--dialect``, no dialect header); the parser is imported when the command runs.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lineage_pipeline.cli.common import settings_or_exit

if TYPE_CHECKING:
    from lineage_pipeline.parsing import Catalog
    from lineage_pipeline.parsing.models import FileLineage


class _DialectChoice(click.Choice):
    """``click.Choice`` of ``SUPPORTED_DIALECTS``, imported (with sqlglot) only when click needs them."""

    def __init__(self) -> None:  # click.Choice.__init__ would materialize the choices now
        self.case_sensitive = True

    # A read-only property where click has a plain attribute: computed on first use, so ``lineage --help``
    # does not import sqlglot; nothing assigns it since ``click.Choice.__init__`` is not called.
    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from lineage_pipeline.parsing import SUPPORTED_DIALECTS

        return tuple(SUPPORTED_DIALECTS)


def _files(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            from lineage_pipeline.corpus.files import iter_corpus_files

            found += [path / relative for relative in iter_corpus_files(path, settings_or_exit().file_extensions)]
        elif path.is_file():
            found.append(path)
        else:
            raise click.BadParameter(f"{raw}: no such file or folder", param_hint="PATH")
    return found


def _configured_dialect(path: Path) -> str:
    """The dialect the settings give ``path``: its corpus folder's, else the default."""
    from lineage_pipeline.corpus.manifest import folder_dialect

    settings = settings_or_exit()
    try:
        relative = path.resolve().relative_to(settings.corpus_root.resolve()).as_posix()
    except ValueError:
        return settings.default_dialect
    return folder_dialect(relative, settings.folder_dialects, settings.default_dialect)


def _statement_json(lineage: "FileLineage") -> dict:
    data = lineage.model_dump(mode="json")
    return {"path": data.pop("path"), "dialect": data.pop("dialect"), **data}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None


@click.command()
@click.option("--dialect", type=_DialectChoice(), help="Force one dialect (default: header, folder, settings).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--default-schema", help="Schema for tables the SQL leaves unqualified (e.g. dbo); default: none invented.")
@click.argument("paths", nargs=-1, required=True)
def parse(dialect: str | None, output: str, default_schema: str | None, paths: tuple[str, ...]) -> None:
    """Extract table- and column-level lineage from SQL files or folders (PATH...).

    The tables and views the given files define form a catalog, so ``SELECT *`` expands and
    unqualified columns resolve across them.
    """
    from lineage_pipeline.parsing import header_dialect, parse_file_bytes, resolve_with_catalog

    inputs: dict[str, tuple[bytes, str]] = {}
    for path in _files(paths):
        data = _read(path)
        chosen = dialect or header_dialect(data[:2048].decode("utf-8", errors="replace")) or _configured_dialect(path)
        inputs[str(path)] = (data, chosen)

    def parsed(name: str, catalog: "Catalog | None") -> "FileLineage":
        data, chosen = inputs[name]
        return parse_file_bytes(data, chosen, name, catalog, default_schema=default_schema)

    final, _ = resolve_with_catalog({name: parsed(name, None) for name in inputs}, parsed)
    results = list(final.values())
    if output == "json":
        click.echo(json.dumps({"files": [_statement_json(r) for r in results]}, indent=2))
        return
    for lineage in results:
        click.echo(f"{lineage.path} [{lineage.dialect}] {len(lineage.statements)} statements, {len(lineage.errors)} errors")
        for statement in lineage.statements:
            click.echo(f"  #{statement.index} {statement.kind} (line {statement.line})")
            if statement.sources:
                click.echo(f"    reads:  {', '.join(statement.sources)}")
            if statement.targets:
                click.echo(f"    writes: {', '.join(statement.targets)}")
            for edge in statement.columns:
                click.echo(f"    {edge.target} <- {', '.join(edge.sources) or '(constant)'} [{edge.transform}]")
            for call in statement.calls:
                click.echo(f"    calls {call.kind}: {call.target or call.text}")
        for issue in lineage.errors:
            where = f"line {issue.line}" if issue.line else "file"
            click.echo(f"  ERROR {where} statement {issue.statement}: {issue.message}")
