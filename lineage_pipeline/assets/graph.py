"""``lineage_graph``: the domain's lineage written to the graph store, exact per file."""

import time

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.graph.queries import graph_counts
from lineage_pipeline.observability.instrumented_backend import instrumented
from lineage_pipeline.observability.metrics import record_graph_sync
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.graph_stage import sync_manifest
from lineage_pipeline.resources import GraphStoreResource, LocalStoresResource


class GraphWriteConfig(dg.Config):
    """Per-run knobs of the graph write."""

    write_batch_size: int | None = Field(default=None, ge=1, description="Rows per transaction; default from the resource.")
    force_delete: bool = Field(default=False, description="Allow deleting more than max_delete_fraction of the domain.")


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
) -> dg.MaterializeResult:
    """Sync the partition's files to the graph; rejected rows are in metadata and the dead-letter file."""
    started = time.perf_counter()
    manifest = stores.load_manifest(context.partition_key)
    batch_size = config.write_batch_size or graph_store.write_batch_size
    dead_letters = graph_store.dead_letters()
    with graph_store.open() as store:
        backend = instrumented(store)  # each write transaction is counted in the metrics
        report = sync_manifest(
            manifest,
            stores.parse_store(),
            backend,
            batch_size,
            graph_store.max_delete_fraction,
            config.force_delete,
            retry=graph_store.retry_policy(),
            orphan_policy=graph_store.orphan_policy,
            dead_letters=dead_letters,
            run_id=context.run.run_id,
            pipelined=graph_store.pipelined_writes,
        )
        changed = len(report.files_written) + len(report.files_deleted)
        record_graph_sync(changed, report.retries, len(report.dead_lettered), time.perf_counter() - started)
        nodes, relationships = graph_counts(backend)
        location = backend.location
    for entry in report.dead_lettered:
        context.log.error(f"graph store rejected a {entry.statement} row of {entry.file}: {entry.error}")
    return dg.MaterializeResult(
        metadata={
            "files_written": len(report.files_written),
            "files_deleted": len(report.files_deleted),
            "files_unchanged": report.files_unchanged,
            "nodes_created": report.stats.nodes_created,
            "nodes_deleted": report.stats.nodes_deleted,
            "relationships_created": report.stats.relationships_created,
            "relationships_deleted": report.stats.relationships_deleted,
            "transactions": report.stats.transactions,
            "retries": report.retries,
            "orphans": report.orphans,
            "dead_lettered": len(report.dead_lettered),
            "dead_letter_path": str(dead_letters.path),
            "graph_nodes": nodes,
            "graph_relationships": relationships,
            "graph_location": location,
            "write_batch_size": batch_size,
            "pipelined_writes": graph_store.pipelined_writes,
            "duration_s": round(time.perf_counter() - started, 3),
        }
    )
