"""Asset checks: the parse-error rate stays under a threshold; the graph equals the manifest, file for file.

Checks run in each ``ingest_corpus`` run for its partition (the run's ``dagster/partition`` tag); run on
their own, without a partition, they cover every domain that has a manifest. (Partitioned asset checks
are still a Dagster preview feature, hence the tag.)
"""

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.graph.consistency import check_domain
from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.resources import GraphStoreResource, LocalStoresResource
from lineage_pipeline.settings import load_settings

_SHOWN = 20


class ParseErrorRateConfig(dg.Config):
    """Per-run threshold of the parse-error-rate check."""

    max_error_rate: float = Field(
        default=load_settings().parse_error_rate_threshold,
        ge=0,
        le=1,
        description="Highest acceptable share of files with errors (default: settings parse_error_rate_threshold).",
    )


def _domains(context: dg.AssetCheckExecutionContext, stores: LocalStoresResource) -> list[str]:
    """The run's partition, or every domain with a saved manifest when the check runs unpartitioned."""
    domain = context.run.tags.get("dagster/partition")
    if domain:
        return [domain]
    return sorted(path.stem for path in stores.manifests_dir.glob("*.json"))


def _latest_metadata(context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey, domain: str) -> dict[str, object]:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[domain]), limit=1
    ).records
    if not records:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


@dg.asset_check(
    asset=parsed_sql,
    description="The share of the domain's files with parse or read errors is at most max_error_rate.",
)
def parse_error_rate_below_threshold(
    context: dg.AssetCheckExecutionContext, config: ParseErrorRateConfig, stores: LocalStoresResource
) -> dg.AssetCheckResult:
    domains = _domains(context, stores)
    figures = {domain: _latest_metadata(context, parsed_sql.key, domain) for domain in domains}
    unparsed = sorted(domain for domain, values in figures.items() if "files" not in values)
    if unparsed or not domains:
        return dg.AssetCheckResult(
            passed=False, metadata={"reason": f"parsed_sql has no materialization for: {', '.join(unparsed) or 'any domain'}"}
        )
    files = sum(int(values["files"]) for values in figures.values())
    failed = sum(int(values.get("files_with_errors", 0)) for values in figures.values())
    rate = failed / files if files else 0.0
    return dg.AssetCheckResult(
        passed=rate <= config.max_error_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "domains": ", ".join(domains),
            "files": files,
            "files_with_errors": failed,
            "error_rate": round(rate, 4),
            "max_error_rate": config.max_error_rate,
        },
    )


def _listing(paths: list[str]) -> str:
    more = f" …and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more if paths else "none"


@dg.asset_check(
    asset=lineage_graph,
    additional_deps=[sql_corpus],  # it compares against the manifest, so it runs after any rescan in the same run
    description="Every file of the domain is in the graph with the manifest's content hash; no edges from deleted files.",
)
def graph_matches_manifest(
    context: dg.AssetCheckExecutionContext, graph_store: GraphStoreResource, stores: LocalStoresResource
) -> dg.AssetCheckResult:
    domains = _domains(context, stores)
    with graph_store.open() as backend:
        reports = []
        for domain in domains:
            manifest = stores.load_manifest(domain)
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
                f"- hash mismatch: {_listing(mismatched)}\n- missing: {_listing(missing)}\n"
                f"- stale: {_listing(stale)}\n- edges from missing files: {_listing(orphan_edges)}"
            ),
        },
    )
