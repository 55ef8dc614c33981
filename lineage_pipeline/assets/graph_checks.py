"""Asset checks of ``lineage_graph``: no row is waiting in the dead-letter file, and the graph equals the
manifest file for file."""

from functools import partial

import dagster as dg

from lineage_pipeline.assets.checks_support import SHOWN, checked_domains, latest_metadata, listing
from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.graph.consistency import check_after_write, check_domain, unexpected_domains
from lineage_pipeline.pipeline.graph_stage import MissingParseResultError, current_revisions
from lineage_pipeline.resources import CorpusResource, GraphStoreResource, LocalStoresResource


@dg.asset_check(asset=lineage_graph, description="No rows of this domain were rejected by the graph store (dead-letter file).")
def no_dead_lettered_rows(context: dg.AssetCheckExecutionContext, graph_store: GraphStoreResource) -> dg.AssetCheckResult:
    dead_letters = graph_store.dead_letters()
    domain = context.run.tags.get("dagster/partition")
    pending = dead_letters.read(domain)
    table = "\n".join(
        ["| statement | file | run | error |", "|---|---|---|---|"]
        + [f"| {e.statement} | {e.file or ''} | {e.run_id[:8]} | {e.error.replace('|', '/')[:200]} |" for e in pending[:SHOWN]]
    )
    return dg.AssetCheckResult(
        passed=not pending,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "pending_rows": len(pending),
            "domain": domain or "(all)",
            "dead_letter_path": str(dead_letters.path),
            "rows": dg.MetadataValue.md(table if pending else "none"),
            "fix": "fix the cause, then run `lineage replay-failed`",
        },
    )


@dg.asset_check(
    asset=lineage_graph,
    # it compares against the manifest and the parse results, so it runs after any rescan or parse in the same run
    additional_deps=[sql_corpus, parsed_sql],
    description="Every file of the domain is in the graph with its full revision (content, dialect, parser, catalog "
    "context) on the file and each of its edges (after a write in the same run: the edges of the files it wrote); "
    "no edges from deleted files; no domain the corpus no longer has.",
)
def graph_matches_manifest(
    context: dg.AssetCheckExecutionContext,
    graph_store: GraphStoreResource,
    stores: LocalStoresResource,
    corpus: CorpusResource,
) -> dg.AssetCheckResult:
    domains = checked_domains(context, stores)
    # after a domain's write in the same run the check costs what the write changed (``check_after_write``);
    # run on its own over every domain it is an audit, and also scans every relationship for files no node
    # names (a cost that grows with the graph)
    audit = context.run.tags.get("dagster/partition") is None
    results = stores.parse_results()
    with graph_store.open() as backend:
        reports = []
        for domain in domains:
            manifest = stores.manifests().load(domain)
            changed = None if audit else latest_metadata(context, lineage_graph.key, domain, this_run=True).get("changed_files")
            try:
                if isinstance(changed, dict):  # what this run's write listed (at most FILES_LISTED files)
                    reports.append(check_after_write(
                        backend, domain, current_revisions(manifest, results, paths=changed["written"]),
                        file_count=len(manifest.files), gone=changed["deleted"], retry=graph_store.retry_policy(),
                        all_revisions=partial(current_revisions, manifest, results),
                    ))
                    continue
                expected = current_revisions(manifest, results)
            except MissingParseResultError as error:
                return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={"reason": str(error)})
            reports.append(check_domain(backend, domain, expected, retry=graph_store.retry_policy(), whole_graph=audit))
        extra = unexpected_domains(
            backend, discover_domains(corpus.root_path, corpus.extensions), retry=graph_store.retry_policy(),
            whole_graph=audit,
        )
    mismatched = [path for r in reports for path in r.revision_mismatches]
    missing = [path for r in reports for path in r.missing_files]
    stale = [path for r in reports for path in r.stale_files]
    orphan_edges = [path for r in reports for path in r.edges_from_missing_files]
    old_edges = [path for r in reports for path in r.edges_of_other_revisions]
    return dg.AssetCheckResult(
        passed=bool(reports) and all(r.consistent for r in reports) and not extra,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "domains": ", ".join(domains) or "none (no manifest saved)",
            "files_checked": sum(r.files_checked for r in reports),
            "edges_checked_files": sum(r.edges_checked for r in reports),
            "revision_mismatches": len(mismatched),
            "missing_files": len(missing),
            "stale_files": len(stale),
            "edges_from_missing_files": len(orphan_edges),
            "edges_of_other_revisions": len(old_edges),
            "unexpected_domains": ", ".join(extra) or "none",
            "differences": dg.MetadataValue.md(
                f"- revision mismatch: {listing(mismatched)}\n- missing: {listing(missing)}\n"
                f"- stale: {listing(stale)}\n- edges from missing files: {listing(orphan_edges)}\n"
                f"- edges of other revisions: {listing(old_edges)}\n"
                f"- domains the corpus no longer has: {listing(extra)} (retire: lineage ingest --force-delete)"
            ),
        },
    )
