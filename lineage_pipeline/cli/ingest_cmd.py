"""``lineage ingest``: run ``ingest_corpus`` for every domain of a corpus and print what was ingested."""

import re
from collections import Counter
from pathlib import Path

import click

from lineage_pipeline.cli.common import cli_state, print_table, settings_or_exit

ERRORS_SHOWN = 20
"""Errors listed one by one before the rest are only counted (``--errors all`` lists every one)."""
_KINDS_SHOWN = 10
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+\b")


def error_kind(message: str) -> str:
    """A message with its quoted names and numbers blanked, so errors of one kind count together."""
    return _VARYING.sub("…", message)


def _located(path: str, line: int | None, statement: int | None, message: str) -> str:
    where = f"{path}:{line}" if line else path
    return f"{where}{'' if statement is None else f' statement {statement}'}: {message}"


@click.command()
@click.option("--corpus", type=click.Path(file_okay=False), help="Corpus root (default: settings corpus_root).")
@click.option("--domain", "domains", multiple=True, help="Only this domain (repeatable).")
@click.option("--force-delete", is_flag=True,
              help="Allow deleting more than max_delete_fraction of a domain, and retire domains whose folder is gone.")
@click.option("--errors", "errors_shown", type=click.Choice(["summary", "all"]), default="summary", show_default=True,
              help=f"summary: counts by kind and the first {ERRORS_SHOWN} errors; all: every error.")
