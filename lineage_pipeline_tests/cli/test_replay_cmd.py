"""Spec of ``lineage replay-failed`` end to end: ``lineage ingest`` with a store that rejects a row,
then replay while the cause persists (exit 1, entries kept) and after it is fixed (applied; the graph
equals a clean ingest, the warehouse facts follow)."""

import json

import falkordb

from lineage_pipeline.assets.warehouse import load_snapshot
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import ensure_server
from lineage_pipeline_tests.assets.test_warehouse import reference_snapshot
from lineage_pipeline_tests.graph.test_writer import snapshot


def _graph(project_env, name="lineage"):
    info = ensure_server(project_env.data_dir)
    return falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).select_graph(name)


def test_replay_failed_after_fixing_the_cause(project_env):
    conflict = project_env.corpus / "conflict"
    conflict.mkdir()
    (conflict / "x.sql").write_text("INSERT INTO dw.orders_fact (id) SELECT id FROM stg.orders;\n")
    (conflict / "y.sql").write_text("INSERT INTO dw.y (id) SELECT id FROM raw.orders;\n")
    graph = _graph(project_env)
    graph.create_node_range_index("Table", "name")
    graph.create_node_unique_constraint("Table", "name")

    project_env.run("lineage", "ingest", "--domain", "conflict")
    dead_letter_file = project_env.data_dir / "failed_ingestion.jsonl"
    entries = [json.loads(line) for line in dead_letter_file.read_text().splitlines()]
    assert ("tables", "stg.orders") in {(e["statement"], e["row"].get("key")) for e in entries}
    assert all(e["domain"] == "conflict" and e["run_id"] and e["time"] and e["error"] for e in entries)

    still = project_env.run("lineage", "replay-failed", "--format", "json", check=False)
    assert still.returncode == 1
    assert len(json.loads(still.stdout)["still_failing"]) == len(entries)
    assert len(dead_letter_file.read_text().splitlines()) == len(entries)

    facts = project_env.data_dir / "warehouse_facts.sqlite"
    assert "stg.orders" not in {t.key for t in load_snapshot(facts).tables}, "a rejected table has no asset"

    graph.drop_node_unique_constraint("Table", "name")
    fixed = project_env.run("lineage", "replay-failed")
    assert f"{len(entries)} applied, 0 still failing" in fixed.stdout
    assert dead_letter_file.read_text() == ""
    with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="lineage")) as backend:
        assert load_snapshot(facts).tables == reference_snapshot(backend).tables, "the warehouse follows the replay"

    project_env.env["LINEAGE_GRAPH_NAME"] = "clean"
    project_env.run("lineage", "ingest", "--domain", "conflict")
    with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="lineage")) as backend:
        replayed = snapshot(backend)
    with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="clean")) as backend:
        assert snapshot(backend) == replayed


def test_nothing_to_replay(project_env):
    result = project_env.run("lineage", "replay-failed")
    assert "0 applied, 0 still failing" in result.stdout
