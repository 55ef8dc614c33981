"""``lineage_graph``: the domain's lineage written to the graph store, exact per file."""

from contextlib import closing
from typing import Any

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.observability.instrumented_backend import instrumented
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.ingest import WriteOptions, WriteReport, write_domain
from lineage_pipeline.pipeline.launch import RETIRE_TAG
from lineage_pipeline.pipeline.progress import run_progress
from lineage_pipeline.resources import GraphStoreResource, LocalStoresResource, MetricsResource

FILES_LISTED = 2000
"""A write of at most this many files lists them in its metadata (``changed_files``), which lets
``graph_matches_manifest`` read only their relationships; a larger one costs what a full check does."""


class GraphWriteConfig(dg.Config):
    """Per-run knobs of the graph write."""

    write_batch_size: int | None = Field(default=None, ge=1, description="Rows per transaction (default: graph_store resource).")
    force_delete: bool = Field(default=False, description="Allow deleting more than max_delete_fraction of the domain.")


def write_metadata(report: WriteReport, options: WriteOptions, dead_letter_path: str) -> dict[str, Any]:
    """The materialization metadata of a graph write."""
    sync = report.sync
    count = len(sync.files_written) + len(sync.files_deleted)
    changed = (
        dg.MetadataValue.json({"written": sync.files_written, "deleted": sync.files_deleted})
        if count <= FILES_LISTED
        else dg.MetadataValue.text(f"{count} files, not listed (more than {FILES_LISTED})")
    )
    return {
        "changed_files": changed,
        "files_written": len(sync.files_written),
        "files_deleted": len(sync.files_deleted),
        "files_unchanged": sync.files_unchanged,
        "nodes_created": sync.stats.nodes_created,
        "nodes_deleted": sync.stats.nodes_deleted,
        "relationships_created": sync.stats.relationships_created,
        "relationships_deleted": sync.stats.relationships_deleted,
        "transactions": sync.stats.transactions,
        "retries": sync.retries,
        "orphans": sync.orphans,
        "dead_lettered": len(sync.dead_lettered),
        "dead_letter_path": dead_letter_path,
        "graph_nodes": report.nodes,
        "graph_relationships": report.relationships,
        "graph_location": report.location,
        "write_batch_size": options.batch_size,
        "pipelined_writes": options.pipelined,
        "duration_s": round(report.seconds, 3),
    }


@dg.asset(
    partitions_def=domain_partitions,
    deps=[parsed_sql],
    group_name="lineage",
    description="The domain's files, tables, columns and lineage edges in the graph store.",
)
def lineage_graph(
    context: dg.AssetExecutionContext,
    config: GraphWriteConfig,
    graph_store: GraphStoreResource,
    stores: LocalStoresResource,
    metrics: MetricsResource,
) -> dg.MaterializeResult:
    """Sync the partition's files to the graph; rejected rows are in metadata and the dead-letter file."""
    options = graph_store.write_options(config.write_batch_size, config.force_delete)
    dead_letters = graph_store.dead_letters()
    with graph_store.open() as store, closing(stores.parse_results()) as results, closing(stores.warehouse_facts()) as facts:
        report = write_domain(
            context.partition_key, stores.manifests(), results, instrumented(store, metrics.metrics), options,
            dead_letters=dead_letters, run_id=context.run.run_id, progress=run_progress(context.partition_key, context.run.tags),
            warehouse_facts=facts,
            retire=context.run.tags.get(RETIRE_TAG) == "true",
        )
    sync = report.sync
    metrics.metrics.record_graph_sync(
        len(sync.files_written) + len(sync.files_deleted), sync.retries, len(sync.dead_lettered), report.seconds
    )
    for entry in sync.dead_lettered:
        context.log.error(f"graph store rejected a {entry.statement} row of {entry.file}: {entry.error}")
    return dg.MaterializeResult(metadata=write_metadata(report, options, str(dead_letters.path)))
