"""Open the configured graph store: embedded FalkorDB (default), a remote FalkorDB, or Neo4j."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import falkordb
import redis.exceptions
from pydantic import BaseModel, Field, SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.embedded_server import (
    EmbeddedServerError,
    ServerInfo,
    ensure_server,
    keep_aof_tail_short,
    kill_hung_server,
    server_status,
)
from lineage_pipeline.graph.falkordb_backend import FalkorDBBackend
from lineage_pipeline.graph.faults import (
    GraphStoreUnavailable,
    RetryPolicy,
    call_with_retry,
    one_line,
)
from lineage_pipeline.graph.neo4j_backend import Neo4jBackend
from lineage_pipeline.settings import IngestionSettings, knob_default


class GraphStoreConfig(BaseModel):
    """Where the lineage graph lives."""

    backend: Literal["falkordb", "neo4j"] = Field(default_factory=lambda: knob_default("graph_backend"))
    graph_name: str = Field(default_factory=lambda: knob_default("graph_name"))
    data_dir: Path
    falkordb_url: str | None = None
    neo4j_uri: str | None = None
    neo4j_user: str = Field(default_factory=lambda: knob_default("neo4j_user"))
    neo4j_password: SecretStr | None = None
    neo4j_database: str = Field(default_factory=lambda: knob_default("neo4j_database"))
    timeout_s: float = Field(default_factory=lambda: knob_default("graph_timeout_s"))
    """Longest a single query/transaction may take (socket read timeout, Neo4j transaction timeout)."""
    connect_timeout_s: float = Field(default_factory=lambda: knob_default("graph_connect_timeout_s"))
    """Longest one connection attempt may take (a blackholed host must not hang a run)."""
    retry_deadline_s: float = Field(default_factory=lambda: knob_default("write_retry_deadline_s"))
    """Opening the store (connect + schema) is retried until this deadline, then GraphStoreUnavailable."""


# The writer owns retries (with backoff and an embedded-server restart); the client must not add its own.
_NO_CLIENT_RETRY = Retry(NoBackoff(), 0)
_PROBE_TIMEOUT_S = 15.0
_START_TIMEOUT_S = 30.0
_HUNG_SERVER_RESTARTS = 2


log = logging.getLogger(__name__)

__all__ = ["GraphStoreConfig", "GraphStoreUnavailable", "graph_backend", "open_backend", "store_config_from_settings"]
# GraphStoreUnavailable lives in faults (GraphStoreDown/GraphStoreFull derive from it); it is re-exported
# here, where callers have always imported it from.


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _answers(info: ServerInfo, graph_name: str) -> bool:
    """Whether the server answers a graph command within ``_PROBE_TIMEOUT_S`` (an error reply counts).

    The probe is a GRAPH.QUERY, which creates the graph if it is missing: that creation is where a fresh
    server deadlocks (``_answering_server``), and a read-only probe (which refuses a missing graph
    without creating it) let such a server through to hang the schema bootstrap for ``timeout_s``."""
    probe = None
    try:
        # the client constructor already talks to the server
        probe = falkordb.FalkorDB(
            unix_socket_path=str(info.socket_path), retry=_NO_CLIENT_RETRY, socket_timeout=_PROBE_TIMEOUT_S
        )
        probe.select_graph(graph_name).query("RETURN 1")
        return True
    except redis.exceptions.TimeoutError:
        return False
    except redis.exceptions.ResponseError:
        return True
    finally:
        if probe is not None:
            probe.connection.close()


def _answering_server(data_dir: Path, graph_name: str) -> ServerInfo:
    """The embedded server, replaced when it is alive but silent.

    FalkorDB 4.16 occasionally deadlocks on a global lock when a fresh server creates its first graph
    (seen in CI: main thread blocked in Globals_AddGraph); such a server never answers again, so it is
    killed and started again instead of failing the run after a long socket timeout.  A server still
    loading its data answers (``LOADING``) and is left alone.
    """
    for attempt in range(_HUNG_SERVER_RESTARTS + 1):
        last = attempt == _HUNG_SERVER_RESTARTS
        try:
            info = ensure_server(data_dir, timeout_s=_START_TIMEOUT_S)
        except EmbeddedServerError:
            silent = server_status(data_dir)
            if last or silent is None or _answers(silent, graph_name):
                raise
            kill_hung_server(data_dir, silent)
            continue
        if _answers(info, graph_name):
            return info
        if not last:
            kill_hung_server(data_dir, info)
    raise GraphStoreUnavailable(
        f"embedded FalkorDB at {info.socket_path} (pid {info.pid}) does not answer graph commands within "
        f"{_PROBE_TIMEOUT_S:g}s, even after {_HUNG_SERVER_RESTARTS} restarts; see its redis.log under {data_dir}"
    )


def _scrubbed(message: str, config: GraphStoreConfig) -> str:
    """``message`` without the configured password, wherever a driver may have quoted it."""
    secrets = [config.neo4j_password.get_secret_value() if config.neo4j_password else None]
    secrets += [urlsplit(url).password for url in (config.neo4j_uri, config.falkordb_url) if url]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***")
    return message


def store_location(config: GraphStoreConfig) -> str:
    """Where ``config`` points, for messages: never a password."""
    if config.backend == "neo4j":
        return f"{_redacted(config.neo4j_uri or '')} (database {config.neo4j_database})"
    if config.falkordb_url:
        return f"{_redacted(config.falkordb_url)} graph {config.graph_name}"
    return f"embedded FalkorDB in {config.data_dir} graph {config.graph_name}"


def _backend_factory(config: GraphStoreConfig) -> Callable[[], GraphBackend]:
    if config.backend == "neo4j":
        if not config.neo4j_uri:
            raise GraphStoreUnavailable("graph backend is neo4j but no neo4j_uri (LINEAGE_NEO4J_URI) is set")
        uri = config.neo4j_uri
        password = config.neo4j_password.get_secret_value() if config.neo4j_password else None
        return lambda: Neo4jBackend(
            uri, config.neo4j_user, password, config.neo4j_database, config.timeout_s, config.connect_timeout_s,
            location=store_location(config),
        )
    if config.falkordb_url:
        url = config.falkordb_url

        def remote() -> tuple[falkordb.FalkorDB, str]:
            client = falkordb.FalkorDB.from_url(
                url, retry=_NO_CLIENT_RETRY, socket_timeout=config.timeout_s, socket_connect_timeout=config.connect_timeout_s
            )
            return client, store_location(config)

        return lambda: FalkorDBBackend(remote, config.graph_name)

    def embedded() -> tuple[falkordb.FalkorDB, str]:
        # ensure_server restarts a server that died (e.g. kill -9) before handing out a client
        info = _answering_server(config.data_dir, config.graph_name)
        client = falkordb.FalkorDB(
            unix_socket_path=str(info.socket_path), retry=_NO_CLIENT_RETRY, socket_timeout=config.timeout_s,
            socket_connect_timeout=config.connect_timeout_s,
        )
        location = f"embedded FalkorDB at {info.socket_path} (pid {info.pid}) graph {config.graph_name}"
        return client, location

    return lambda: FalkorDBBackend(embedded, config.graph_name, maintenance=keep_aof_tail_short)


def open_backend(config: GraphStoreConfig) -> GraphBackend:
    """A connected backend with its schema in place.

    Connecting and the schema bootstrap go through the retry layer with ``config.retry_deadline_s``;
    a store still unusable then raises GraphStoreUnavailable: one line naming the store (no password)
    and the last error.
    """
    factory = _backend_factory(config)
    location = store_location(config)
    opened: list[GraphBackend] = []

    def attempt() -> None:
        if not opened:
            opened.append(factory())
        opened[0].ensure_schema()

    def recover() -> None:
        if opened:
            opened[0].recover()

    def on_retry(error: BaseException, delay: float) -> None:
        log.warning("graph store %s: %s; retry in %.2fs", location, one_line(error), delay)

    try:
        call_with_retry(attempt, RetryPolicy(deadline_s=config.retry_deadline_s), recover, on_retry, location=location)
    except Exception as error:
        if opened:
            opened[0].close()
        if isinstance(error, GraphStoreUnavailable):
            raise type(error)(_scrubbed(str(error), config)) from error.__cause__
        raise GraphStoreUnavailable(_scrubbed(f"cannot use graph store {location}: {one_line(error)}", config)) from error
    return opened[0]


@contextmanager
def graph_backend(config: GraphStoreConfig) -> Iterator[GraphBackend]:
    """``open_backend`` as a context manager that always closes."""
    backend = open_backend(config)
    try:
        yield backend
    finally:
        backend.close()


def store_config_from_settings(settings: IngestionSettings) -> GraphStoreConfig:
    """The graph store the project settings describe."""
    return GraphStoreConfig(
        backend=settings.graph_backend,
        graph_name=settings.graph_name,
        data_dir=settings.data_dir,
        falkordb_url=settings.falkordb_url,
        neo4j_uri=settings.neo4j_uri,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        neo4j_database=settings.neo4j_database,
        timeout_s=settings.graph_timeout_s,
        connect_timeout_s=settings.graph_connect_timeout_s,
        retry_deadline_s=settings.write_retry_deadline_s,
    )


def retry_policy_from_settings(settings: IngestionSettings) -> RetryPolicy:
    """The retry policy of graph writes and reads the project settings describe."""
    return RetryPolicy(
        max_retries=settings.write_max_retries,
        base_delay_s=settings.write_retry_base_delay_s,
        deadline_s=settings.write_retry_deadline_s,
    )
