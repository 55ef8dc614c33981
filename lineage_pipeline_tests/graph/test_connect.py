"""Spec of graph.connect: each configured store opens with its schema, secrets stay out of locations,
a misconfigured store is a clear error."""

import pytest
from pydantic import SecretStr

from lineage_pipeline.graph.connect import GraphStoreConfig, GraphStoreUnavailable, graph_backend
from lineage_pipeline.graph.embedded_server import ensure_server, stop_server


def test_remote_falkordb_url_is_used_and_its_password_never_shown(tmp_path):
    info = ensure_server(tmp_path)
    try:
        url = f"unix://:s3cret@{info.socket_path}"
        with graph_backend(GraphStoreConfig(data_dir=tmp_path / "unused", falkordb_url=url, graph_name="remote")) as backend:
            backend.write("MERGE (:Table {key: 'a.t'})")
            assert backend.read("MATCH (t:Table) RETURN t.key") == [["a.t"]]
            assert "s3cret" not in backend.location and "graph remote" in backend.location
            backend.recover()
            assert backend.read("MATCH (t:Table) RETURN count(t)") == [[1]]
        assert not (tmp_path / "unused").exists(), "no embedded server started for a remote store"
    finally:
        stop_server(tmp_path)


def test_neo4j_without_uri_is_a_clear_error(tmp_path):
    with pytest.raises(GraphStoreUnavailable, match="no neo4j_uri"):
        with graph_backend(GraphStoreConfig(backend="neo4j", data_dir=tmp_path)):
            pass


def test_unreachable_neo4j_names_the_store_not_the_password(tmp_path):
    config = GraphStoreConfig(
        backend="neo4j", data_dir=tmp_path, neo4j_uri="bolt://127.0.0.1:1", neo4j_password=SecretStr("hunter2"), timeout_s=2
    )
    with pytest.raises(GraphStoreUnavailable) as raised:
        with graph_backend(config):
            pass
    assert "bolt://127.0.0.1:1" in str(raised.value) and "hunter2" not in str(raised.value)
