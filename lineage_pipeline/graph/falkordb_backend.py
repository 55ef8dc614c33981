"""FalkorDB backend: the ``falkordb`` client over a unix socket (embedded) or a redis URL (remote)."""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import falkordb
from falkordb.query_result import QueryResult
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import (
    Write,
    WriteResult,
    WriteStats,
    applied_count,
    write_each,
)
from lineage_pipeline.graph.cypher_params import params_header

Connector = Callable[[], tuple[falkordb.FalkorDB, str]]
"""Opens a client and says where it points (the embedded server's pid changes after a restart)."""

_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
"""Failures that lose every reply still owed on the connection, not just one write's."""

_IN_FLIGHT = object()
"""A pipelined write whose reply has not been read yet."""

MAINTAIN_EVERY = 16
"""Writes between two calls of the backend's ``maintenance`` (an INFO round trip, ~0.1 ms)."""

Maintenance = Callable[[falkordb.FalkorDB], object]


class FalkorDBBackend:
    """One named graph in a FalkorDB server. Each query is atomic on FalkorDB (a failed one is rolled back)."""

    name = "falkordb"

    def __init__(self, connector: Connector, graph_name: str, maintenance: Maintenance | None = None):
        """``maintenance`` is called with the client every ``MAINTAIN_EVERY`` writes (the embedded server's
        ``keep_aof_tail_short``); its failures are ignored: the writes report the server's state."""
        self._connector = connector
        self._graph_name = graph_name
        self._maintenance = maintenance
        self._writes = 0
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
                self._ignore_existing(lambda label=label, key=key: self._graph.create_node_range_index(label, key))
            self._ignore_existing(lambda label=label, key=key: self._graph.create_node_unique_constraint(label, key))
        for label, prop in cypher.NODE_INDEXES.items():
            if (label, prop) not in existing:
                self._ignore_existing(lambda label=label, prop=prop: self._graph.create_node_range_index(label, prop))
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
            if (rel_type, cypher.RELATIONSHIP_INDEX_PROPERTY) not in existing:
                self._ignore_existing(
                    lambda rel_type=rel_type: self._graph.create_edge_range_index(rel_type, cypher.RELATIONSHIP_INDEX_PROPERTY)
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
        return self._graph.ro_query(params_header(params) + query).result_set

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteResult:
        self._maintain()
        return self._write_result(self._graph.query(params_header(params) + query))

    def _maintain(self) -> None:
        self._writes += 1
        if self._maintenance is None or self._writes % MAINTAIN_EVERY:
            return
        try:
            self._maintenance(self._db)
        except (*_CONNECTION_ERRORS, ResponseError):
            pass

    def write_stream(self, writes: Iterable[Write]) -> Iterator[WriteResult | Exception]:
        """Pipelined on one connection: write N+1 is encoded and sent before write N's reply is read, so
        the client's encoding overlaps the server's work (the server still runs them one by one, in
        order). A connection failure is the outcome of every write in flight; the rest then go one at a
        time through ``write``. No connection at all (server down): that error is every write's outcome,
        so the caller's retry layer, not this generator, decides what happens next."""
        pool = self._db.connection.connection_pool
        try:
            connection = pool.get_connection()  # connects: fails while the server is down
        except Exception as error:  # noqa: BLE001 - the outcome of every write, never raised (the Protocol)
            for _ in writes:
                yield error
            return
        outcomes: deque[object] = deque()  # per write, in order: _IN_FLIGHT or its known outcome
        broken = False

        def oldest() -> WriteResult | Exception:
            nonlocal broken
            outcome = self._oldest_outcome(connection, outcomes)
            broken = broken or (isinstance(outcome, _CONNECTION_ERRORS) and _lose(connection, outcomes, outcome))
            return outcome

        try:
            for query, params in writes:
                if broken:
                    outcomes.extend(write_each(self, [(query, params)]))
                else:
                    self._maintain()
                    sent = self._send(connection, query, params)
                    outcomes.append(sent)
                    broken = isinstance(sent, _CONNECTION_ERRORS) and _lose(connection, outcomes, sent)
                while outcomes and (outcomes[0] is not _IN_FLIGHT or outcomes.count(_IN_FLIGHT) > 1):
                    yield oldest()
            while outcomes:
                yield oldest()
        finally:
            if broken or _IN_FLIGHT in outcomes:
                connection.disconnect()  # a reply still owed would be read by the connection's next user
            pool.release(connection)

    def _send(self, connection, query: str, params: dict[str, Any]) -> object:
        """``_IN_FLIGHT`` once sent, else the error: an unencodable row fails its write only."""
        try:
            text = params_header(params) + query
            connection.send_command("GRAPH.QUERY", self._graph.name, text, "--compact")
        except Exception as error:  # noqa: BLE001 - this write's outcome, not the stream's
            return error
        return _IN_FLIGHT

    def _oldest_outcome(self, connection, outcomes: deque) -> WriteResult | Exception:
        """The oldest write's outcome, reading its reply if it is owed; an error reply fails that write only."""
        outcome = outcomes.popleft()
        if outcome is not _IN_FLIGHT:
            return outcome
        try:
            return self._write_result(QueryResult(self._graph, connection.read_response()))
        except Exception as error:  # noqa: BLE001 - this write's outcome, not the stream's
            return error

    @staticmethod
    def _write_result(result: QueryResult) -> WriteResult:
        stats = WriteStats(
            nodes_created=int(result.nodes_created),
            nodes_deleted=int(result.nodes_deleted),
            relationships_created=int(result.relationships_created),
            relationships_deleted=int(result.relationships_deleted),
            properties_set=int(result.properties_set),
            transactions=1,
        )
        return WriteResult(stats, applied_count(result.result_set), result.result_set)

    def close(self) -> None:
        self._db.connection.close()


def _lose(connection, outcomes: deque, error: Exception) -> bool:
    """The connection failed with ``error``: every reply still owed on it is lost, so each write in
    flight fails with it. Returns True (the stream is broken)."""
    for index, pending in enumerate(outcomes):
        if pending is _IN_FLIGHT:
            outcomes[index] = error
    connection.disconnect()
    return True
