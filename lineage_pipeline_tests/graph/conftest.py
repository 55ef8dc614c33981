"""Graph-store fixtures: the integration suite runs on the embedded FalkorDB always, and on Neo4j
when ``NEO4J_URI`` (+ ``NEO4J_USER``/``NEO4J_PASSWORD``) points at a server (skipped otherwise).

The Neo4j database is wiped before and after each test: point ``NEO4J_URI`` at a scratch database.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import falkordb
import pytest
from pydantic import SecretStr

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline_tests.small_fs import mounted_tmpfs


def pytest_configure(config):
    # registered by the project's pytest settings on main; repeated here so this suite runs on its own
    config.addinivalue_line(
        "markers", "integration: starts a real process (graph server, command); deselect with -m 'not integration'"
    )


NEO4J_SKIP_REASON = "Neo4j integration tests need NEO4J_URI (+ NEO4J_USER/NEO4J_PASSWORD) set"


@dataclass
class Store:
    """A backend under test plus what a test needs to force faults on it."""

    backend: GraphBackend
    config: GraphStoreConfig

    def _falkor_graph(self):
        info = server_status(self.config.data_dir)
        return falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).select_graph(self.config.graph_name)

    def forbid_duplicate_table_names(self) -> None:
        """A unique constraint on Table.name: the store now rejects a second table with the same short name."""
        if self.config.backend == "neo4j":
            self.backend.write("CREATE CONSTRAINT test_table_name IF NOT EXISTS FOR (t:Table) REQUIRE t.name IS UNIQUE")
            return
        graph = self._falkor_graph()
        graph.create_node_range_index("Table", "name")
        graph.create_node_unique_constraint("Table", "name")
        deadline = time.monotonic() + 30
        while any(row[4] != "OPERATIONAL" for row in graph.query("CALL db.constraints()").result_set):
            assert time.monotonic() < deadline, "constraint never became operational"
            time.sleep(0.05)

    def allow_duplicate_table_names(self) -> None:
        """Fix the cause: drop that constraint."""
        if self.config.backend == "neo4j":
            self.backend.write("DROP CONSTRAINT test_table_name IF EXISTS")
            return
        self._falkor_graph().drop_node_unique_constraint("Table", "name")

    def wipe(self) -> None:
        self.backend.write("MATCH (n) DETACH DELETE n")


def _neo4j_config(tmp_path: Path) -> GraphStoreConfig:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        pytest.skip(NEO4J_SKIP_REASON)  # only when NEO4J_URI is unset: no Neo4j server can run here
    password = os.environ.get("NEO4J_PASSWORD")
    return GraphStoreConfig(
        backend="neo4j",
        data_dir=tmp_path,
        neo4j_uri=uri,
        neo4j_user=os.environ.get("NEO4J_USER", "neo4j"),
        neo4j_password=SecretStr(password) if password else None,
        neo4j_database=os.environ.get("NEO4J_DATABASE", "neo4j"),
    )


@pytest.fixture(params=["falkordb", "neo4j"])
def store(request, tmp_path: Path):
    """The same tests on each backend: a real embedded FalkorDB, and Neo4j when configured."""
    if request.param == "neo4j":
        config = _neo4j_config(tmp_path)
    else:
        config = GraphStoreConfig(data_dir=tmp_path / "graph-data", graph_name="test")
    backend = open_backend(config)
    subject = Store(backend, config)
    if config.backend == "neo4j":
        subject.wipe()
    yield subject
    if config.backend == "neo4j":
        subject.allow_duplicate_table_names()
        subject.wipe()
    backend.close()
    stop_server(config.data_dir)


@pytest.fixture
def small_fs(tmp_path: Path):
    """A real 16 MB filesystem (tmpfs) to fill up: writes on it fail with ENOSPC like on a full disk."""
    with mounted_tmpfs(tmp_path / "small-fs", 16) as mount_point:
        yield mount_point
        stop_server(mount_point / "graph-data")
