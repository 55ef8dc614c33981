"""Spec of graph.faults: which errors are transient (with the drivers' own exception types) and the
retry loop's backoff, recovery and give-up behaviour."""

import neo4j.exceptions as neo4j_errors
import pytest
import redis.exceptions as redis_errors

from lineage_pipeline.graph.embedded_server import EmbeddedServerError
from lineage_pipeline.graph.faults import (
    ConnectionLostOnBatch,
    GraphStoreDown,
    GraphStoreFull,
    GraphStoreUnavailable,
    RetryPolicy,
    RowsNotApplied,
    call_with_retry,
    is_statement_error,
    is_storage_full,
    is_transient,
)
from lineage_pipeline.graph.keys import InvalidKeyError

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
    # the store's disk is full: not a property of the row, and space can be freed (the exact reply of
    # the embedded server on a full disk, see test_writer's disk-full spec)
    redis_errors.ResponseError("MISCONF Errors writing to the AOF file: No space left on device"),
    redis_errors.ResponseError("OOM command not allowed when used memory > 'maxmemory'."),
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
        (InvalidKeyError("key starts or ends with whitespace"), False),
        (ConnectionLostOnBatch("dropped the connection twice"), False),
        (GraphStoreFull("disk full"), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_statement_errors_fail_the_run_row_errors_are_isolated(error, statement):
    assert is_statement_error(error) is statement


def test_backoff_doubles_from_the_base_delay_up_to_its_cap():
    assert RetryPolicy().delays() == [1, 2, 4, 8, 8]
    assert RetryPolicy(max_retries=3, base_delay_s=0.5).delays() == [0.5, 1.0, 2.0]
    assert sum(RetryPolicy().delays()) <= RetryPolicy().deadline_s <= 30


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

    with pytest.raises(GraphStoreDown, match="after 4 attempt.*: ServiceUnavailable: no route") as raised:
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


class FakeClock:
    """Time that passes only by sleeping (the retry loop's sleep and clock are injected)."""

    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_deadline_ends_the_retries_with_one_line_naming_the_store():
    clock, attempts = FakeClock(), []

    def down():
        attempts.append(clock.now)
        raise neo4j_errors.ServiceUnavailable("Couldn't connect to 10.0.0.1:7687\n(reason: timed out)")

    policy = RetryPolicy(max_retries=20, base_delay_s=1.0, deadline_s=30.0)
    with pytest.raises(GraphStoreDown) as raised:
        call_with_retry(down, policy, lambda: None, sleep=clock.sleep, clock=lambda: clock.now, location="bolt://db:7687")
    assert clock.now <= 30 and len(attempts) < 21, "the deadline, not the retry count, ended it"
    message = str(raised.value)
    assert "\n" not in message and message.startswith("bolt://db:7687 unavailable: gave up after")
    assert isinstance(raised.value, GraphStoreUnavailable), "one exception type for the CLI to print"


def test_storage_full_is_retried_then_reported_as_such():
    clock, attempts = FakeClock(), []
    full = redis_errors.ResponseError("MISCONF Errors writing to the AOF file: No space left on device")

    def write():
        attempts.append(1)
        if len(attempts) < 3:
            raise full
        return "written"

    assert is_storage_full(full) and not is_storage_full(redis_errors.ResponseError("unique constraint violation"))
    assert call_with_retry(write, RetryPolicy(5, 1.0), lambda: None, sleep=clock.sleep, clock=lambda: clock.now) == "written"

    def always_full():
        raise full

    with pytest.raises(GraphStoreFull, match="cannot persist writes.*free space.*MISCONF"):
        call_with_retry(always_full, RetryPolicy(5, 1.0), lambda: None, sleep=clock.sleep, clock=lambda: clock.now)


def test_batch_dropping_the_connection_each_time_the_store_is_back_is_a_row_error():
    attempts = []

    def crashes_the_server():
        attempts.append(1)
        raise redis_errors.ConnectionError("Connection closed by server.")

    with pytest.raises(ConnectionLostOnBatch):
        call_with_retry(crashes_the_server, RetryPolicy(5, 0.0), lambda: None, sleep=lambda s: None, lost_connection_limit=2)
    assert len(attempts) == 2

    def unreachable():  # never connected: the store is down, not crashed by this batch
        raise redis_errors.ConnectionError("Error 111 connecting to /tmp/x.sock. Connection refused.")

    with pytest.raises(GraphStoreDown):
        call_with_retry(unreachable, RetryPolicy(3, 0.0), lambda: None, sleep=lambda s: None, lost_connection_limit=2)
