"""``parsed_sql``: table- and column-level lineage of every file of a domain, kept in the parse cache."""

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.observability.metrics import record_parse_stage
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.catalog_stage import other_domain_manifests, parse_with_catalog
from lineage_pipeline.pipeline.parse_stage import FileError, ParseOptions
from lineage_pipeline.resources import CorpusResource, LocalStoresResource
from lineage_pipeline.settings import load_settings

_settings = load_settings()


def errors_markdown(errors: list[FileError], limit: int = 200) -> str:
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
    """Per-run knobs of the parse; unset values come from the settings and the stores resource."""

    enable_parse_cache: bool | None = Field(default=None, description="Reuse cached results (default: resource).")
    workers: int | None = Field(default=None, ge=1, le=64, description="Parser processes (default: settings workers).")
    parse_cache_max_entries: int | None = Field(default=None, ge=1, description="LRU bound (default: resource).")
    chunk_size: int = Field(default=_settings.parse_chunk_size, ge=1, description="Files sent to a worker at once.")
    file_timeout_s: float = Field(
        default=_settings.parse_file_timeout_s, gt=0, description="A file parsing longer is reported and its worker replaced."
    )
    corpus_catalog: bool = Field(
        default=True,
        description="Build the schema catalog from every domain of the corpus (else from this domain's files only).",
    )


@dg.asset(
    partitions_def=domain_partitions,
    deps=[sql_corpus],
    group_name="lineage",
    description="Lineage extracted from each SQL file of the domain (sources, targets, column edges, errors), "
    "resolved against the corpus-wide schema catalog (SELECT * expanded), kept in the parse cache.",
)
def parsed_sql(
    context: dg.AssetExecutionContext, config: ParseRunConfig, corpus: CorpusResource, stores: LocalStoresResource
) -> dg.MaterializeResult:
    manifest = stores.load_manifest(context.partition_key)
    cache = stores.parse_store(config.enable_parse_cache, config.parse_cache_max_entries)
    options = ParseOptions(
        config.workers or _settings.workers, config.chunk_size, config.file_timeout_s, _settings.parse_worker_start
    )
    others = (
        other_domain_manifests(
            corpus.root_path, context.partition_key, corpus.extensions, corpus.folder_dialects,
            corpus.default_dialect, stores.manifests_dir,
        )
        if config.corpus_catalog
        else ()
    )
    outcome, catalog = parse_with_catalog(manifest, others, cache, corpus.max_file_bytes, options)
    if outcome.cache_check and outcome.cache_check.problem:
        context.log.warning(
            f"parse cache was unusable ({outcome.cache_check.problem}); moved to {outcome.cache_check.moved_to}, rebuilt"
        )
    errors = outcome.errors
    for error in errors:
        context.log.warning(f"{error.path}:{error.line or '?'} statement {error.statement}: {error.message}")
    record_parse_stage(
        files=outcome.files, failed=len({e.path for e in errors}), cache_hits=outcome.hits,
        cache_misses=outcome.misses, file_ms=[*outcome.file_ms, *catalog.file_ms],
        seconds=outcome.seconds + catalog.seconds,
        cache_entries=cache.get_stats().entries,
    )
    return dg.MaterializeResult(
        metadata={
            "files": outcome.files,
            "files_parsed": outcome.misses,
            "files_reused": outcome.hits,
            "statements": outcome.statements,
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
            "peak_rss_mb": round(outcome.peak_rss_bytes / 2**20, 1),
            "worker_peak_rss_mb": round(outcome.worker_peak_rss_bytes / 2**20, 1),
            "catalog_tables": catalog.catalog_tables,
            "catalog_corpus_files": catalog.corpus_files,
            "catalog_corpus_files_parsed": catalog.corpus_files_parsed,
            "catalog_reused": catalog.catalog_reused,
            "files_resolved_with_catalog": catalog.files_resolved,
            "catalog_cache_hits": catalog.resolved_hits,
            "catalog_parses": catalog.resolved_parsed,
            "catalog_duration_s": round(catalog.seconds, 3),
        }
    )
