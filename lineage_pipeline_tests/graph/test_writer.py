"""Spec of graph.writer on real stores (embedded FalkorDB; Neo4j when configured): exact per-file
replacement, no-op reruns, the deletion guard, orphans, rejected rows isolated into the dead-letter file,
and a server killed (kill -9) in the middle of a large write.
"""

import json
import os
import re
import signal
import threading
import time
from datetime import datetime

import falkordb
import pytest
import redis

from benchmarks.graph_bench import synthetic_lineages
from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend, WriteStats, write_each
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.dump import canonical_dump
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.rows import RELATIONSHIP_TYPES, build_file_graph
from lineage_pipeline.graph.writer import (
    DeletionGuardError,
    GraphWriter,
    _phases,
    creating,
    file_statements,
    idempotent,
    split_sizes,
)
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline_tests.graph.lineage_fixtures import insert_select


def snapshot(backend: GraphBackend) -> tuple[set, set]:
    """Full node and relationship sets, for comparing a graph with a clean ingest."""
    nodes = {
        (labels[0], key)
        for labels, key in backend.read("MATCH (n) WHERE NOT n:SyncState RETURN labels(n), coalesce(n.key, n.path)")
    }
    rels = {
        tuple(row)
        for row in backend.read(
            "MATCH (a)-[e]->(b) RETURN type(e), coalesce(a.key, a.path), coalesce(b.key, b.path), e.file, e.rev"
        )
    }
    return nodes, rels


def sync(
    backend: GraphBackend, domain: str, files: dict[str, tuple[str, FileLineage]], batch_size: int = 1000, writer_kw=None, **kw
):
    """Sync ``domain`` to ``files`` (path -> (rev, lineage))."""
    writer = GraphWriter(backend, batch_size=batch_size, **(writer_kw or {}))
    current = {path: rev for path, (rev, _) in files.items()}

    def graphs_for(paths):
        return [build_file_graph(files[p][1], domain, "0" * 64, files[p][0]) for p in paths]

    return writer.sync_domain(domain, current, graphs_for, **kw)


A = insert_select("core/a.sql", "stg.accounts", "dw.dim_account", {"id": ["account_id"]})
B = insert_select("core/b.sql", "dw.dim_account", "rpt.accounts", {"id": ["id"]})
A2 = insert_select("core/a.sql", "stg.accounts_v2", "dw.dim_account", {"id": ["acct_no"]})


def test_first_sync_writes_all_files(store):
    report = sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    assert report.files_written == ["core/a.sql", "core/b.sql"]
    nodes, rels = snapshot(store.backend)
    assert ("Table", "rpt.accounts") in nodes and ("SqlFile", "core/a.sql") in nodes
    assert ("FEEDS", "stg.accounts", "dw.dim_account", "core/a.sql", "r1") in rels
    assert ("DERIVES", "dw.dim_account.id", "rpt.accounts.id", "core/b.sql", "r1") in rels


def test_unchanged_rerun_writes_nothing(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    before = snapshot(store.backend)
    report = sync(store.backend, "core", files)
    assert report.files_written == [] and report.files_deleted == []
    assert report.stats.transactions == 0
    assert snapshot(store.backend) == before


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_changed_file_equals_clean_ingest(store, batch_size):
    sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}, batch_size=batch_size)
    sync(store.backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)}, batch_size=batch_size)
    incremental = snapshot(store.backend)
    store.backend.write("MATCH (n) DETACH DELETE n")
    sync(store.backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)})
    assert incremental == snapshot(store.backend)
    nodes, rels = incremental
    assert ("Table", "stg.accounts") not in nodes, "a table no file mentions any more is pruned"
    assert ("Column", "stg.accounts.account_id") not in nodes
    assert not any(rel[3] == "core/a.sql" and rel[4] == "r1" for rel in rels)


def test_deleted_file_leaves_no_trace(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    report = sync(store.backend, "core", {"core/b.sql": ("r1", B)})
    assert report.files_deleted == ["core/a.sql"]
    nodes, rels = snapshot(store.backend)
    assert ("SqlFile", "core/a.sql") not in nodes
    assert ("Table", "stg.accounts") not in nodes
    assert ("Table", "dw.dim_account") in nodes, "still read by core/b.sql"
    assert not any(rel[3] == "core/a.sql" for rel in rels)


def test_shared_table_survives_other_domain_change(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A)})
    sync(store.backend, "reporting", {"reporting/b.sql": ("r1", B.model_copy(update={"path": "reporting/b.sql"}))})
    sync(store.backend, "core", {})
    nodes, rels = snapshot(store.backend)
    assert ("Table", "dw.dim_account") in nodes
    assert ("FEEDS", "dw.dim_account", "rpt.accounts", "reporting/b.sql", "r1") in rels


