"""Neo4j backend: the official driver, managed transactions, configurable database."""

from collections.abc import Iterable, Iterator
from typing import Any

import neo4j

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import Write, WriteResult, WriteStats, applied_count, write_each


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

    def __init__(self, uri: str, user: str, password: str | None, database: str, timeout_s: float = 120.0):
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=(user, password or ""), connection_timeout=timeout_s, max_transaction_retry_time=timeout_s
        )
        self._database = database
        self._timeout_s = timeout_s
        self.location = f"{uri} (database {database})"

    def recover(self) -> None:
        """Nothing to do: the driver's pool drops broken connections and reconnects on the next write."""

    def ensure_schema(self) -> None:
        for statement in schema_statements():
            self._driver.execute_query(statement, database_=self._database)

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        records, _, _ = self._driver.execute_query(
            query, params or {}, database_=self._database, routing_=neo4j.RoutingControl.READ
        )
        return [list(record.values()) for record in records]

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteResult:
        @neo4j.unit_of_work(timeout=self._timeout_s)
        def work(tx: neo4j.ManagedTransaction) -> tuple[list[list[Any]], neo4j.SummaryCounters]:
            result = tx.run(query, params or {})
            records = [list(record.values()) for record in result]
            return records, result.consume().counters

        with self._driver.session(database=self._database) as session:
            records, counters = session.execute_write(work)
        stats = WriteStats(
            nodes_created=counters.nodes_created,
            nodes_deleted=counters.nodes_deleted,
            relationships_created=counters.relationships_created,
            relationships_deleted=counters.relationships_deleted,
            properties_set=counters.properties_set,
            transactions=1,
        )
        return WriteResult(stats, applied_count(records), records)

    def write_stream(self, writes: Iterable[Write]) -> Iterator[WriteResult | Exception]:
        """One managed transaction after the other (the driver's sessions do not pipeline)."""
        return write_each(self, writes)

    def close(self) -> None:
        self._driver.close()
