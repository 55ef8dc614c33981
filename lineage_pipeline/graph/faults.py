"""Which graph-store errors are worth retrying, and the retry loop with exponential backoff.

Transient: the store is (momentarily) unreachable, restarting, overloaded or deadlocked — the same
write will succeed later. Everything else a write raises is a property of its rows (constraint
violation, rejected value) and is isolated by splitting the batch, except statement errors
(syntax, authentication, permission), which no row can fix and which fail the run at once.
"""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import neo4j.exceptions as neo4j_errors
import redis.exceptions as redis_errors

from lineage_pipeline.graph.embedded_server import EmbeddedServerError

T = TypeVar("T")

_TRANSIENT_REDIS_MESSAGES = ("loading", "timed out", "timeout", "masterdown", "tryagain", "busy")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a transient failure ``max_retries`` times, waiting ``base_delay_s * 2**attempt`` between tries."""

    max_retries: int = 5
    base_delay_s: float = 1.0

    def delays(self) -> list[float]:
        return [self.base_delay_s * 2**attempt for attempt in range(self.max_retries)]


class GraphStoreDown(RuntimeError):
    """A write still failed transiently after every retry; the run fails and a re-run resumes it."""


class RowsNotApplied(RuntimeError):
    """A statement matched fewer rows than it was given (an endpoint node is missing); never silent."""


def is_transient(error: BaseException) -> bool:
    """True if retrying the same idempotent write later can succeed."""
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
    return not isinstance(error, (redis_errors.ResponseError, neo4j_errors.Neo4jError, RowsNotApplied))


def call_with_retry(
    operation: Callable[[], T],
    policy: RetryPolicy,
    recover: Callable[[], None],
    on_retry: Callable[[BaseException, float], None] = lambda error, delay: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``operation()``, retried after transient errors with backoff; ``recover()`` reconnects before each retry.

    Raises GraphStoreDown (chained to the last error) when the retries are used up; non-transient
    errors propagate unchanged on the first occurrence.
    """
    delays = policy.delays()
    for delay in [*delays, None]:
        try:
            return operation()
        except Exception as error:
            if not is_transient(error):
                raise
            if delay is None:
                raise GraphStoreDown(
                    f"graph store still failing after {len(delays)} retries: {type(error).__name__}: {error}"
                ) from error
            on_retry(error, delay)
            sleep(delay)
            try:
                recover()
            except Exception as recover_error:
                if not is_transient(recover_error):
                    raise
