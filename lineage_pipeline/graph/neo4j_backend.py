"""Neo4j backend: the official driver, managed transactions, configurable database."""

from typing import Any

import neo4j

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import WriteStats


def schema_statements() -> list[str]:
    """Neo4j DDL for the graph model: unique node keys, relationship file indexes."""
    statements = [
        f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        for label, key in cypher.NODE_KEYS.items()
    ]
    statements += [
        f"CREATE INDEX {rel_type.lower()}_file IF NOT EXISTS "
        f"FOR ()-[e:{rel_type}]-() ON (e.{cypher.RELATIONSHIP_INDEX_PROPERTY})"
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS
    ]
    return statements


class Neo4jBackend:
    """A Neo4j database reached with the official driver."""

    name = "neo4j"

    def __init__(self, uri: str, user: str, password: str | None, database: str):
        self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password or ""))
        self._database = database
        self.location = f"{uri} (database {database})"

    def ensure_schema(self) -> None:
        for statement in schema_statements():
            self._driver.execute_query(statement, database_=self._database)

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        records, _, _ = self._driver.execute_query(
            query, params or {}, database_=self._database, routing_=neo4j.RoutingControl.READ
        )
        return [list(record.values()) for record in records]

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteStats:
        def work(tx: neo4j.ManagedTransaction) -> neo4j.SummaryCounters:
            return tx.run(query, params or {}).consume().counters

        with self._driver.session(database=self._database) as session:
            counters = session.execute_write(work)
        return WriteStats(
            nodes_created=counters.nodes_created,
            nodes_deleted=counters.nodes_deleted,
            relationships_created=counters.relationships_created,
            relationships_deleted=counters.relationships_deleted,
            properties_set=counters.properties_set,
            transactions=1,
        )

    def close(self) -> None:
        self._driver.close()