def test_guard_refuses_mass_deletion_unless_forced(store):
    files = {f"core/f{i}.sql": ("r1", insert_select(f"core/f{i}.sql", f"s.t{i}", f"d.t{i}", {"c": ["c"]})) for i in range(8)}
    sync(store.backend, "core", files)
    with pytest.raises(DeletionGuardError, match="refusing to delete 8 of 8 files of domain 'core'"):
        sync(store.backend, "core", {})
    assert len(snapshot(store.backend)[0]) > 8, "nothing was deleted"
    report = sync(store.backend, "core", {}, force=True)
    assert len(report.files_deleted) == 8
    assert snapshot(store.backend) == (set(), set())


HOSTILE_NAMES = [
    'stg."quoted"',
    "stg.{braces}",
    "stg.`back``tick`",
    "stg.a // comment",
    "stg.x}) DETACH DELETE n //",
    "stg.t' OR 1=1 --",
    "stg.Überweisung_日本",
]


def test_hostile_names_stored_verbatim_and_nothing_else_changes(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A)})
    before_nodes, before_rels = snapshot(store.backend)
    lineages = {
        f"core/h{i}.sql": ("r1", insert_select(f"core/h{i}.sql", name, "dw.target", {"col": ["c"]}))
        for i, name in enumerate(HOSTILE_NAMES)
    }
    sync(store.backend, "core", {"core/a.sql": ("r1", A), **lineages})
    nodes, rels = snapshot(store.backend)
    for name in HOSTILE_NAMES:
        assert ("Table", name) in nodes
        writer_file = next(p for p, (_, lin) in lineages.items() if lin.statements[0].sources == [name])
        assert ("FEEDS", name, "dw.target", writer_file, "r1") in rels
    assert before_nodes <= nodes and before_rels <= rels


def clean_ingest_snapshot(backend: GraphBackend, domain: str, files: dict) -> tuple[set, set]:
    """Wipe the graph, ingest ``files`` from scratch and return its snapshot."""
    backend.write("MATCH (n) DETACH DELETE n")
    sync(backend, domain, files)
    return snapshot(backend)


