"""``lineage cache``: inspect and maintain the parse cache (stats, clear, verify, prune)."""

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lineage_pipeline.cli.common import print_table, settings_or_exit

if TYPE_CHECKING:
    from lineage_pipeline.stores.parse_cache import ParseCache

_path_option = click.option(
    "--path", type=click.Path(dir_okay=False, path_type=Path),
    help="Cache file (default: settings parse_cache_path, else <data_dir>/parse_cache.sqlite).",
)


def _open(path: Path | None) -> "ParseCache":
    settings = settings_or_exit()
    from lineage_pipeline.stores.parse_cache import ParseCache

    return ParseCache(
        path or settings.effective_parse_cache_path,
        max_entries=settings.parse_cache_max_entries,
        ttl_seconds=settings.parse_cache_ttl_days * 86400,
    )


def _unusable(cache: "ParseCache", error: sqlite3.DatabaseError) -> click.ClickException:
    return click.ClickException(f"parse cache {cache.path} is unreadable ({error}); `lineage cache verify` rebuilds it")


@click.group()
def cache() -> None:
    """The parse cache: results keyed by file content, dialect and parser version."""


@cache.command()
@_path_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def stats(path: Path | None, fmt: str) -> None:
    """Hits, misses, hit rate, entries, bytes and evictions (cumulative since the last clear)."""
    parse_cache = _open(path)
    try:
        figures = parse_cache.get_stats().as_dict()
    except sqlite3.DatabaseError as error:
        raise _unusable(parse_cache, error) from None
    if fmt == "json":
        click.echo(json.dumps(figures))
    else:
        click.echo(f"Parse cache {parse_cache.path}")
        print_table(["figure", "value"], [[k, v] for k, v in figures.items()])


@cache.command()
@_path_option
def clear(path: Path | None) -> None:
    """Delete every entry and reset the counters (a damaged file is replaced instead)."""
    parse_cache = _open(path)
    report = parse_cache.verify_integrity(sample_size=0)
    if report.problem is None:
        parse_cache.clear()
    click.echo(f"cleared {parse_cache.path}")


@cache.command()
@_path_option
@click.option("--sample", type=click.IntRange(min=0), default=10, show_default=True, help="Payloads to decode.")
def verify(path: Path | None, sample: int) -> None:
    """Integrity check plus decoding a sample; a damaged file is moved aside and rebuilt empty."""
    report = _open(path).verify_integrity(sample_size=sample, full=True)
    if report.problem is None:
        click.echo(f"ok: {report.path}")
    else:
        click.echo(f"rebuilt {report.path}: {report.problem}; damaged file kept at {report.moved_to}")


@cache.command()
@_path_option
def prune(path: Path | None) -> None:
    """Drop entries past the TTL or from another parser version, then evict beyond the entry limit."""
    parse_cache = _open(path)
    try:
        removed = parse_cache.prune()
    except sqlite3.DatabaseError as error:
        raise _unusable(parse_cache, error) from None
    click.echo(f"pruned {removed} entries from {parse_cache.path}")
