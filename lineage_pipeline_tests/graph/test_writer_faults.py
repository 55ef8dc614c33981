"""Spec of graph.writer under faults, on real stores (issue 17): keys the store crashes on, a row that
crashes the server, a full disk (store or dead-letter file), the server killed between write phases,
an unreachable Neo4j, and retiring a domain. After each, the graph is exactly what a clean ingest of
the same input gives (``graph.dump``), and every row not written is in the dead-letter file.
"""

import os
import re
import signal
import time

import pytest
from neo4j.exceptions import ServiceUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError

from benchmarks.graph_bench import synthetic_lineages
from lineage_pipeline.graph.backend import write_each
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.consistency import check_domain, unexpected_domains
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.dump import canonical_dump
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline.graph.faults import (
    GraphStoreDown,
    GraphStoreFull,
    GraphStoreUnavailable,
    RetryPolicy,
)
from lineage_pipeline.graph.neo4j_backend import Neo4jBackend
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, StatementLineage
from lineage_pipeline_tests.graph.lineage_fixtures import insert_select
from lineage_pipeline_tests.graph.test_writer import A, B, X, Y, sync
from lineage_pipeline_tests.small_fs import fill

FAST = RetryPolicy(max_retries=5, base_delay_s=0.01, deadline_s=120)
"""Short waits; a long deadline, as servers restart slowly on a loaded machine (the deadline has its own specs)."""

# a T-SQL table named [orders ] (trailing space) and a generated name over the store's 4 KB key limit
PADDED = insert_select("core/padded.sql", "dbo.orders ", "dw.orders", {"id": ["id"]})
LONG_NAME = "dbo." + "x" * 5000
LONG = insert_select("core/long.sql", "stg.wide", LONG_NAME, {"id": ["id"]})
INNOCENT = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}


def _statements_and_rows(letters) -> list[tuple[str, str]]:
    return sorted((e.statement, repr(e.row)) for e in letters)


def test_keys_the_store_crashes_on_are_dead_lettered_and_the_domain_is_written(store, tmp_path):
    """On main the server segfaulted on these rows, the batch was retried until the store was declared
    down and nothing of the domain was written."""
    pid = server_status(store.config.data_dir).pid if store.config.backend == "falkordb" else None
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    files = {**INNOCENT, "core/padded.sql": ("r1", PADDED), "core/long.sql": ("r1", LONG)}
    report = sync(store.backend, "core", files, writer_kw={"dead_letters": dead_letters, "retry": FAST})

    if pid is not None:
        assert server_status(store.config.data_dir).pid == pid, "the server never crashed"
    assert report.files_written == sorted(files) and report.retries == 0
    rejected = {(e.statement, e.row.get("key") or (e.row["src"], e.row["dst"])) for e in dead_letters.read()}
    assert rejected == {
        ("tables", "dbo.orders "),
        ("merge:READS", ("core/padded.sql", "dbo.orders ")),
        ("merge:FEEDS", ("dbo.orders ", "dw.orders")),
        ("merge:HAS_COLUMN", ("dbo.orders ", "dbo.orders .id")),
        ("tables", LONG_NAME),
        ("merge:WRITES", ("core/long.sql", LONG_NAME)),
        ("merge:FEEDS", ("stg.wide", LONG_NAME)),
        ("merge:HAS_COLUMN", (LONG_NAME, f"{LONG_NAME}.id")),
        ("columns", f"{LONG_NAME}.id"),
        ("merge:DERIVES", ("stg.wide.id", f"{LONG_NAME}.id")),
    }
    assert all("InvalidKeyError" in e.error for e in dead_letters.read())
    assert "starts or ends with whitespace" in dead_letters.read()[0].error
    dump = canonical_dump(store.backend)
    tables = {dict(props)["key"] for labels, props in dump.nodes if labels == ("Table",)}
    assert {"stg.accounts", "dw.dim_account", "rpt.accounts", "dw.orders", "stg.wide"} <= tables
    assert not {"dbo.orders ", LONG_NAME} & tables
    assert ("DERIVES", "Column", "dbo.orders .id", "Column", "dw.orders.id") in {r[:5] for r in dump.relationships}, (
        "a column of the refused table keeps its own lineage"
    )
    expected = {path: rev for path, (rev, _) in files.items()}
    assert check_domain(store.backend, "core", expected).consistent, "every file committed"


