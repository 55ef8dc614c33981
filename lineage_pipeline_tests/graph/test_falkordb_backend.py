"""Spec of the backends on real stores (embedded FalkorDB; Neo4j when configured): atomic writes,
applied counts, idempotent schema, write streams that hand back every write's outcome in order; and
FalkorDB recovery after the server is killed, during a single write or a pipelined stream."""

import os
import signal
import time

import pytest
import redis.exceptions as redis_errors

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import WriteResult
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import connect, ensure_server, server_status, stop_server
from lineage_pipeline.graph.falkordb_backend import MAINTAIN_EVERY, FalkorDBBackend


def test_schema_bootstrap_is_idempotent(store):
    store.backend.ensure_schema()
    store.forbid_duplicate_table_names()  # an index/constraint someone else added on a label we index
    store.backend.ensure_schema()
    store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.t", "name": "t", "kind": "table"}] * 2})
    assert store.backend.read("MATCH (t:Table) RETURN count(t)") == [[1]]


def test_write_reports_rows_applied(store):
    store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.t", "name": "t", "kind": "table"}]})
    rows = [{"src": "a.t", "dst": "a.t.c", "file": "f.sql", "rev": "r"}]
    result = store.backend.write(*cypher.batch_write("merge:HAS_COLUMN", rows))
    assert result.applied == 0, "the column node is missing: nothing applied, and the writer can tell"
    store.backend.write(cypher.MERGE_COLUMNS, {"rows": [{"key": "a.t.c", "name": "c", "table": "a.t"}]})
    result = store.backend.write(*cypher.batch_write("merge:HAS_COLUMN", rows))
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


def _table(key: str) -> tuple[str, dict]:
    return cypher.MERGE_TABLES, {"rows": [{"key": key, "name": key.rpartition(".")[2], "kind": "table"}]}


# a real store error for one write: a map is not a valid property value (FalkorDB and Neo4j refuse it)
_REJECTED = (cypher.MERGE_TABLES, {"rows": [{"key": "bad.t", "name": {"not": "a name"}, "kind": "table"}]})


def test_write_stream_yields_each_outcome_in_order_and_a_failed_write_fails_alone(store):
    writes = [_table("a.t"), _REJECTED, _table("b.t"), _table("c.t")]
    outcomes = list(store.backend.write_stream(iter(writes)))
    assert [type(o) is WriteResult for o in outcomes] == [True, False, True, True]
    assert isinstance(outcomes[1], Exception)
    assert [o.stats.nodes_created for o in outcomes if isinstance(o, WriteResult)] == [1, 1, 1]
    keys = store.backend.read("MATCH (t:Table) RETURN t.key ORDER BY t.key")
    assert keys == [["a.t"], ["b.t"], ["c.t"]], "the rejected write was rolled back, the others applied"


def test_write_stream_consumes_writes_lazily(store):
    """The next batch may be prepared while the store runs this one: writes are pulled one at a time."""
    pulled: list[str] = []

    def writes():
        for key in ("a.t", "b.t", "c.t", "d.t"):
            pulled.append(key)
            yield _table(key)

    stream = store.backend.write_stream(writes())
    first = next(stream)
    assert isinstance(first, WriteResult) and len(pulled) <= 2, "at most one write ahead of the outcome handed back"
    assert all(isinstance(o, WriteResult) for o in stream) and len(pulled) == 4


def test_falkordb_stream_an_unencodable_row_fails_its_write_only(falkordb_backend):
    unencodable = (cypher.MERGE_TABLES, {"rows": [{"key`": "x"}]})  # the client refuses backticks in keys
    outcomes = list(falkordb_backend.write_stream([_table("a.t"), unencodable, _table("b.t")]))
    assert isinstance(outcomes[1], ValueError) and "backtick" in str(outcomes[1])
    assert falkordb_backend.read("MATCH (t:Table) RETURN t.key ORDER BY t.key") == [["a.t"], ["b.t"]]


def test_falkordb_abandoned_stream_leaves_no_reply_for_the_next_query(falkordb_backend):
    """A stream dropped with a reply still owed must not hand that reply to the connection's next user."""
    stream = falkordb_backend.write_stream(_table(f"s.t{i}") for i in range(5))
    assert isinstance(next(stream), WriteResult)
    stream.close()  # the caller gave up (e.g. it raised) while the second write was in flight
    for _ in range(3):
        assert falkordb_backend.read("RETURN 42") == [[42]]
    written = falkordb_backend.read("MATCH (t:Table) RETURN count(t)")[0][0]
    assert written in (1, 2), "only what was sent ran: the first write, perhaps the one in flight"