def test_renamed_file_equals_clean_ingest(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    renamed = {"core/a_renamed.sql": ("r1", A.model_copy(update={"path": "core/a_renamed.sql"})), "core/b.sql": ("r1", B)}
    report = sync(store.backend, "core", renamed)
    assert report.files_written == ["core/a_renamed.sql"] and report.files_deleted == ["core/a.sql"]
    incremental = snapshot(store.backend)
    assert not any(rel[3] == "core/a.sql" for rel in incremental[1])
    assert incremental == clean_ingest_snapshot(store.backend, "core", renamed)


def test_split_sizes_narrow_down_to_single_rows():
    assert split_sizes(100) == [50, 10, 1]
    assert split_sizes(1000) == [500, 100, 10, 1]
    assert split_sizes(2) == [1]
    assert split_sizes(1) == []


# stg.orders and raw.orders share the short name "orders": under a unique constraint on Table.name the
# store accepts raw.orders (written first, keys are sorted) and rejects stg.orders.
X = insert_select("core/x.sql", "stg.orders", "dw.orders_fact", {"id": ["id"]})
Y = insert_select("core/y.sql", "raw.orders", "dw.y", {"id": ["id"]})


def test_rejected_row_is_dead_lettered_and_rest_of_batch_written(store, tmp_path):
    store.forbid_duplicate_table_names()
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    kw = {"dead_letters": dead_letters, "run_id": "run-1", "retry": RetryPolicy(2, 0.01)}
    report = sync(store.backend, "core", {"core/x.sql": ("r1", X), "core/y.sql": ("r1", Y)}, batch_size=100, writer_kw=kw)

    nodes, rels = snapshot(store.backend)
    assert {("Table", "dw.orders_fact"), ("Table", "dw.y"), ("Table", "raw.orders")} <= nodes
    assert ("Table", "stg.orders") not in nodes
    assert ("FEEDS", "raw.orders", "dw.y", "core/y.sql", "r1") in rels
    assert ("DERIVES", "stg.orders.id", "dw.orders_fact.id", "core/x.sql", "r1") in rels, "columns do not depend on it"

    entries = dead_letters.read()
    assert [(e.statement, e.row.get("key") or (e.row["src"], e.row["dst"])) for e in entries] == [
        ("tables", "stg.orders"),
        ("merge:READS", ("core/x.sql", "stg.orders")),
        ("merge:FEEDS", ("stg.orders", "dw.orders_fact")),
        ("merge:HAS_COLUMN", ("stg.orders", "stg.orders.id")),
    ], "the rejected node and every relationship that needed it are recorded, none dropped silently"
    assert re.search("unique|already exists", entries[0].error.lower()) and "missing" in entries[1].error.lower()
    assert {(e.run_id, e.domain) for e in entries} == {("run-1", "core")}
    assert all(datetime.fromisoformat(e.time) for e in entries)
    assert [e.file for e in entries[1:]] == ["core/x.sql"] * 3 and entries[1].rev == "r1"
    assert len(report.dead_lettered) == 4
    lines = (tmp_path / "failed_ingestion.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["row"]["key"] == "stg.orders"

    again = sync(store.backend, "core", {"core/x.sql": ("r1", X), "core/y.sql": ("r1", Y)}, writer_kw=kw)
    assert again.stats.transactions == 0 and len(dead_letters.read()) == 4, "an unchanged rerun neither writes nor duplicates"


def test_rewriting_a_file_supersedes_its_dead_letters(store, tmp_path):
    store.forbid_duplicate_table_names()
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    kw = {"dead_letters": dead_letters, "run_id": "run-1"}
    sync(store.backend, "core", {"core/x.sql": ("r1", X), "core/y.sql": ("r1", Y)}, writer_kw=kw)
    fixed_x = insert_select("core/x.sql", "stg.orders_new", "dw.orders_fact", {"id": ["id"]})
    sync(store.backend, "core", {"core/x.sql": ("r2", fixed_x), "core/y.sql": ("r1", Y)}, writer_kw=kw)
    assert [e.statement for e in dead_letters.read()] == ["tables"], "only the file-less node row is left"


def test_unknown_orphan_policy_is_refused(store):
    with pytest.raises(ValueError, match="orphan_policy must be 'remove' or 'mark', got 'keep'"):
        GraphWriter(store.backend, orphan_policy="keep")


def test_orphans_marked_instead_of_removed_when_configured(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files, writer_kw={"orphan_policy": "mark"})
    report = sync(store.backend, "core", {"core/b.sql": ("r1", B)}, writer_kw={"orphan_policy": "mark"})
    assert report.orphans == 2  # stg.accounts and stg.accounts.account_id
    marked = {row[0] for row in store.backend.read("MATCH (n) WHERE n.orphan = true RETURN n.key")}
    assert marked == {"stg.accounts", "stg.accounts.account_id"}
    sync(store.backend, "core", files, writer_kw={"orphan_policy": "mark"})
    assert store.backend.read("MATCH (n) WHERE n.orphan = true RETURN n.key") == [], "referenced again: unmarked"


class _Killed(BaseException):
    """The process dying: nothing in the writer catches it, as nothing survives a kill -9."""


class _Counting:
    """The real backend, counting the reads and writes a sync sends; optionally dying at the orphan prune."""

    def __init__(self, backend: GraphBackend, die_at_prune: bool = False):
        self._backend, self._die_at_prune = backend, die_at_prune
        self.name, self.location = backend.name, backend.location
        self.reads: list[str] = []
        self.writes: list[str] = []

    def read(self, query, params=None):
        self.reads.append(query)
        if self._die_at_prune and "NOT (n)--()" in query:
            raise _Killed()
        return self._backend.read(query, params)

    def write(self, query, params=None):
        self.writes.append(query)
        return self._backend.write(query, params)

    def write_stream(self, writes):
        return write_each(self, writes)  # through this wrapper's write, not the real store's stream

    def __getattr__(self, attribute):
        return getattr(self._backend, attribute)


def test_new_files_send_no_stale_removal_and_rewritten_files_do(store):
    """A file the graph holds no SqlFile node for has no old relationships: no stale-removal statements."""
    counting = _Counting(store.backend)
    sync(counting, "core", {"core/a.sql": ("r1", A)})
    assert not [q for q in counting.writes if "e.rev <>" in q]
    counting.writes.clear()
    sync(counting, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)})
    stale = [q for q in counting.writes if "e.rev <>" in q]
    assert len(stale) == len(RELATIONSHIP_TYPES), "one stale-removal batch per relationship type, for core/a.sql"
    assert snapshot(store.backend) == clean_ingest_snapshot(
        store.backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)}
    )