@pytest.mark.integration
def test_a_row_that_crashes_the_server_is_dead_lettered_and_the_rest_written(tmp_path):
    """The backstop for a crashing input no key rule knows yet: the rules are switched off, the real
    server crashes on the padded key each time it is sent, and the batch is split down to that row."""
    files = {**INNOCENT, "core/padded.sql": ("r1", PADDED), **{
        lin.path: ("r1", lin) for lin in synthetic_lineages(12, 2)
    }}
    dumps, letters = [], []
    for name, row_check in (("crashing", lambda statement, row: None), ("checked", None)):
        data_dir = tmp_path / name
        backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
        try:
            dead_letters = DeadLetterFile(data_dir / "failed_ingestion.jsonl")
            writer_kw = {"dead_letters": dead_letters, "retry": FAST, **({"row_check": row_check} if row_check else {})}
            pid = server_status(data_dir).pid
            report = sync(backend, "core", files, batch_size=10, writer_kw=writer_kw)
            crashed = server_status(data_dir).pid != pid
            assert crashed == (name == "crashing")
            assert report.files_written == sorted(files)
            dumps.append(canonical_dump(backend))
            letters.append(dead_letters.read())
        finally:
            backend.close()
            stop_server(data_dir)
    crashing, checked = dumps
    assert crashing == checked, crashing.difference(checked)
    assert _statements_and_rows(letters[0]) == _statements_and_rows(letters[1]), "the same rows are dead-lettered"
    assert "ConnectionLostOnBatch" in next(e.error for e in letters[0] if e.statement == "tables")


@pytest.mark.integration
def test_full_store_disk_is_reported_as_such_and_nothing_is_dead_lettered(small_fs, tmp_path):
    """On main, MISCONF counted as a row error: every row of the domain was dead-lettered."""
    config = GraphStoreConfig(data_dir=small_fs / "graph-data", graph_name="g")
    backend = open_backend(config)
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    kw = {"dead_letters": dead_letters, "retry": RetryPolicy(5, 0.05, deadline_s=2)}
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(200, 3)}
    try:
        sync(backend, "bench", dict(list(files.items())[:20]), writer_kw=kw)
        ballast = fill(small_fs)
        started = time.monotonic()
        with pytest.raises(GraphStoreFull) as raised:
            sync(backend, "bench", files, writer_kw=kw)
        assert time.monotonic() - started < 15, "bounded by the deadline"
        message = str(raised.value)
        assert "\n" not in message and "cannot persist writes" in message and "MISCONF" in message
        assert dead_letters.read() == [], "a full disk is not a property of any row"
        ballast.unlink()
        report = sync(backend, "bench", files, writer_kw=kw)
        assert not report.dead_lettered
        assert check_domain(backend, "bench", {p: rev for p, (rev, _) in files.items()}).consistent
        repaired = canonical_dump(backend)
    finally:
        backend.close()
        stop_server(config.data_dir)
    clean_config = GraphStoreConfig(data_dir=tmp_path / "clean", graph_name="g")
    clean = open_backend(clean_config)
    try:
        sync(clean, "bench", files)
        assert repaired == canonical_dump(clean), repaired.difference(canonical_dump(clean))
    finally:
        clean.close()
        stop_server(clean_config.data_dir)