@click.option("--errors-file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write every error, one per line (file:line statement N: message), to this file.")
@click.option("--rerun", is_flag=True, help="Run every domain even when nothing changed (a no-op otherwise starts no run).")
def ingest(
    corpus: str | None,
    domains: tuple[str, ...],
    force_delete: bool,
    errors_shown: str,
    errors_file: Path | None,
    rerun: bool,
) -> None:
    """Scan, parse and write the lineage graph of every domain of the corpus, one Dagster run each."""
    settings = settings_or_exit()
    from lineage_pipeline.corpus.files import CorpusPathError
    from lineage_pipeline.corpus.manifest import ManifestFolder
    from lineage_pipeline.graph.connect import (
        GraphStoreUnavailable,
        graph_backend,
        retry_policy_from_settings,
        store_config_from_settings,
    )
    from lineage_pipeline.graph.consistency import synced_domains
    from lineage_pipeline.graph.queries import graph_counts
    from lineage_pipeline.pipeline.ingest import CorpusSpec, IngestCheck, scan_corpus
    from lineage_pipeline.pipeline.launch import ingest_corpus_root
    from lineage_pipeline.stores.parse_results import ParseResults
    from lineage_pipeline.stores.warehouse_facts import WarehouseFacts

    root = Path(corpus).resolve() if corpus else settings.corpus_root
    manifests_dir = settings.data_dir / "manifests"
    manifests = ManifestFolder(manifests_dir)
    results = ParseResults(settings.parse_results_path)
    facts = WarehouseFacts(settings.warehouse_facts_path)
    spec = CorpusSpec(root, settings.file_extensions, settings.folder_dialects, settings.default_dialect,
                      settings.max_file_bytes)
    retry = retry_policy_from_settings(settings)
    content_changed: dict[str, bool] = {}  # per domain scanned; the manifests stay on disk, not in memory

    def scan_first(found: list[str]) -> list[str]:
        content_changed.update((scan.manifest.domain, scan.content_changed) for scan in scan_corpus(found, spec, manifests))
        return list(content_changed)

    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            check = IngestCheck(content_changed, manifests, results, backend, retry, warehouse_facts=facts)
            outcome = ingest_corpus_root(
                root, settings.file_extensions, list(domains) or None, force_delete,
                config_file=cli_state().config_file, manifests_dir=manifests_dir,
                is_current=None if rerun else check.is_current,
                graph_domains=synced_domains(backend, retry=retry),
                scan_first=scan_first,
                left_alone=None if rerun else check.left_alone,
            )
    except (CorpusPathError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    except GraphStoreUnavailable as error:
        raise click.ClickException(str(error)) from None
    runs = outcome.runs
    unchanged = (
        "; nothing changed" if not runs and not outcome.kept_gone
        else f"; {len(outcome.unchanged)} unchanged" if outcome.unchanged else ""
    )
    click.echo(f"Ingested {root} ({len(runs)} domain runs{unchanged})\n")
    rows = []
    for run in runs:
        parsed = run.metadata.get("parsed_sql", {})
        written = run.metadata.get("lineage_graph", {})
        status = "retired" if run.domain in outcome.retired else "ok" if run.success else "FAILED"
        rows.append([
            run.domain, parsed.get("files", "-"), parsed.get("statements", "-"), parsed.get("errors", "-"),
            written.get("files_written", "-"), written.get("files_deleted", "-"), written.get("files_unchanged", "-"),
            status, run.run_id[:8],
        ])
    errors: list[tuple[str, int | None, int | None, str]] = []
    warnings: list[tuple[str, int | None, int | None, str]] = []
    shown = [run.domain for run in runs if run.success and run.domain not in outcome.retired] + outcome.unchanged
    files = statements = 0
    for domain in shown:
        domain_files = domain_statements = domain_errors = 0
        for issues in results.issues(domain):
            domain_files += 1
            domain_statements += issues.statements
            domain_errors += len(issues.errors)
            errors += [(issues.path, issue.line, issue.statement, issue.message) for issue in issues.errors]
            warnings += [(issues.path, issue.line, issue.statement, issue.message) for issue in issues.warnings]
        files += domain_files
        statements += domain_statements
        if domain in outcome.unchanged:
            rows.append([domain, domain_files, domain_statements, domain_errors, 0, 0, domain_files, "unchanged", "-"])
    print_table(["domain", "files", "statements", "errors", "written", "deleted", "unchanged", "status", "run"], rows)
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            nodes, relationships = graph_counts(backend)
            location = backend.location
    except GraphStoreUnavailable as error:
        raise click.ClickException(f"ingested, but the graph totals are unavailable: {error}") from None
    totals = [
        f"files {files}",
        f"statements {statements}",
        f"tables {nodes.get('Table', 0)}",
        f"columns {nodes.get('Column', 0)}",
        f"edges {sum(relationships.values())}",
        f"errors {len(errors)}",
    ]
    click.echo(f"\nGraph {location}")
    click.echo("Totals: " + ", ".join(totals))
    click.echo("Edges by type: " + ", ".join(f"{k} {v}" for k, v in relationships.items()))
    _print_issues("Errors", errors, errors_shown == "all", errors_file)
    _print_issues("Warnings", warnings, errors_shown == "all", None)
    for run in runs:
        if advice := run.metadata.get("parsed_sql", {}).get("dialect_advice"):
            click.echo(f"\nDialect: {advice}")
    dead_lettered = sum(run.metadata.get("lineage_graph", {}).get("dead_lettered", 0) for run in runs)
    if dead_lettered:
        click.echo(
            f"\n{dead_lettered} graph row(s) rejected by the store went to the dead-letter file; "
            "fix the cause, then run `lineage replay-failed`"
        )
    if outcome.retired:
        click.echo(f"\nRetired (folder gone, lineage removed): {', '.join(outcome.retired)}")
    if outcome.kept_gone:
        click.echo(
            f"\nFolder gone for domain(s) {', '.join(outcome.kept_gone)} of {root}: their lineage is still in the graph; "
            "check the corpus path, or rerun with --force-delete to remove it",
            err=True,
        )
    failed = [run for run in runs if not run.success]
    for run in failed:
        click.echo(f"\nrun {run.run_id} for domain {run.domain} failed: {run.failure}", err=True)
    if failed or outcome.kept_gone:
        raise SystemExit(1)


def _print_issues(
    title: str, errors: list[tuple[str, int | None, int | None, str]], every: bool, errors_file: Path | None
) -> None:
    """Every issue, or a summary: counts by kind, then the first ``ERRORS_SHOWN`` with file:line."""
    if errors_file is not None:
        errors_file.write_text("".join(_located(*error) + "\n" for error in errors))
    if not errors:
        return
    click.echo(f"\n{title} ({len(errors)}):")
    if every or len(errors) <= ERRORS_SHOWN:
        for error in errors:
            click.echo(f"  {_located(*error)}")
        return
    kinds = Counter(error_kind(message) for *_, message in errors)
    click.echo("  by kind:")
    for kind, count in kinds.most_common(_KINDS_SHOWN):
        click.echo(f"    {count:>6}  {kind}")
    if len(kinds) > _KINDS_SHOWN:
        click.echo(f"    …and {len(kinds) - _KINDS_SHOWN} more kinds")
    click.echo(f"  first {ERRORS_SHOWN}:")
    for error in errors[:ERRORS_SHOWN]:
        click.echo(f"    {_located(*error)}")
    more = "; --errors-file FILE writes them all" if errors_file is None else f"; all are in {errors_file}"
    click.echo(f"  …and {len(errors) - ERRORS_SHOWN} more (--errors all lists them{more})")