def test_statements_are_cut_where_everything_before_must_have_landed():
    graphs = [build_file_graph(A, "core", "0" * 64, "r1"), build_file_graph(B, "core", "0" * 64, "r1")]
    phases = [[name for name, _ in phase] for phase in _phases(file_statements(graphs, held={"core/a.sql"}))]
    assert phases == [
        ["files"],
        ["tables", "columns", *(f"merge:{t}" for t in RELATIONSHIP_TYPES)],
        [f"stale:{t}" for t in RELATIONSHIP_TYPES],
        ["commit"],
    ]
    stale_rows = dict(file_statements(graphs, held={"core/a.sql"}))["stale:READS"]
    assert stale_rows == [{"path": "core/a.sql", "rev": "r1"}], "only the held file has old relationships"
    assert "stale:READS" not in dict(file_statements(graphs, held=set()))


def test_pipelined_stream_writes_the_same_graph_as_one_write_at_a_time(tmp_path):
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(60, 4)}
    graphs = []
    for name in ("streamed", "one_at_a_time"):
        config = GraphStoreConfig(data_dir=tmp_path / name, graph_name=name)
        backend = open_backend(config)
        try:
            report = sync(backend, "bench", files, batch_size=50, writer_kw={"pipelined": name == "streamed"})
            graphs.append((snapshot(backend), report.stats))
        finally:
            backend.close()
            stop_server(config.data_dir)
    (streamed, streamed_stats), (single, single_stats) = graphs
    assert streamed == single and len(streamed[1]) > 1000
    assert streamed_stats == single_stats, "same transactions, same entities created"


def test_unchanged_resync_is_one_read_and_no_write(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    counting = _Counting(store.backend)
    report = sync(counting, "core", files)
    assert (len(counting.reads), counting.writes) == (1, []), "no orphan scan, no marker write"
    assert report.files_unchanged == 2 and report.stats == WriteStats() and report.orphans == 0


def test_sync_killed_before_its_prune_is_pruned_by_the_next_unchanged_sync(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    with pytest.raises(_Killed):
        sync(_Counting(store.backend, die_at_prune=True), "core", {"core/b.sql": ("r1", B)})
    assert ("Table", "stg.accounts") in snapshot(store.backend)[0], "the killed run left orphans"
    counting = _Counting(store.backend)
    report = sync(counting, "core", {"core/b.sql": ("r1", B)})
    assert report.files_written == [] and report.files_deleted == [] and report.orphans == 2
    assert counting.writes, "the dirty marker made an unchanged sync prune"
    assert snapshot(store.backend) == clean_ingest_snapshot(store.backend, "core", {"core/b.sql": ("r1", B)})
    quiet = _Counting(store.backend)
    sync(quiet, "core", {"core/b.sql": ("r1", B)})
    assert quiet.writes == [], "clean again once pruned"


def test_file_node_never_committed_is_rewritten(store):
    sync(store.backend, "core", {"core/b.sql": ("r1", B)})
    # a run killed after merging core/a.sql's node, before its revision was committed
    store.backend.write(cypher.MERGE_FILES, {"rows": [{"path": "core/a.sql", "domain": "core"}]})
    assert GraphWriter(store.backend).sync_state("core") == ({"core/a.sql": "", "core/b.sql": "r1"}, False)
    report = sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    assert report.files_written == ["core/a.sql"]
    assert GraphWriter(store.backend).sync_state("empty") == ({}, False), "no files, no marker: never written"


def test_graph_without_a_sync_marker_is_pruned_once(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    # a graph written before markers existed, by a run that deleted core/a.sql and died before its prune
    GraphWriter(store.backend).delete_files(["core/a.sql"], WriteStats())
    store.backend.write("MATCH (s:SyncState) DELETE s")
    report = sync(store.backend, "core", {"core/b.sql": ("r1", B)})
    assert report.files_written == [] and report.files_deleted == [] and report.orphans == 2
    assert snapshot(store.backend) == clean_ingest_snapshot(store.backend, "core", {"core/b.sql": ("r1", B)})


def test_orphans_from_another_domains_deletes_are_pruned_by_that_domains_sync(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A)})
    sync(store.backend, "reporting", {"reporting/b.sql": ("r1", B.model_copy(update={"path": "reporting/b.sql"}))})
    report = sync(store.backend, "reporting", {})
    assert report.files_deleted == ["reporting/b.sql"] and report.orphans == 2  # rpt.accounts and its column
    nodes = snapshot(store.backend)[0]
    assert ("Table", "rpt.accounts") not in nodes and ("Table", "dw.dim_account") in nodes, "core still writes it"
    counting = _Counting(store.backend)
    sync(counting, "core", {"core/a.sql": ("r1", A)})
    assert counting.writes == [], "core's unchanged sync has nothing to heal"


def _kill_when_written(data_dir, graph_name: str, min_nodes: int, killed: list) -> None:
    """kill -9 the server once the write under test has put ``min_nodes`` nodes in the graph."""
    info = server_status(data_dir)
    graph = falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).select_graph(graph_name)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if graph.ro_query("MATCH (n) RETURN count(n)").result_set[0][0] >= min_nodes:
            os.kill(info.pid, signal.SIGKILL)
            killed.append(info.pid)
            return
        time.sleep(0.01)