@pytest.mark.integration
def test_rejected_rows_that_cannot_be_recorded_leave_their_files_uncommitted(falkordb_backend, small_fs):
    """The dead-letter file is on a full disk while the store rejects rows: the sync fails before it
    commits those files, so the rerun (space freed) redoes them and records their rows: nothing lost."""
    store_kw = {"retry": FAST}
    from lineage_pipeline_tests.graph.conftest import Store

    store = Store(falkordb_backend, GraphStoreConfig(data_dir=small_fs.parent / "graph-data", graph_name="test"))
    store.forbid_duplicate_table_names()
    dead_letters = DeadLetterFile(small_fs / "failed_ingestion.jsonl")
    files = {"core/x.sql": ("r1", X), "core/y.sql": ("r1", Y)}
    ballast = fill(small_fs)
    with pytest.raises(OSError):
        sync(falkordb_backend, "core", files, writer_kw={**store_kw, "dead_letters": dead_letters})
    revisions = dict(falkordb_backend.read("MATCH (f:SqlFile) RETURN f.path, f.rev"))
    assert revisions == {"core/x.sql": None, "core/y.sql": None}, "nothing committed: the rerun redoes both"
    ballast.unlink()
    report = sync(falkordb_backend, "core", files, writer_kw={**store_kw, "dead_letters": dead_letters})
    assert report.files_written == ["core/x.sql", "core/y.sql"]
    assert [e.statement for e in dead_letters.read()] == ["tables", "merge:READS", "merge:FEEDS", "merge:HAS_COLUMN"]


class _KillBeforePhase(GraphWriter):
    """kill -9 the real embedded server just before the write phase ``phase`` (at most once)."""

    def __init__(self, *args, data_dir, phase: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_dir, self.phase, self.killed = data_dir, phase, []

    def write_streamed(self, statements, stats):
        name = statements[0][0]
        phase = "stale" if name.startswith("stale:") else "commit" if name == "commit" else "merge"
        if phase == self.phase and not self.killed:
            pid = server_status(self.data_dir).pid
            os.kill(pid, signal.SIGKILL)
            while server_status(self.data_dir) is not None and server_status(self.data_dir).pid == pid:
                time.sleep(0.01)
            self.killed.append(pid)
        return super().write_streamed(statements, stats)


class _ReplyLostOnFirstCreates:
    """The store applies the first ``create:`` batch of each relationship type, then its reply is lost (as
    when the server is killed between committing a write and answering it: the real-server case is the
    chaos suite's, this one lands on those batches every time)."""

    def __init__(self, backend, lost_reply: Exception):
        self._backend, self._lost_reply, self.lost = backend, lost_reply, set()

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def write(self, query, params=None):
        result = self._backend.write(query, params)
        created = re.search(r"CREATE \(a\)-\[e:(\w+)", query)
        if created and created.group(1) not in self.lost:
            self.lost.add(created.group(1))
            raise self._lost_reply
        return result

    def write_stream(self, writes):
        return write_each(self, writes)


def _two_ways(path: str) -> FileLineage:
    """``rpt.b.y`` derived from ``stg.a.x`` directly by one statement and through an expression by another:
    two DERIVES edges of one file between the same columns."""
    statements = [
        StatementLineage(
            index=index, kind="INSERT", sources=["stg.a"], targets=["rpt.b"], target_kind="table",
            columns=[ColumnEdge(target="rpt.b.y", sources=["stg.a.x"], transform=transform)],
        )
        for index, transform in enumerate(["direct", "expression"])
    ]
    return FileLineage(path=path, dialect="tsql", statements=statements)


@pytest.mark.parametrize("pipelined", [True, False])
def test_a_changed_files_batch_applied_but_unanswered_is_redone_without_twins(store, pipelined):
    """On main the redo MERGEd on the file alone: it stamped the old revision's edge too, leaving two
    edges of the new revision where a clean sync has one, and made two DERIVES edges of one file between
    the same columns (direct, expression) one transform."""
    first = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B), "core/c.sql": ("r1", _two_ways("core/c.sql"))}
    # same lineage, new revision: every edge of a.sql and c.sql is rewritten
    changed = {**first, "core/a.sql": ("r2", A), "core/c.sql": ("r2", _two_ways("core/c.sql"))}
    lost_reply = ServiceUnavailable("connection lost") if store.config.backend == "neo4j" else RedisConnectionError(
        "Connection closed by server."
    )
    flaky = _ReplyLostOnFirstCreates(store.backend, lost_reply)
    sync(store.backend, "core", first)
    report = sync(flaky, "core", changed, writer_kw={"retry": FAST, "pipelined": pipelined})
    assert flaky.lost == {"READS", "WRITES", "FEEDS", "HAS_COLUMN", "DERIVES"} and not report.dead_lettered
    faulted = canonical_dump(store.backend)
    store.wipe()
    sync(store.backend, "core", first)
    sync(store.backend, "core", changed)
    assert faulted == canonical_dump(store.backend), faulted.difference(canonical_dump(store.backend))


