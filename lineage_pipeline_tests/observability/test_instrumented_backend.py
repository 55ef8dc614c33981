"""Spec of the instrumented backend: every write transaction to a real FalkorDB is counted with its stats."""

from lineage_pipeline.observability import metrics
from lineage_pipeline.observability.instrumented_backend import instrumented


def test_each_write_is_one_counted_batch_with_its_nodes_and_relationships(falkordb_backend):
    backend = instrumented(falkordb_backend)
    before = {name: metric._value.get() for name, metric in metrics.COUNTERS.items()}
    durations_before = metrics.GRAPH_BATCH_DURATION._sum.get()
    stats = backend.write("UNWIND $rows AS r CREATE (:Probe {k: r})-[:LINKS]->(:Probe {k: r + 100})", {"rows": [1, 2, 3]}).stats
    assert (stats.nodes_created, stats.relationships_created) == (6, 3)
    after = {name: metric._value.get() for name, metric in metrics.COUNTERS.items()}
    assert after["graph_batch_writes_total"] - before["graph_batch_writes_total"] == 1
    assert after["graph_entities_written_total"] - before["graph_entities_written_total"] == 6
    assert after["graph_relationships_written_total"] - before["graph_relationships_written_total"] == 3
    assert metrics.GRAPH_BATCH_DURATION._sum.get() > durations_before
    assert backend.read("MATCH (p:Probe) RETURN count(p)") == [[6]]
    assert backend.location == falkordb_backend.location


def test_each_write_of_a_stream_is_counted_and_a_failed_one_is_not(falkordb_backend):
    backend = instrumented(falkordb_backend)
    before = metrics.COUNTERS["graph_batch_writes_total"]._value.get()
    created_before = metrics.COUNTERS["graph_entities_written_total"]._value.get()
    create = "UNWIND $rows AS r CREATE (:Probe {k: r})"
    writes = [(create, {"rows": [1, 2]}), (create, {"rows": [{"a": 1}]}), (create, {"rows": [3]})]  # a map: rejected
    outcomes = list(backend.write_stream(writes))
    assert [isinstance(o, Exception) for o in outcomes] == [False, True, False]
    assert metrics.COUNTERS["graph_batch_writes_total"]._value.get() - before == 2
    assert metrics.COUNTERS["graph_entities_written_total"]._value.get() - created_before == 3
    assert backend.read("MATCH (p:Probe) RETURN count(p)") == [[3]]
