"""Spec of the backends on real stores (embedded FalkorDB; Neo4j when configured): atomic writes,
applied counts, idempotent schema; and FalkorDB recovery after the server is killed."""

import os
import signal

import pytest
import redis.exceptions as redis_errors

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import server_status, stop_server


def test_schema_bootstrap_is_idempotent(store):
    store.backend.ensure_schema()
    store.forbid_duplicate_table_names()  # an index/constraint someone else added on a label we index
    store.backend.ensure_schema()
    store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.t", "name": "t", "kind": "table"}] * 2})
    assert store.backend.read("MATCH (t:Table) RETURN count(t)") == [[1]]


def test_write_reports_rows_applied(store):
    store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.t", "name": "t", "kind": "table"}]})
    rows = [{"src": "a.t", "dst": "a.t.c", "file": "f.sql", "rev": "r"}]
    result = store.backend.write(cypher.STATEMENTS["merge:HAS_COLUMN"][0], {"rows": rows})
    assert result.applied == 0, "the column node is missing: nothing applied, and the writer can tell"
    store.backend.write(cypher.MERGE_COLUMNS, {"rows": [{"key": "a.t.c", "name": "c", "table": "a.t"}]})
    result = store.backend.write(cypher.STATEMENTS["merge:HAS_COLUMN"][0], {"rows": rows})
    assert (result.applied, result.stats.relationships_created, result.stats.transactions) == (1, 1, 1)


def test_rejected_write_is_rolled_back_entirely(store):
    store.forbid_duplicate_table_names()
    rows = [{"key": "a.t", "name": "t", "kind": "table"}, {"key": "b.t", "name": "t", "kind": "table"}]
    with pytest.raises(Exception, match="(?i)unique|already exists"):
        store.backend.write(cypher.MERGE_TABLES, {"rows": rows})
    assert store.backend.read("MATCH (t:Table) RETURN count(t)") == [[0]]


def test_recover_restarts_a_killed_embedded_server(tmp_path):
    data_dir = tmp_path / "graph-data"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
    try:
        backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.t", "name": "t", "kind": "table"}]})
        killed = server_status(data_dir).pid
        os.kill(killed, signal.SIGKILL)
        with pytest.raises(redis_errors.ConnectionError):
            backend.read("MATCH (t:Table) RETURN count(t)")
        backend.recover()
        assert server_status(data_dir).pid != killed
        assert f"pid {server_status(data_dir).pid}" in backend.location
        assert backend.read("MATCH (t:Table) RETURN t.key") == [["a.t"]], "acknowledged writes survive kill -9"
    finally:
        backend.close()
        stop_server(data_dir)