@pytest.mark.integration
@pytest.mark.parametrize("phase", ["merge", "stale", "commit"])
def test_server_killed_between_write_phases_is_retried_not_a_raw_connection_error(tmp_path, phase):
    """On main the stream took its connection outside the retry layer: a raw ConnectionError failed the run."""
    data_dir = tmp_path / "graph-data"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
    try:
        first = {lin.path: ("r1", lin) for lin in synthetic_lineages(30, 2)}
        sync(backend, "bench", first)
        rewritten = {path: ("r2", lineage) for path, (_, lineage) in first.items()}
        writer = _KillBeforePhase(backend, batch_size=20, retry=FAST, data_dir=data_dir, phase=phase)
        graphs = {p: lin for p, (_, lin) in rewritten.items()}
        from lineage_pipeline.graph.rows import build_file_graph

        report = writer.sync_domain(
            "bench", {p: rev for p, (rev, _) in rewritten.items()},
            lambda paths: [build_file_graph(graphs[p], "bench", "0" * 64, "r2") for p in paths],
        )
        assert writer.killed and report.retries >= 1 and not report.dead_lettered
        after = canonical_dump(backend)
        backend.write("MATCH (n) DETACH DELETE n")
        sync(backend, "bench", rewritten)
        assert after == canonical_dump(backend), after.difference(canonical_dump(backend))
    finally:
        backend.close()
        stop_server(data_dir)


def test_unreachable_neo4j_fails_within_the_deadline_in_one_line(tmp_path):
    """On main: the driver's 120 s of retries inside each of the writer's retries (17.5 min per domain)."""
    backend = Neo4jBackend("bolt://127.0.0.1:1", "neo4j", "hunter2", "neo4j", location="bolt://127.0.0.1:1 (database neo4j)")
    try:
        started = time.monotonic()
        with pytest.raises(GraphStoreDown) as raised:
            sync(backend, "core", INNOCENT, writer_kw={"retry": RetryPolicy(deadline_s=3)})
        elapsed = time.monotonic() - started
    finally:
        backend.close()
    assert elapsed < 10, f"took {elapsed:.1f}s"
    message = str(raised.value)
    assert "\n" not in message and "bolt://127.0.0.1:1" in message and "hunter2" not in message
    assert isinstance(raised.value, GraphStoreUnavailable)


def test_retired_domain_leaves_nothing_and_is_no_longer_unexpected(store, tmp_path):
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    sync(store.backend, "core", INNOCENT)
    old = {"old/x.sql": ("r1", insert_select("old/x.sql", "stg.gone", "dw.gone", {"id": ["id"]}))}
    sync(store.backend, "old", old)
    dead_letters.append([])
    assert unexpected_domains(store.backend, ["core"]) == ["old"]
    report = GraphWriter(store.backend, dead_letters=dead_letters).retire_domain("old")
    assert report.files_deleted == ["old/x.sql"] and report.orphans >= 2
    assert unexpected_domains(store.backend, ["core"]) == []
    after = canonical_dump(store.backend)
    store.wipe()
    sync(store.backend, "core", INNOCENT)
    assert after == canonical_dump(store.backend), "exactly as if the domain had never been written"
