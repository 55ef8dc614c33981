"""Asset checks of ``lineage_graph``: no row is waiting in the dead-letter file, and the graph equals the
manifest file for file."""

import dagster as dg

from lineage_pipeline.assets.checks_support import SHOWN, checked_domains, listing
from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.corpus.manifest import load_manifest
from lineage_pipeline.graph.consistency import check_domain
from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.resources import GraphStoreResource, LocalStoresResource


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
    additional_deps=[sql_corpus],  # it compares against the manifest, so it runs after any rescan in the same run
    description="Every file of the domain is in the graph with the manifest's content hash; no edges from deleted files.",
)
def graph_matches_manifest(
    context: dg.AssetCheckExecutionContext, graph_store: GraphStoreResource, stores: LocalStoresResource
) -> dg.AssetCheckResult:
    domains = checked_domains(context, stores)
    with graph_store.open() as backend:
        reports = []
        for domain in domains:
            manifest = load_manifest(stores.manifests_dir, domain)
            reports.append(check_domain(backend, domain, {e.path: e.sha256 for e in manifest.files}, PARSER_VERSION))
    mismatched = [path for r in reports for path in r.hash_mismatches]
    missing = [path for r in reports for path in r.missing_files]
    stale = [path for r in reports for path in r.stale_files]
    orphan_edges = [path for r in reports for path in r.edges_from_missing_files]
    return dg.AssetCheckResult(
        passed=bool(reports) and all(r.consistent for r in reports),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "domains": ", ".join(domains) or "none (no manifest saved)",
            "files_checked": sum(r.files_checked for r in reports),
            "hash_mismatches": len(mismatched),
            "missing_files": len(missing),
            "stale_files": len(stale),
            "edges_from_missing_files": len(orphan_edges),
            "differences": dg.MetadataValue.md(
                f"- hash mismatch: {listing(mismatched)}\n- missing: {listing(missing)}\n"
                f"- stale: {listing(stale)}\n- edges from missing files: {listing(orphan_edges)}"
            ),
        },
    )