def test_server_killed_mid_write_run_completes_and_equals_clean_ingest(tmp_path):
    data_dir = tmp_path / "graph-data"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="killed"))
    try:
        files = {lin.path: ("r1", lin) for lin in synthetic_lineages(400, 6)}
        killed: list[int] = []
        killer = threading.Thread(target=_kill_when_written, args=(data_dir, "killed", 1500, killed))
        killer.start()
        report = sync(backend, "bench", files, batch_size=50, writer_kw={"retry": RetryPolicy(6, 0.05)})
        killer.join()
        assert killed, "the server was killed during the write"
        assert report.retries >= 1, "the write saw the failure and retried"
        assert server_status(data_dir).pid != killed[0], "the writer restarted the embedded server"
        assert not report.dead_lettered
        after_kill = snapshot(backend)
        assert len(after_kill[1]) > 5000
        assert after_kill == clean_ingest_snapshot(backend, "bench", files)
    finally:
        backend.close()
        stop_server(data_dir)


def test_overlapped_chunks_write_the_same_graph(store):
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(30, 3)}
    report = sync(store.backend, "bench", files, batch_size=7, writer_kw={"overlap_files": 4})
    assert len(report.files_written) == 30
    overlapped = snapshot(store.backend)
    assert overlapped == clean_ingest_snapshot(store.backend, "bench", files)


def test_overlapped_chunks_refuse_rows_breaking_a_key_rule_as_one_write_does(store, tmp_path):
    """Chunks are key-checked in the thread that prepares them; what they refuse is dead-lettered, in
    order, by the writer, exactly as when every file is written at once."""
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(12, 3)}
    for path in ("bench/a_bad.sql", "bench/zz_bad.sql"):  # in the first chunk and in the last
        files[path] = ("r1", insert_select(path, "stg.bad\x00name", "dw.loaded", {"id": ["id"]}))

    def written(overlap_files: int, name: str) -> tuple[tuple[set, set], list]:
        store.backend.write("MATCH (n) DETACH DELETE n")
        dead_letters = DeadLetterFile(tmp_path / name)
        kw = {"overlap_files": overlap_files, "dead_letters": dead_letters}
        report = sync(store.backend, "bench", files, batch_size=7, writer_kw=kw)
        letters = [(e.statement, e.file, e.row.get("key") or e.row.get("src")) for e in dead_letters.read()]
        assert sorted((e.statement, e.file or "") for e in report.dead_lettered) == sorted((s, f or "") for s, f, _ in letters)
        return snapshot(store.backend), letters

    overlapped, overlapped_letters = written(4, "overlapped.jsonl")
    at_once, at_once_letters = written(0, "at_once.jsonl")
    assert overlapped == at_once
    # a node row is refused once per chunk naming it, a relationship row once: the same rows either way
    assert set(overlapped_letters) == set(at_once_letters)
    relationship_letters = [letter for letter in overlapped_letters if letter[0].startswith("merge:")]
    assert sorted(relationship_letters) == sorted(letter for letter in at_once_letters if letter[0].startswith("merge:"))
    assert {file for _, file, _ in overlapped_letters} == {None, "bench/a_bad.sql", "bench/zz_bad.sql"}
    assert ("Table", "dw.loaded") in overlapped[0]


