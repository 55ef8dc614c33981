"""``parsed_sql``: table- and column-level lineage of every file of a domain, kept in the parse store."""

import statistics

import dagster as dg

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.parse_stage import FileError, parse_manifest
from lineage_pipeline.resources import CorpusResource, LocalStoresResource


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


@dg.asset(
    partitions_def=domain_partitions,
    deps=[sql_corpus],
    group_name="lineage",
    description="Lineage extracted from each SQL file of the domain (sources, targets, column edges, errors).",
)
def parsed_sql(
    context: dg.AssetExecutionContext, corpus: CorpusResource, stores: LocalStoresResource
) -> dg.MaterializeResult:
    manifest = stores.load_manifest(context.partition_key)
    outcome = parse_manifest(manifest, stores.parse_store(), corpus.max_file_bytes)
    errors = outcome.errors
    for error in errors:
        context.log.warning(f"{error.path}:{error.line or '?'} statement {error.statement}: {error.message}")
    ms = sorted(outcome.file_ms)
    return dg.MaterializeResult(
        metadata={
            "files": len(outcome.lineages),
            "files_parsed": outcome.parsed,
            "files_reused": outcome.reused,
            "statements": outcome.statements,
            "column_edges": sum(len(s.columns) for f in outcome.lineages.values() for s in f.statements),
            "errors": len(errors),
            "files_with_errors": len({e.path for e in errors}),
            "error_list": dg.MetadataValue.md(errors_markdown(errors)),
            "duration_s": round(outcome.seconds, 3),
            "p50_file_ms": round(statistics.median(ms), 2) if ms else 0.0,
        }
    )
