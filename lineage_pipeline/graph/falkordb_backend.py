"""FalkorDB backend: the ``falkordb`` client over a unix socket (embedded) or a redis URL (remote)."""

from typing import Any

import falkordb
from redis.exceptions import ResponseError

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import WriteStats


class FalkorDBBackend:
    """One named graph in a FalkorDB server. Each query is atomic on FalkorDB."""

    name = "falkordb"

    def __init__(self, db: falkordb.FalkorDB, graph_name: str, location: str):
        self._db = db
        self._graph = db.select_graph(graph_name)
        self.location = location

    def ensure_schema(self) -> None:
        existing = {(row[0], tuple(row[1])) for row in self._indexes()}
        for label, key in cypher.NODE_KEYS.items():
            if (label, (key,)) not in existing:
                self._graph.create_node_range_index(label, key)
            self._ignore_existing(lambda: self._graph.create_node_unique_constraint(label, key))
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
            if (rel_type, (cypher.RELATIONSHIP_INDEX_PROPERTY,)) not in existing:
                self._graph.create_edge_range_index(rel_type, cypher.RELATIONSHIP_INDEX_PROPERTY)

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

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteStats:
        result = self._graph.query(query, params)
        return WriteStats(
            nodes_created=int(result.nodes_created),
            nodes_deleted=int(result.nodes_deleted),
            relationships_created=int(result.relationships_created),
            relationships_deleted=int(result.relationships_deleted),
            properties_set=int(result.properties_set),
            transactions=1,
        )

    def close(self) -> None:
        self._db.connection.close()