class _ConcurrentPrune:
    """The real backend, plus what another domain's orphan prune does at the worst moment: delete a node
    this sync merged before its first relationship lands (a race real runs cannot be made to hit on demand)."""

    def __init__(self, backend: GraphBackend, victim: str):
        self._backend, self._victim, self.pruned = backend, victim, False
        self.name, self.location = backend.name, backend.location

    def write(self, query, params=None):
        if not self.pruned and re.search(r"(MERGE|CREATE) \(a\)-\[e:READS", query):
            self._backend.write("MATCH (t:Table {key: $key}) WHERE NOT (t)--() DELETE t", {"key": self._victim})
            self.pruned = True
        return self._backend.write(query, params)

    def write_stream(self, writes):
        return write_each(self, writes)  # through this wrapper's write, not the real store's stream

    def __getattr__(self, attribute):
        return getattr(self._backend, attribute)


def test_node_pruned_by_a_concurrent_sync_is_re_merged_not_dead_lettered(store):
    racing = _ConcurrentPrune(store.backend, "stg.accounts")
    report = sync(racing, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    assert racing.pruned and report.dead_lettered == []
    healed = snapshot(store.backend)
    assert ("READS", "core/a.sql", "stg.accounts", "core/a.sql", "r1") in healed[1]
    kinds = store.backend.read("MATCH (t:Table {key: 'stg.accounts'}) RETURN t.name, t.kind")
    assert kinds == [["accounts", "table"]], "re-merged with its properties"
    assert healed == clean_ingest_snapshot(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})


class _RejectingRowsOf:
    """The real backend, except that the store rejects every relationship row touching ``key`` (a fault a
    real FalkorDB raises only under contrived constraints): the node is merged and left without edges."""

    def __init__(self, backend: GraphBackend, key: str):
        self._backend, self._key = backend, key
        self.name, self.location = backend.name, backend.location

    def write(self, query, params=None):
        rows = (params or {}).get("rows") or []
        # relationship rows travel as [src, dst, file index, ...] (cypher.relationship_params)
        if re.search(r"(MERGE|CREATE) \(a\)-\[", query) and any(self._key in r[:2] for r in rows):
            raise redis.exceptions.ResponseError(f"rejected a row touching {self._key}")
        return self._backend.write(query, params)

    def write_stream(self, writes):
        return write_each(self, writes)  # through this wrapper's write, not the real store's stream

    def __getattr__(self, attribute):
        return getattr(self._backend, attribute)


@pytest.mark.parametrize("first_sync", [True, False], ids=["new-domain", "clean-domain"])
def test_node_left_without_edges_by_rejected_rows_is_pruned_by_the_scoped_prune(store, tmp_path, first_sync):
    if not first_sync:
        sync(store.backend, "core", {"core/b.sql": ("r1", B)})
    kw = {"dead_letters": DeadLetterFile(tmp_path / "failed.jsonl"), "retry": RetryPolicy(1, 0.01)}
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    counting = _Counting(_RejectingRowsOf(store.backend, "stg.accounts.account_id"))
    report = sync(counting, "core", files, writer_kw=kw)
    assert {e.statement for e in report.dead_lettered} == {"merge:HAS_COLUMN", "merge:DERIVES"}
    assert report.orphans == 1, "the column merged without any of its edges"
    nodes = snapshot(store.backend)[0]
    assert ("Column", "stg.accounts.account_id") not in nodes and ("Table", "stg.accounts") in nodes
    assert all("$keys" in q for q in counting.reads if "NOT (n)--()" in q), "no whole-graph orphan scan"
    assert store.backend.read(cypher.count_orphans("Column", False)) == [[0]]


def _hand_made_orphan(backend: GraphBackend) -> None:
    """An orphan no sync's files ever touched (as a killed run of another tool might leave)."""
    backend.write(cypher.MERGE_TABLES, {"rows": [{"key": "hand.made", "name": "made", "kind": "table"}]})


def test_changed_file_prunes_its_old_tables_and_only_its_candidates(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    _hand_made_orphan(store.backend)
    counting = _Counting(store.backend)
    report = sync(counting, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)})
    assert report.files_written == ["core/a.sql"] and report.orphans == 2  # stg.accounts and its column
    nodes = snapshot(store.backend)[0]
    assert ("Table", "stg.accounts") not in nodes and ("Column", "stg.accounts.account_id") not in nodes
    assert ("Table", "hand.made") in nodes, "not a candidate of this sync: left alone"
    scans = [q for q in counting.reads if "NOT (n)--()" in q]
    assert scans and all("$keys" in q for q in scans), "no whole-graph orphan scan"