def test_falkordb_stream_survives_a_killed_server_and_recovers(falkordb_backend, tmp_path):
    backend, data_dir = falkordb_backend, tmp_path / "graph-data"  # the fixture's data dir
    killed = server_status(data_dir).pid

    def writes():
        yield _table("a.t")
        yield _table("b.t")
        os.kill(killed, signal.SIGKILL)  # dies with a write in flight and more to come
        for key in ("c.t", "d.t", "e.t"):
            yield _table(key)

    outcomes = list(backend.write_stream(writes()))  # no exception escapes, no hang
    assert isinstance(outcomes[0], WriteResult) and len(outcomes) == 5
    failed = [o for o in outcomes if not isinstance(o, WriteResult)]
    assert failed and all(isinstance(o, (redis_errors.ConnectionError, OSError)) for o in failed)
    assert all(isinstance(o, Exception) for o in outcomes[2:]), "nothing reaches a dead server"
    backend.recover()
    assert server_status(data_dir).pid != killed
    assert all(isinstance(o, WriteResult) for o in backend.write_stream([_table("f.t"), _table("g.t")]))
    keys = {row[0] for row in backend.read("MATCH (t:Table) RETURN t.key")}
    assert {"a.t", "f.t", "g.t"} <= keys and not {"c.t", "d.t", "e.t"} & keys


def test_merged_nodes_keep_view_kind_and_lose_their_orphan_mark(store):
    def merge_table(kind: str) -> None:
        store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "a.v", "name": "v", "kind": kind}]})

    merge_table("table")
    merge_table("view")
    merge_table("table")  # a file that only reads it does not know it is a view
    assert store.backend.read("MATCH (t:Table) RETURN t.kind") == [["view"]]
    store.backend.write(cypher.MERGE_COLUMNS, {"rows": [{"key": "a.v.c", "name": "c", "table": "a.v"}]})
    store.backend.write("MATCH (n) SET n.orphan = true")
    merge_table("table")
    store.backend.write(cypher.MERGE_COLUMNS, {"rows": [{"key": "a.v.c", "name": "c", "table": "a.v"}]})
    assert store.backend.read("MATCH (n) WHERE n.orphan IS NOT NULL RETURN n.key") == []
    assert store.backend.read("MATCH (t:Table) RETURN t.kind, t.name") == [["view", "v"]]


def test_relationship_removals_return_the_endpoints_they_disconnected(store):
    store.backend.write(cypher.MERGE_TABLES, {"rows": [{"key": k, "name": k, "kind": "table"} for k in ("s.a", "t.b", "t.c")]})
    rows = [
        {"src": "s.a", "dst": "t.b", "file": "f.sql", "rev": "r1"},
        {"src": "s.a", "dst": "t.c", "file": "f.sql", "rev": "r1"},
    ]
    store.backend.write(*cypher.batch_write("merge:FEEDS", rows))
    for _ in range(2):  # the new revision's edge beside the old one, once however often it is merged
        store.backend.write(*cypher.batch_write("merge:FEEDS", [{**rows[0], "rev": "r2"}]))
    assert store.backend.read("MATCH ()-[e:FEEDS]->() RETURN e.rev ORDER BY e.rev") == [["r1"], ["r1"], ["r2"]]
    stale = store.backend.write(*cypher.batch_write("stale:FEEDS", [{"path": "f.sql", "rev": "r2"}]))
    (sources, targets), = stale.records
    assert sorted(sources) == ["s.a"] and sorted(targets) == ["t.b", "t.c"]  # each endpoint once
    assert stale.applied is None and stale.stats.relationships_deleted == 2
    unlink = store.backend.write(*cypher.batch_write("unlink:FEEDS", ["f.sql", "other.sql"]))
    assert unlink.records == [[["s.a"], ["t.b"]]] and unlink.stats.relationships_deleted == 1
    nothing = store.backend.write(*cypher.batch_write("unlink:FEEDS", ["f.sql"]))
    assert nothing.records == [[[], []]]


def test_falkordb_stream_with_the_server_down_yields_the_error_for_every_write(falkordb_backend, tmp_path):
    """On main the stream took its connection outside any retry and raised: a raw ConnectionError
    failed the run when the server died between two write phases."""
    data_dir = tmp_path / "graph-data"
    pid = server_status(data_dir).pid
    os.kill(pid, signal.SIGKILL)
    while server_status(data_dir) is not None:
        time.sleep(0.01)
    writes = [("MERGE (:Table {key: $k})", {"k": f"a.t{i}"}) for i in range(3)]
    outcomes = list(falkordb_backend.write_stream(writes))
    assert len(outcomes) == 3 and all(isinstance(o, redis_errors.ConnectionError) for o in outcomes)
    falkordb_backend.recover()
    assert [type(o).__name__ for o in falkordb_backend.write_stream(writes)] == ["WriteResult"] * 3


def test_falkordb_maintenance_runs_every_few_writes_and_its_failure_fails_no_write(tmp_path):
    data_dir = tmp_path / "graph-data"
    calls: list[object] = []

    def failing_maintenance(client) -> None:
        calls.append(client)
        raise redis_errors.ResponseError("ERR maintenance refused")

    backend = FalkorDBBackend(lambda: (connect(ensure_server(data_dir)), "embedded"), "test", maintenance=failing_maintenance)
    try:
        for i in range(MAINTAIN_EVERY):
            backend.write(*_table(f"a.t{i}"))
        assert len(calls) == 1
        outcomes = list(backend.write_stream([_table(f"b.t{i}") for i in range(2 * MAINTAIN_EVERY)]))
        assert len(calls) == 3 and all(isinstance(outcome, WriteResult) for outcome in outcomes)
        assert backend.read("MATCH (t:Table) RETURN count(t)") == [[3 * MAINTAIN_EVERY]]
    finally:
        backend.close()
        stop_server(data_dir)
