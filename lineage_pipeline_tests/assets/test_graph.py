"""Spec of assets.graph and assets.graph_checks in real Dagster materializations on a real embedded
FalkorDB: a row the store rejects is in the run's metadata and the dead-letter file (with the run id),
the rest is written, the asset check fails; after the cause is fixed and the rows replayed it passes."""

import dagster as dg
import falkordb
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.graph_checks import no_dead_lettered_rows
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.embedded_server import ensure_server, stop_server
from lineage_pipeline.graph.replay import replay_failed
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline_tests.conftest import project_resources
from lineage_pipeline_tests.graph.test_writer import snapshot

pytestmark = pytest.mark.integration  # Dagster runs on a real FalkorDB server

# stg.orders and raw.orders share the short name "orders", which the test's constraint forbids twice
CONFLICTING = {
    "core/x.sql": "INSERT INTO dw.orders_fact (id) SELECT id FROM stg.orders;\n",
    "core/y.sql": "INSERT INTO dw.y (id) SELECT id FROM raw.orders;\n",
}


def _resources(corpus, data_dir, graph_name: str) -> dict:
    return project_resources(
        corpus, data_dir, {"core": "tsql"}, graph_name=graph_name, dead_letter_path=None, write_retry_base_delay_s=0.01
    )


@pytest.fixture
def setup(tmp_path):
    for path, sql in CONFLICTING.items():
        (tmp_path / "corpus" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / path).write_text(sql)
    data_dir = tmp_path / "data"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(domain_partitions.name, ["core"])
    resources = _resources(tmp_path / "corpus", data_dir, "lineage")
    yield instance, resources, data_dir
    stop_server(data_dir)


def _materialize(instance, resources):
    result = dg.materialize(
        [sql_corpus, parsed_sql, lineage_graph, no_dead_lettered_rows],
        instance=instance, resources=resources, partition_key="core",
        run_config={"ops": {"parsed_sql": {"config": {"workers": 1}}}},
    )
    assert result.success, "a rejected row does not fail the run"
    (event,) = result.asset_materializations_for_node("lineage_graph")
    (check,) = result.get_asset_check_evaluations()
    return result.run_id, {k: v.value for k, v in event.metadata.items()}, check


def _table_name_constraint(data_dir, add: bool) -> None:
    graph = falkordb.FalkorDB(unix_socket_path=str(ensure_server(data_dir).socket_path)).select_graph("lineage")
    if add:
        graph.create_node_range_index("Table", "name")
        graph.create_node_unique_constraint("Table", "name")
    else:
        graph.drop_node_unique_constraint("Table", "name")


def test_rejected_row_reported_by_metadata_and_check_then_replayed(setup):
    instance, resources, data_dir = setup
    _table_name_constraint(data_dir, add=True)
    run_id, metadata, check = _materialize(instance, resources)

    dead_letters = DeadLetterFile(data_dir / "failed_ingestion.jsonl")
    entries = dead_letters.read()
    assert metadata["dead_lettered"] == len(entries) > 0
    assert metadata["dead_letter_path"] == str(dead_letters.path)
    assert {e.run_id for e in entries} == {run_id}
    assert ("tables", "stg.orders") in {(e.statement, e.row.get("key")) for e in entries}
    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name="lineage")) as backend:
        nodes, _ = snapshot(backend)
    assert {("Table", "raw.orders"), ("Table", "dw.orders_fact"), ("Table", "dw.y")} <= nodes, "rest of the batch written"
    assert not check.passed and check.metadata["pending_rows"].value == len(entries)
    assert "stg.orders" in check.metadata["rows"].value or "core/x.sql" in check.metadata["rows"].value

    _table_name_constraint(data_dir, add=False)
    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name="lineage")) as backend:
        report = replay_failed(backend, dead_letters)
        replayed = snapshot(backend)
    assert len(report.applied) == len(entries) and not report.still_failing

    _, metadata, check = _materialize(instance, resources)
    assert check.passed and metadata["dead_lettered"] == 0 and metadata["transactions"] == 0

    clean_resources = {**resources, "graph_store": _resources(data_dir.parent / "corpus", data_dir, "clean")["graph_store"]}
    _materialize(instance, clean_resources)
    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name="clean")) as backend:
        assert snapshot(backend) == replayed, "after replay the graph equals a clean ingest"
