"""Spec of graph.connect: each configured store opens with its schema, secrets stay out of locations,
a misconfigured store is a clear error."""

import os
import signal
import time

import psutil
import pytest
from pydantic import SecretStr

from lineage_pipeline.graph import connect
from lineage_pipeline.graph.connect import (
    GraphStoreConfig,
    GraphStoreUnavailable,
    graph_backend,
)
from lineage_pipeline.graph.embedded_server import (
    ensure_server,
    server_status,
    stop_server,
)


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
    config = GraphStoreConfig(backend="neo4j", data_dir=tmp_path)
    with pytest.raises(GraphStoreUnavailable, match="no neo4j_uri"), graph_backend(config):
        pass


def test_unreachable_neo4j_fails_within_the_deadline_in_one_line_naming_the_store_not_the_password(tmp_path):
    """On main the driver's own retries (``timeout_s``, 120 s by default) ran inside the caller's."""
    config = GraphStoreConfig(
        backend="neo4j", data_dir=tmp_path, neo4j_uri="bolt://127.0.0.1:1", neo4j_password=SecretStr("hunter2"),
        retry_deadline_s=3,
    )
    started = time.monotonic()
    with pytest.raises(GraphStoreUnavailable) as raised, graph_backend(config):
        pass
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "bolt://127.0.0.1:1" in message and "hunter2" not in message and "\n" not in message
    assert "gave up after" in message, "retried until the deadline, not failed on the first refusal"


def test_neo4j_credentials_in_the_uri_never_reach_the_message(tmp_path):
    uri = "bolt://admin:s3cret@127.0.0.1:1"
    config = GraphStoreConfig(backend="neo4j", data_dir=tmp_path, neo4j_uri=uri, retry_deadline_s=0.5)
    with pytest.raises(GraphStoreUnavailable) as raised, graph_backend(config):
        pass
    assert "s3cret" not in str(raised.value) and "127.0.0.1:1" in str(raised.value)


def test_embedded_server_that_stops_answering_is_replaced_and_keeps_its_data(tmp_path, monkeypatch):
    # SIGSTOP makes a real server hang the way FalkorDB's first-graph deadlock does: alive, silent
    monkeypatch.setattr(connect, "_PROBE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(connect, "_START_TIMEOUT_S", 3.0)
    config = GraphStoreConfig(data_dir=tmp_path / "graph", graph_name="g")
    with graph_backend(config) as backend:
        backend.write("MERGE (:Table {key: 'dw.kept'})")
    hung = server_status(config.data_dir)
    os.kill(hung.pid, signal.SIGSTOP)
    try:
        with graph_backend(config) as backend:
            assert backend.read("MATCH (t:Table) RETURN t.key") == [["dw.kept"]]
        assert server_status(config.data_dir).pid != hung.pid
        assert not psutil.pid_exists(hung.pid) or psutil.Process(hung.pid).status() == psutil.STATUS_ZOMBIE
    finally:
        if psutil.pid_exists(hung.pid):
            os.kill(hung.pid, signal.SIGKILL)
        stop_server(config.data_dir)
