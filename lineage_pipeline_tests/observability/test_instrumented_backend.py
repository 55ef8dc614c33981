"""Spec of the instrumented backend: every write transaction to a real FalkorDB is counted with its stats."""

from lineage_pipeline.observability.instrumented_backend import instrumented
from lineage_pipeline.observability.metrics import NoMetrics, configure_metrics
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import samples


def test_each_write_is_one_counted_batch_with_its_nodes_and_relationships(falkordb_backend, tmp_path):
    backend = instrumented(falkordb_backend, configure_metrics(tmp_path / "metrics"))
    stats = backend.write("UNWIND $rows AS r CREATE (:Probe {k: r})-[:LINKS]->(:Probe {k: r + 100})", {"rows": [1, 2, 3]}).stats
    assert (stats.nodes_created, stats.relationships_created) == (6, 3)
    values = samples(exposition(tmp_path / "metrics").decode())
    assert values["graph_batch_writes_total"] == 1
    assert values["graph_entities_written_total"] == 6 and values["graph_relationships_written_total"] == 3
    assert values["graph_batch_duration_seconds_count"] == 1 and values["graph_batch_duration_seconds_sum"] > 0
    assert backend.read("MATCH (p:Probe) RETURN count(p)") == [[6]]
    assert backend.location == falkordb_backend.location


def test_each_write_of_a_stream_is_counted_and_a_failed_one_is_not(falkordb_backend, tmp_path):
    backend = instrumented(falkordb_backend, configure_metrics(tmp_path / "metrics"))
    create = "UNWIND $rows AS r CREATE (:Probe {k: r})"
    writes = [(create, {"rows": [1, 2]}), (create, {"rows": [{"a": 1}]}), (create, {"rows": [3]})]  # a map: rejected
    outcomes = list(backend.write_stream(writes))
    assert [isinstance(o, Exception) for o in outcomes] == [False, True, False]
    values = samples(exposition(tmp_path / "metrics").decode())
    assert values["graph_batch_writes_total"] == 2 and values["graph_entities_written_total"] == 3
    assert backend.read("MATCH (p:Probe) RETURN count(p)") == [[3]]


def test_disabled_metrics_leave_the_writes_alone(falkordb_backend):
    backend = instrumented(falkordb_backend, NoMetrics())
    assert backend.write("CREATE (:Probe {k: 1})").stats.nodes_created == 1