def test_rewritten_file_naming_the_same_nodes_needs_no_orphan_check(store):
    sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    counting = _Counting(store.backend)
    report = sync(counting, "core", {"core/a.sql": ("r2", A), "core/b.sql": ("r1", B)})
    assert report.files_written == ["core/a.sql"] and report.orphans == 0
    assert not [q for q in counting.reads if "NOT (n)--()" in q], "every old endpoint got a new edge"
    clean = clean_ingest_snapshot(store.backend, "core", {"core/a.sql": ("r2", A), "core/b.sql": ("r1", B)})
    assert snapshot(store.backend) == clean


def test_sync_starting_dirty_prunes_the_whole_graph(store):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(store.backend, "core", files)
    _hand_made_orphan(store.backend)
    assert sync(store.backend, "core", files).orphans == 0, "clean and unchanged: nothing to prune"
    store.backend.write("MATCH (s:SyncState {domain: 'core'}) SET s.dirty = true")  # a run killed mid-sync
    report = sync(store.backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)})
    assert report.orphans == 3  # stg.accounts, its column, and hand.made
    assert ("Table", "hand.made") not in snapshot(store.backend)[0]


def test_scoped_prune_in_mark_mode_marks_candidates_only(store):
    kw = {"orphan_policy": "mark"}
    sync(store.backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}, writer_kw=kw)
    _hand_made_orphan(store.backend)
    report = sync(store.backend, "core", {"core/b.sql": ("r1", B)}, writer_kw=kw)
    assert report.orphans == 2
    marked = {row[0] for row in store.backend.read("MATCH (n) WHERE n.orphan = true RETURN n.key")}
    assert marked == {"stg.accounts", "stg.accounts.account_id"}


def _with_lookup(path: str) -> FileLineage:
    """``dw.x <- stg.accounts`` whose column also derives from ``ref.codes.code``: ``ref.codes`` is linked
    only by the HAS_COLUMN edge of that column (the file never reads the table itself)."""
    lineage = insert_select(path, "stg.accounts", "dw.x", {"id": ["id"]})
    statement = lineage.statements[0]
    edge = statement.columns[0].model_copy(update={"sources": ["stg.accounts.id", "ref.codes.code"]})
    return lineage.model_copy(update={"statements": [statement.model_copy(update={"columns": [edge]})]})


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_sequence_of_edits_equals_clean_ingest(store, batch_size):
    C = _with_lookup("core/c.sql")
    C2 = insert_select("core/c.sql", "stg.accounts", "dw.x", {"id": ["id"]})
    steps = [
        {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B), "core/c.sql": ("r1", C)},
        {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B), "core/c.sql": ("r1", C)},
        {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B), "core/c.sql": ("r2", C2)},  # drops ref.codes
        {"core/a2.sql": ("r1", A.model_copy(update={"path": "core/a2.sql"})), "core/c.sql": ("r2", C2)},
        {"core/a2.sql": ("r1", A.model_copy(update={"path": "core/a2.sql"})), "core/c.sql": ("r3", C)},
        {"core/c.sql": ("r4", C2)},
    ]
    for files in steps:
        sync(store.backend, "core", files, batch_size=batch_size, force=True)
        nodes = snapshot(store.backend)[0]
        assert store.backend.read("MATCH (n) WHERE NOT n:SyncState AND NOT (n)--() RETURN count(n)") == [[0]]
        uses_lookup = any(lineage is C for _, lineage in files.values())
        assert (("Table", "ref.codes") in nodes) == uses_lookup, "pruned once only an orphaned column linked it"
    incremental = snapshot(store.backend)
    assert incremental == clean_ingest_snapshot(store.backend, "core", steps[-1])


def test_only_relationship_rows_of_files_the_sync_created_move_to_create():
    statements = [
        ("files", [{"path": "a"}, {"path": "b"}]),
        ("merge:READS", [{"file": "a", "src": "a", "dst": "t"}, {"file": "b", "src": "b", "dst": "t"}]),
        ("merge:FEEDS", [{"file": "b", "src": "s", "dst": "t"}]),
    ]
    assert creating(statements, set()) == statements
    moved = {name: [r.get("file", r.get("path")) for r in rows] for name, rows in creating(statements, {"a"})}
    assert moved == {"files": ["a", "b"], "create:READS": ["a"], "merge:READS": ["b"], "merge:FEEDS": ["b"]}
    assert idempotent("create:READS") == "merge:READS" and idempotent("merge:READS") == "merge:READS"


