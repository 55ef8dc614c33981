"""``lineage ingest``: run ``ingest_corpus`` for every domain of a corpus and print what was ingested."""

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lineage_pipeline.cli.common import print_table, settings_or_exit

if TYPE_CHECKING:
    from lineage_pipeline.parsing.models import FileLineage


def _file_warning(lineage: "FileLineage") -> str | None:
    """What a user should know about a file that parsed without errors but is suspicious."""
    if not lineage.statements and not lineage.errors:
        return "no SQL statements (empty or comments only)"
    if lineage.encoding and lineage.encoding not in ("utf-8", "ascii"):
        return f"not UTF-8; decoded as {lineage.encoding}"
    return None


@click.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Corpus root (default: settings corpus_root).")
@click.option("--domain", "domains", multiple=True, help="Only this domain (repeatable).")
@click.option("--force-delete", is_flag=True, help="Allow deleting more than max_delete_fraction of a domain.")
def ingest(corpus: str | None, domains: tuple[str, ...], force_delete: bool) -> None:
    """Scan, parse and write the lineage graph of every domain of the corpus, one Dagster run each."""
    settings = settings_or_exit()
    from lineage_pipeline.corpus.files import CorpusPathError
    from lineage_pipeline.corpus.manifest import load_manifest
    from lineage_pipeline.graph.connect import GraphStoreUnavailable, graph_backend, store_config_from_settings
    from lineage_pipeline.graph.queries import graph_counts
    from lineage_pipeline.pipeline.launch import ingest_corpus_root
    from lineage_pipeline.stores.parse_cache import ParseCache

    root = Path(corpus).resolve() if corpus else settings.corpus_root
    try:
        runs = ingest_corpus_root(root, settings.file_extensions, list(domains) or None, force_delete)
    except (CorpusPathError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Ingested {root} ({len(runs)} domain runs)\n")
    rows = []
    for run in runs:
        parsed = run.metadata.get("parsed_sql", {})
        written = run.metadata.get("lineage_graph", {})
        rows.append([
            run.domain, parsed.get("files", "-"), parsed.get("statements", "-"), parsed.get("errors", "-"),
            written.get("files_written", "-"), written.get("files_deleted", "-"), written.get("files_unchanged", "-"),
            "ok" if run.success else "FAILED", run.run_id[:8],
        ])
    print_table(["domain", "files", "statements", "errors", "written", "deleted", "unchanged", "status", "run"], rows)

    store = ParseCache(settings.effective_parse_cache_path)
    errors = []
    warnings = []
    for run in runs:
        manifest = load_manifest(settings.data_dir / "manifests", run.domain)
        stored = store.get_many((e.sha256, e.dialect, e.path) for e in manifest.files)
        errors += [(path, issue) for (_, _, path), lineage in sorted(stored.items()) for issue in lineage.errors]
        warnings += [(path, warning) for (_, _, path), lineage in sorted(stored.items()) if (warning := _file_warning(lineage))]
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            nodes, relationships = graph_counts(backend)
            location = backend.location
    except GraphStoreUnavailable as error:
        raise click.ClickException(f"ingested, but the graph totals are unavailable: {error}") from None
    totals = [
        f"files {sum(r.metadata.get('parsed_sql', {}).get('files', 0) for r in runs)}",
        f"statements {sum(r.metadata.get('parsed_sql', {}).get('statements', 0) for r in runs)}",
        f"tables {nodes.get('Table', 0)}",
        f"columns {nodes.get('Column', 0)}",
        f"edges {sum(relationships.values())}",
        f"errors {len(errors)}",
    ]
    click.echo(f"\nGraph {location}")
    click.echo("Totals: " + ", ".join(totals))
    click.echo("Edges by type: " + ", ".join(f"{k} {v}" for k, v in relationships.items()))
    if errors:
        click.echo(f"\nErrors ({len(errors)}):")
        for path, issue in errors:
            where = f"{path}:{issue.line}" if issue.line else path
            statement = "" if issue.statement is None else f" statement {issue.statement}"
            click.echo(f"  {where}{statement}: {issue.message}")
    if warnings:
        click.echo(f"\nWarnings ({len(warnings)}):")
        for path, warning in warnings:
            click.echo(f"  {path}: {warning}")
    dead_lettered = sum(run.metadata.get("lineage_graph", {}).get("dead_lettered", 0) for run in runs)
    if dead_lettered:
        click.echo(
            f"\n{dead_lettered} graph row(s) rejected by the store went to the dead-letter file; "
            "fix the cause, then run `lineage replay-failed`"
        )
    failed = [run for run in runs if not run.success]
    for run in failed:
        click.echo(f"\nrun {run.run_id} for domain {run.domain} failed: {run.failure}", err=True)
    if failed:
        raise SystemExit(1)
