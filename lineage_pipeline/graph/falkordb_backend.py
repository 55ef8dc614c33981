"""FalkorDB backend: the ``falkordb`` client over a unix socket (embedded) or a redis URL (remote)."""

from collections.abc import Callable
from typing import Any

import falkordb
from redis.exceptions import ResponseError

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import WriteResult, WriteStats, applied_count

Connector = Callable[[], tuple[falkordb.FalkorDB, str]]
"""Opens a client and says where it points (the embedded server's pid changes after a restart)."""


class FalkorDBBackend:
    """One named graph in a FalkorDB server. Each query is atomic on FalkorDB (a failed one is rolled back)."""

    name = "falkordb"

    def __init__(self, connector: Connector, graph_name: str):
        self._connector = connector
        self._graph_name = graph_name
        self._open()

    def _open(self) -> None:
        self._db, self.location = self._connector()
        self._graph = self._db.select_graph(self._graph_name)

    def recover(self) -> None:
        self.close()
        self._open()

    def ensure_schema(self) -> None:
        # db.indexes() lists one row per label with all its indexed properties (others may add some)
        existing = {(row[0], prop) for row in self._indexes() for prop in row[1]}
        for label, key in cypher.NODE_KEYS.items():
            if (label, key) not in existing:
                self._ignore_existing(lambda: self._graph.create_node_range_index(label, key))
            self._ignore_existing(lambda: self._graph.create_node_unique_constraint(label, key))
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
            if (rel_type, cypher.RELATIONSHIP_INDEX_PROPERTY) not in existing:
                self._ignore_existing(
                    lambda: self._graph.create_edge_range_index(rel_type, cypher.RELATIONSHIP_INDEX_PROPERTY)
                )

    def _indexes(self) -> list[list[Any]]:
        try:
            return self._graph.query("CALL db.indexes() YIELD label, properties RETURN label, properties").result_set
        except ResponseError as error:
            if "empty key" in str(error).lower() or "invalid graph" in str(error).lower():
                return []
            raise

    @staticmethod
    def _ignore_existing(create) -> None:
        try:
            create()
        except ResponseError as error:
            if "already" not in str(error).lower():
                raise

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self._graph.ro_query(query, params).result_set

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteResult:
        result = self._graph.query(query, params)
        stats = WriteStats(
            nodes_created=int(result.nodes_created),
            nodes_deleted=int(result.nodes_deleted),
            relationships_created=int(result.relationships_created),
            relationships_deleted=int(result.relationships_deleted),
            properties_set=int(result.properties_set),
            transactions=1,
        )
        return WriteResult(stats, applied_count(result.result_set))

    def close(self) -> None:
        self._db.connection.close()