def _sync_counting_statements(backend, files, **writer_kw):
    counting = _Counting(backend)
    sync(counting, "bench", files, batch_size=50, writer_kw=writer_kw)
    return _relationship_verbs(counting.writes)


def test_new_files_relationships_are_created_and_give_the_graph_a_merge_gives(tmp_path):
    """A MERGE between two nodes scans their parallel relationships (one per file naming both), so a new
    file cost more the bigger the graph; a file whose node the sync created is CREATEd instead."""
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(40, 4)}
    dumps, verbs = {}, {}
    for mode in ("new", "node_there"):
        config = GraphStoreConfig(data_dir=tmp_path / mode, graph_name=mode)
        backend = open_backend(config)
        try:
            if mode == "node_there":  # e.g. a sync killed after its file statement: the node exists, edges may
                backend.write("UNWIND $paths AS p CREATE (:SqlFile {path: p, domain: 'bench'})", {"paths": list(files)})
            verbs[mode] = _sync_counting_statements(backend, files)
            dumps[mode] = canonical_dump(backend, include_bookkeeping=False)
        finally:
            backend.close()
            stop_server(config.data_dir)
    assert verbs == {"new": {"CREATE"}, "node_there": {"MERGE"}}
    assert dumps["new"] == dumps["node_there"] and len(dumps["new"].relationships) > 500


def _relationship_verbs(writes: list[str]) -> set[str]:
    return {match.group(1) for query in writes if (match := re.search(r"(MERGE|CREATE) \(a\)-\[e:", query))}


@pytest.mark.parametrize("start", ["clean", "dirty"])
def test_changed_files_relationships_are_created_when_the_last_sync_completed(store, start):
    """After a completed sync no edge of a revision other than its file's is left, so a changed file's
    new edges cannot exist yet: they are CREATEd beside the old ones (a MERGE scans every parallel edge
    of each pair), which stale removal then takes. After a killed sync some may exist: MERGE."""
    edited = {lin.path: ("r2", lin) for lin in synthetic_lineages(20, 3)}
    before = {path: ("r1", lineage) for path, (_, lineage) in edited.items()}
    sync(store.backend, "bench", before)
    if start == "dirty":  # a sync killed after writing some new edges: its marker stays dirty
        store.backend.write("MATCH (s:SyncState {domain: 'bench'}) SET s.dirty = true")
    counting = _Counting(store.backend)
    report = sync(counting, "bench", edited, batch_size=25)
    assert report.files_written == sorted(edited)
    assert _relationship_verbs(counting.writes) == ({"CREATE"} if start == "clean" else {"MERGE"})
    incremental = snapshot(store.backend)
    assert incremental == clean_ingest_snapshot(store.backend, "bench", edited)
    assert not any(rel[4] == "r1" for rel in incremental[1]), "every edge of the old revision is gone"


class _LosesCreateReplies(_Counting):
    """The real backend; the first answer to each CREATE batch is lost after the store applied it."""

    def __init__(self, backend):
        super().__init__(backend)
        self.lost = 0

    def write(self, query, params=None):
        result = super().write(query, params)
        if "CREATE (a)-[e:" in query and self.lost < 5:
            self.lost += 1
            raise redis.exceptions.ConnectionError("reply lost")
        return result


@pytest.mark.parametrize("pipelined", [True, False])
def test_a_create_batch_whose_answer_is_lost_is_redone_as_a_merge_without_duplicates(tmp_path, pipelined):
    files = {lin.path: ("r1", lin) for lin in synthetic_lineages(30, 3)}
    dumps = []
    for name, lossy in (("clean", False), ("lossy", True)):
        config = GraphStoreConfig(data_dir=tmp_path / name, graph_name=name)
        backend = open_backend(config)
        try:
            target = _LosesCreateReplies(backend) if lossy else backend
            kw = {"pipelined": pipelined, "retry": RetryPolicy(base_delay_s=0.01)}
            sync(target, "bench", files, batch_size=20, writer_kw=kw)
            if lossy:
                assert target.lost == 5
            dumps.append(canonical_dump(backend, include_bookkeeping=False))
        finally:
            backend.close()
            stop_server(config.data_dir)
    assert dumps[0] == dumps[1], "no relationship written twice, none missing"
