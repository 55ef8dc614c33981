"""Which graph-store errors are worth retrying, and the retry loop with exponential backoff.

Transient: the store is (momentarily) unreachable, restarting, overloaded, deadlocked or out of
space - the same write will succeed later. Everything else a write raises is a property of its rows (constraint
violation, rejected value) and is isolated by splitting the batch, except statement errors
(syntax, authentication, permission), which no row can fix and which fail the run at once.

A batch that breaks the connection each time it is written while the store comes back in between
(it crashes the server) is a row error too (``ConnectionLostOnBatch``): retrying it as transient
would only crash the server until the deadline and fail every innocent row with it.
"""

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import neo4j.exceptions as neo4j_errors
import redis.exceptions as redis_errors

from lineage_pipeline.graph.embedded_server import EmbeddedServerError
from lineage_pipeline.graph.keys import InvalidKeyError
from lineage_pipeline.settings import knob_default

T = TypeVar("T")

_TRANSIENT_REDIS_MESSAGES = ("loading", "timed out", "timeout", "masterdown", "tryagain", "busy")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a transient failure ``max_retries`` times, waiting ``base_delay_s * 2**attempt`` (at most
    ``max_delay_s``) between tries, and give up once ``deadline_s`` have passed since the first failure
    (0: no deadline): an outage ends the run within the deadline, however the retries add up.

    This is the only retry layer: the store clients are built with their own retries off
    (``connect.open_backend``), so a failure is never retried inside a retry.
    """

    max_retries: int = field(default_factory=lambda: knob_default("write_max_retries"))
    base_delay_s: float = field(default_factory=lambda: knob_default("write_retry_base_delay_s"))
    deadline_s: float = field(default_factory=lambda: knob_default("write_retry_deadline_s"))
    max_delay_s: float = 8.0

    def delays(self) -> list[float]:
        return [min(self.base_delay_s * 2**attempt, self.max_delay_s) for attempt in range(self.max_retries)]


DEFAULT_RETRY = RetryPolicy()
"""The policy of callers given none (a module-level value: a dataclass default argument is shared anyway)."""


class GraphStoreUnavailable(RuntimeError):
    """The graph store cannot be used; the message is one line naming the store (never its password)
    and why, fit for a CLI to print as is."""


class GraphStoreDown(GraphStoreUnavailable):
    """A call still failed transiently after every retry or past the deadline; a re-run resumes it."""


class GraphStoreFull(GraphStoreDown):
    """The store cannot persist writes (its disk or memory is full); free space and re-run. Not a
    property of any row: nothing is dead-lettered for it."""


class ConnectionLostOnBatch(RuntimeError):
    """The store dropped the connection every time this batch was written and came back each time in
    between: the batch itself most likely crashes the server. A row error: the batch is split and a
    single row doing this is dead-lettered, so innocent rows still get written."""


class RowsNotApplied(RuntimeError):
    """A statement matched fewer rows than it was given (an endpoint node is missing); never silent."""


_STORAGE_FULL_MESSAGES = ("misconf", "oom ", "no space left on device", "disk full")
"""Redis refuses writes with MISCONF once it cannot write its AOF/RDB (e.g. ENOSPC) and with OOM at
maxmemory; Neo4j reports ENOSPC in the error text."""


def is_storage_full(error: BaseException) -> bool:
    """True if the store refused the write because it cannot persist it (disk or memory full)."""
    if isinstance(error, (redis_errors.ResponseError, neo4j_errors.Neo4jError, OSError)):
        text = str(error).lower()
        return text.startswith(_STORAGE_FULL_MESSAGES[:2]) or any(m in text for m in _STORAGE_FULL_MESSAGES[2:])
    return False


def is_connection_lost(error: BaseException) -> bool:
    """True if the connection broke during the request (as when the server dies mid-query), as
    opposed to the store being unreachable or slow."""
    if isinstance(error, redis_errors.TimeoutError):
        return False
    if isinstance(error, redis_errors.ConnectionError):
        return "connecting to" not in str(error).lower()  # redis-py's connect failures say so
    return isinstance(
        error, (neo4j_errors.SessionExpired, neo4j_errors.IncompleteCommit, ConnectionResetError, BrokenPipeError)
    )


_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s'\"]*@", re.IGNORECASE)


def one_line(error: BaseException, limit: int = 500) -> str:
    """``Type: message`` on one line, cut at ``limit`` characters (driver messages can be long and
    multi-line), with any ``user:password@`` of a URL it quotes removed (the Neo4j driver quotes the URI)."""
    text = _URL_USERINFO.sub(r"\1", " ".join(f"{type(error).__name__}: {error}".split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def retrying_read(
    backend, query: str, params: dict | None = None, policy: RetryPolicy = DEFAULT_RETRY
) -> list[list]:
    """``backend.read`` through the retry layer, for callers outside the writer (queries, checks)."""
    return call_with_retry(lambda: backend.read(query, params), policy, backend.recover, location=backend.location)


def is_transient(error: BaseException) -> bool:
    """True if retrying the same idempotent write later can succeed (storage full included: space may
    be freed, and no row is to blame)."""
    if is_storage_full(error):
        return True
    if isinstance(error, (redis_errors.AuthenticationError, redis_errors.AuthorizationError)):
        return False
    if isinstance(error, (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.TryAgainError)):
        return True
    if isinstance(error, redis_errors.ResponseError):
        return str(error).lower().startswith(_TRANSIENT_REDIS_MESSAGES) or "timed out" in str(error).lower()
    # IncompleteCommit may or may not have committed; every write here is idempotent, so retry it.
    if isinstance(error, (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, neo4j_errors.TransientError)):
        return True
    if isinstance(error, neo4j_errors.ConnectionAcquisitionTimeoutError):
        return True
    if isinstance(error, (neo4j_errors.Neo4jError, neo4j_errors.DriverError)):
        return error.is_retryable()
    if isinstance(error, EmbeddedServerError):
        return True  # e.g. the restarted server is still loading its data
    return isinstance(error, (ConnectionError, TimeoutError, socket.timeout, FileNotFoundError, BrokenPipeError))


def is_statement_error(error: BaseException) -> bool:
    """True if the statement itself cannot run (no row is to blame): never dead-letter, fail the run."""
    if isinstance(error, (neo4j_errors.CypherSyntaxError, neo4j_errors.AuthError, neo4j_errors.Forbidden)):
        return True
    if isinstance(error, (redis_errors.AuthenticationError, redis_errors.AuthorizationError, redis_errors.NoPermissionError)):
        return True
    if isinstance(error, GraphStoreUnavailable):
        return True  # the store, not a row: the run fails (a re-run resumes)
    return not isinstance(
        error, (redis_errors.ResponseError, neo4j_errors.Neo4jError, RowsNotApplied, ConnectionLostOnBatch, InvalidKeyError)
    )


def call_with_retry(
    operation: Callable[[], T],
    policy: RetryPolicy,
    recover: Callable[[], None],
    on_retry: Callable[[BaseException, float], None] = lambda error, delay: None,
    sleep: Callable[[float], None] = time.sleep,
    *,
    location: str = "graph store",
    lost_connection_limit: int = 0,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``operation()``, retried after transient errors with backoff; ``recover()`` reconnects before each retry.

    Gives up with GraphStoreDown (GraphStoreFull when the store cannot persist), one line naming
    ``location``, chained to the last error, when the retries are used up or the next try would start
    after ``policy.deadline_s`` (counted from the first try; so the whole call takes at most the
    deadline plus one try, whose length the client timeouts bound). Non-transient errors propagate
    unchanged on the first occurrence.

    ``lost_connection_limit`` (0: off): raise ConnectionLostOnBatch once the connection broke mid-request
    that many times in a row with the store back (``recover()`` succeeded) before each try; for writes
    of a batch the writer can split.
    """
    delays = policy.delays()
    started = clock()  # the deadline counts from the first try: a slow failing connect uses it up too
    lost = 0
    recovered = False
    for attempts, delay in enumerate([*delays, None], start=1):
        try:
            return operation()
        except Exception as error:
            if not is_transient(error):
                raise
            now = clock()
            # a loss counts towards the limit only if the store had come back before the try
            lost = lost + 1 if is_connection_lost(error) and (attempts == 1 or recovered) else 0
            if lost_connection_limit and lost >= lost_connection_limit:
                raise ConnectionLostOnBatch(
                    f"{location} dropped the connection {lost} times while writing this batch and was back "
                    f"each time: {one_line(error)}"
                ) from error
            past_deadline = policy.deadline_s > 0 and delay is not None and now - started + delay > policy.deadline_s
            if delay is None or past_deadline:
                full = is_storage_full(error)
                kind = GraphStoreFull if full else GraphStoreDown
                why = "cannot persist writes (disk or memory full?); free space and re-run" if full else "unavailable"
                raise kind(
                    f"{location} {why}: gave up after {attempts} attempt(s) in {now - started:.1f}s "
                    f"(deadline {policy.deadline_s:g}s): {one_line(error)}"
                ) from error
            on_retry(error, delay)
            sleep(delay)
            try:
                recover()
                recovered = True
            except Exception as recover_error:
                recovered = False
                if not is_transient(recover_error):
                    raise
    raise AssertionError("unreachable")  # the last pass either returns or raises
