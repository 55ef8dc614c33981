"""Spec of graph.faults: which errors are transient (with the drivers' own exception types) and the
retry loop's backoff, recovery and give-up behaviour."""

import neo4j.exceptions as neo4j_errors
import pytest
import redis.exceptions as redis_errors

from lineage_pipeline.graph.embedded_server import EmbeddedServerError
from lineage_pipeline.graph.faults import (
    GraphStoreDown,
    RetryPolicy,
    RowsNotApplied,
    call_with_retry,
    is_statement_error,
    is_transient,
)

TRANSIENT = [
    neo4j_errors.ServiceUnavailable("connection refused"),
    neo4j_errors.SessionExpired("leader switched"),
    neo4j_errors.TransientError("deadlock detected"),
    neo4j_errors.DatabaseUnavailable("database starting"),
    neo4j_errors.IncompleteCommit("connection lost during commit"),
    neo4j_errors.WriteServiceUnavailable("no writer"),
    redis_errors.ConnectionError("Error 111 connecting"),
    redis_errors.BusyLoadingError("LOADING Redis is loading the dataset in memory"),
    redis_errors.TimeoutError("Timeout reading from socket"),
    redis_errors.ResponseError("Query timed out"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    FileNotFoundError(2, "No such file or directory: falkordb.sock"),
    EmbeddedServerError("FalkorDB server not ready before the timeout"),
]
PERMANENT = [
    neo4j_errors.ConstraintError("Node already exists with label Table"),
    neo4j_errors.CypherTypeError("Property values can only be of primitive types"),
    neo4j_errors.CypherSyntaxError("Invalid input"),
    neo4j_errors.AuthError("The client is unauthorized"),
    redis_errors.ResponseError("unique constraint violation on node of type Table"),
    redis_errors.AuthenticationError("invalid password"),
    RowsNotApplied("1 of 3 rows found no node"),
    ValueError("a bug"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_transient_errors(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: f"{type(e).__name__}:{e}")
def test_permanent_errors(error):
    assert not is_transient(error)


@pytest.mark.parametrize(
    "error, statement",
    [
        (neo4j_errors.CypherSyntaxError("Invalid input"), True),
        (neo4j_errors.AuthError("unauthorized"), True),
        (neo4j_errors.Forbidden("no write access"), True),
        (redis_errors.AuthenticationError("invalid password"), True),
        (ValueError("a bug in the writer"), True),
        (neo4j_errors.ConstraintError("already exists"), False),
        (redis_errors.ResponseError("Property values can only be of primitive types"), False),
        (RowsNotApplied("missing endpoint"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_statement_errors_fail_the_run_row_errors_are_isolated(error, statement):
    assert is_statement_error(error) is statement


def test_backoff_doubles_from_the_base_delay():
    assert RetryPolicy().delays() == [1, 2, 4, 8, 16]
    assert RetryPolicy(max_retries=3, base_delay_s=0.5).delays() == [0.5, 1.0, 2.0]


def test_retry_recovers_then_succeeds():
    calls, slept, recovered = [], [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise redis_errors.ConnectionError("server gone")
        return "ok"

    result = call_with_retry(flaky, RetryPolicy(5, 1.0), lambda: recovered.append(1), sleep=slept.append)
    assert result == "ok" and slept == [1.0, 2.0] and len(recovered) == 2


def test_retry_gives_up_with_the_last_error_chained():
    slept = []

    def down():
        raise neo4j_errors.ServiceUnavailable("no route")

    with pytest.raises(GraphStoreDown, match="after 3 retries: ServiceUnavailable: no route") as raised:
        call_with_retry(down, RetryPolicy(3, 0.1), lambda: None, sleep=slept.append)
    assert slept == pytest.approx([0.1, 0.2, 0.4])
    assert isinstance(raised.value.__cause__, neo4j_errors.ServiceUnavailable)


def test_permanent_error_is_not_retried():
    calls = []

    def rejected():
        calls.append(1)
        raise redis_errors.ResponseError("unique constraint violation")

    with pytest.raises(redis_errors.ResponseError):
        call_with_retry(rejected, RetryPolicy(5, 0.0), lambda: None, sleep=lambda s: None)
    assert len(calls) == 1


def test_recovery_that_fails_transiently_is_retried_too():
    attempts, recoveries = [], []

    def write():
        attempts.append(1)
        if len(attempts) < 3:
            raise redis_errors.ConnectionError("gone")
        return 1

    def recover():
        recoveries.append(1)
        if len(recoveries) == 1:
            raise EmbeddedServerError("still loading")

    assert call_with_retry(write, RetryPolicy(5, 0.0), recover, sleep=lambda s: None) == 1
