"""``parsed_sql``: table- and column-level lineage of every file of a domain, in the parse results store."""

from contextlib import closing
from typing import Any

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.ingest import ParseReport, parse_domain
from lineage_pipeline.pipeline.parse_stage import FileError
from lineage_pipeline.pipeline.progress import run_progress
from lineage_pipeline.resources import CorpusResource, LocalStoresResource, MetricsResource, ParserResource

_ERRORS_SHOWN = 200


def errors_markdown(errors: list[FileError], limit: int = _ERRORS_SHOWN) -> str:
    """The error list as a Markdown table (file, statement, line, message)."""
    if not errors:
        return "No errors."
    rows = [
        f"| {e.path} | {'' if e.statement is None else e.statement} | {e.line or ''} | "
        f"{e.message.replace('|', '/').replace(chr(10), ' ')[:300]} |"
        for e in errors[:limit]
    ]
    more = [f"\n…and {len(errors) - limit} more"] if len(errors) > limit else []
    return "\n".join(["| file | statement | line | message |", "|---|---|---|---|", *rows, *more])


class ParseRunConfig(dg.Config):
    """Per-run knobs of the parse; unset values are the resources' (``parser``, ``stores``)."""

    enable_parse_cache: bool | None = Field(default=None, description="Reuse cached results (default: stores resource).")
    workers: int | None = Field(default=None, ge=1, le=64, description="Parser processes (default: parser resource).")
    parse_cache_max_entries: int | None = Field(default=None, ge=1, description="LRU bound (default: stores resource).")
    chunk_size: int | None = Field(default=None, ge=1, description="Files sent to a worker at once (default: parser resource).")
    file_timeout_s: float | None = Field(
        default=None, gt=0, description="A file parsing longer is reported and its worker replaced (default: parser resource)."
    )
    corpus_catalog: bool = Field(
        default=True,
        description="Build the schema catalog from every domain of the corpus (else from this domain's files only).",
    )


def parse_metadata(report: ParseReport) -> dict[str, Any]:
    """The materialization metadata of a parse."""
    outcome, catalog = report.outcome, report.catalog
    errors = outcome.errors
    return {
        "files": outcome.files,
        "files_parsed": outcome.misses,
        "files_reused": outcome.hits,
        "statements": outcome.statements,
        "statements_reused": outcome.statements_reused,
        "column_edges": outcome.column_edges,
        "column_edges_added_by_catalog": catalog.column_edges_added,
        "errors": len(errors),
        "files_with_errors": len({e.path for e in errors}),
        "error_list": dg.MetadataValue.md(errors_markdown(errors)),
        "duration_s": round(outcome.seconds, 3),
        "cache_enabled": outcome.cache_enabled,
        "cache_hits": outcome.hits,
        "cache_misses": outcome.misses,
        "cache_hit_rate": outcome.hit_rate,
        "files_per_s": outcome.files_per_second,
        "p50_file_ms": outcome.percentile_ms(50),
        "p95_file_ms": outcome.percentile_ms(95),
        "workers": outcome.workers,
        "worker_crashes": outcome.worker_crashes,
        "workers_started": f"{outcome.workers_forked} forked, {outcome.workers_spawned} spawned",
        "worker_timeouts": outcome.worker_timeouts,
        "provisional_results": len(outcome.provisional),
        "results_written": outcome.results_written,
        "peak_rss_mb": round(outcome.peak_rss_bytes / 2**20, 1),
        "worker_peak_rss_mb": round(outcome.worker_peak_rss_bytes / 2**20, 1),
        "catalog_tables": catalog.catalog_tables,
        "catalog_corpus_files": catalog.corpus_files,
        "catalog_corpus_files_parsed": catalog.corpus_files_parsed,
        "catalog_needed": catalog.catalog_needed,
        "catalog_reused": catalog.catalog_reused,
        "files_resolved_with_catalog": catalog.files_resolved,
        "catalog_cache_hits": catalog.resolved_hits,
        "catalog_parses": catalog.resolved_parsed,
        "catalog_duration_s": round(catalog.seconds, 3),
        "warnings": len(outcome.warnings),
        "warning_list": dg.MetadataValue.md(errors_markdown(outcome.warnings)),
        "dialect_advice": report.dialect_advice.message if report.dialect_advice else "",
    }


@dg.asset(
    partitions_def=domain_partitions,
    deps=[sql_corpus],
    group_name="lineage",
    description="Lineage extracted from each SQL file of the domain (sources, targets, column edges, errors), "
    "resolved against the corpus-wide schema catalog (SELECT * expanded), kept in the parse results store.",
)
def parsed_sql(
    context: dg.AssetExecutionContext,
    config: ParseRunConfig,
    corpus: CorpusResource,
    stores: LocalStoresResource,
    parser: ParserResource,
    metrics: MetricsResource,
) -> dg.MaterializeResult:
    with (
        closing(stores.parse_cache(config.enable_parse_cache, config.parse_cache_max_entries)) as cache,
        closing(stores.parse_results()) as results,
    ):
        report = parse_domain(
            context.partition_key,
            corpus.spec(),
            stores.manifests(),
            cache,
            results,
            parser.options(config.workers, config.chunk_size, config.file_timeout_s),
            corpus_catalog=config.corpus_catalog,
            progress=run_progress(context.partition_key, context.run.tags),
        )
    outcome = report.outcome
    for check in (outcome.cache_check, outcome.results_check):
        if check and check.problem:
            context.log.warning(f"{check.path} was unusable ({check.problem}); moved to {check.moved_to}, rebuilt")
    if report.dialect_advice is not None:
        context.log.warning(report.dialect_advice.message)
    if outcome.errors:  # the full list is in the metadata (error_list); the log gets one line
        first = outcome.errors[0]
        context.log.warning(
            f"{len(outcome.errors)} parse or read errors in {len({e.path for e in outcome.errors})} files "
            f"(first: {first.path}:{first.line or '?'}: {first.message}); see the error_list metadata"
        )
    metrics.metrics.record_parse_stage(
        files=outcome.files, failed=len({e.path for e in outcome.errors}), cache_hits=outcome.hits,
        cache_misses=outcome.misses, file_ms=[*outcome.file_ms, *report.catalog.file_ms],
        seconds=outcome.seconds, cache_entries=report.cache_entries,
    )
    return dg.MaterializeResult(metadata=parse_metadata(report))
