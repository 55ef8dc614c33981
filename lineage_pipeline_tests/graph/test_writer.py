"""Spec of graph.writer against a real embedded FalkorDB: exact per-file replacement, no-op reruns, guard."""

import pytest

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.rows import build_file_graph
from lineage_pipeline.graph.writer import DeletionGuardError, GraphWriter
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline_tests.graph.lineage_fixtures import insert_select


def snapshot(backend: GraphBackend) -> tuple[set, set]:
    """Full node and relationship sets, for comparing a graph with a clean ingest."""
    nodes = {
        (labels[0], key)
        for labels, key in backend.read("MATCH (n) RETURN labels(n), coalesce(n.key, n.path)")
    }
    rels = {
        tuple(row)
        for row in backend.read(
            "MATCH (a)-[e]->(b) RETURN type(e), coalesce(a.key, a.path), coalesce(b.key, b.path), e.file, e.rev"
        )
    }
    return nodes, rels


def sync(backend: GraphBackend, domain: str, files: dict[str, tuple[str, FileLineage]], batch_size: int = 1000, **kw):
    """Sync ``domain`` to ``files`` (path -> (rev, lineage))."""
    writer = GraphWriter(backend, batch_size=batch_size)
    current = {path: rev for path, (rev, _) in files.items()}

    def graphs_for(paths):
        return [build_file_graph(files[p][1], domain, "0" * 64, files[p][0]) for p in paths]

    return writer.sync_domain(domain, current, graphs_for, **kw)


A = insert_select("core/a.sql", "stg.accounts", "dw.dim_account", {"id": ["account_id"]})
B = insert_select("core/b.sql", "dw.dim_account", "rpt.accounts", {"id": ["id"]})
A2 = insert_select("core/a.sql", "stg.accounts_v2", "dw.dim_account", {"id": ["acct_no"]})


def test_first_sync_writes_all_files(falkordb_backend):
    report = sync(falkordb_backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    assert report.files_written == ["core/a.sql", "core/b.sql"]
    nodes, rels = snapshot(falkordb_backend)
    assert ("Table", "rpt.accounts") in nodes and ("SqlFile", "core/a.sql") in nodes
    assert ("FEEDS", "stg.accounts", "dw.dim_account", "core/a.sql", "r1") in rels
    assert ("DERIVES", "dw.dim_account.id", "rpt.accounts.id", "core/b.sql", "r1") in rels


def test_unchanged_rerun_writes_nothing(falkordb_backend):
    files = {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}
    sync(falkordb_backend, "core", files)
    before = snapshot(falkordb_backend)
    report = sync(falkordb_backend, "core", files)
    assert report.files_written == [] and report.files_deleted == []
    assert report.stats.transactions == 0
    assert snapshot(falkordb_backend) == before


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_changed_file_equals_clean_ingest(falkordb_backend, batch_size):
    sync(falkordb_backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)}, batch_size=batch_size)
    sync(falkordb_backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)}, batch_size=batch_size)
    incremental = snapshot(falkordb_backend)
    falkordb_backend.write("MATCH (n) DETACH DELETE n")
    sync(falkordb_backend, "core", {"core/a.sql": ("r2", A2), "core/b.sql": ("r1", B)})
    assert incremental == snapshot(falkordb_backend)
    nodes, rels = incremental
    assert ("Table", "stg.accounts") not in nodes, "a table no file mentions any more is pruned"
    assert ("Column", "stg.accounts.account_id") not in nodes
    assert not any(rel[3] == "core/a.sql" and rel[4] == "r1" for rel in rels)


def test_deleted_file_leaves_no_trace(falkordb_backend):
    sync(falkordb_backend, "core", {"core/a.sql": ("r1", A), "core/b.sql": ("r1", B)})
    report = sync(falkordb_backend, "core", {"core/b.sql": ("r1", B)})
    assert report.files_deleted == ["core/a.sql"]
    nodes, rels = snapshot(falkordb_backend)
    assert ("SqlFile", "core/a.sql") not in nodes
    assert ("Table", "stg.accounts") not in nodes
    assert ("Table", "dw.dim_account") in nodes, "still read by core/b.sql"
    assert not any(rel[3] == "core/a.sql" for rel in rels)


def test_shared_table_survives_other_domain_change(falkordb_backend):
    sync(falkordb_backend, "core", {"core/a.sql": ("r1", A)})
    sync(falkordb_backend, "reporting", {"reporting/b.sql": ("r1", B.model_copy(update={"path": "reporting/b.sql"}))})
    sync(falkordb_backend, "core", {})
    nodes, rels = snapshot(falkordb_backend)
    assert ("Table", "dw.dim_account") in nodes
    assert ("FEEDS", "dw.dim_account", "rpt.accounts", "reporting/b.sql", "r1") in rels


def test_guard_refuses_mass_deletion_unless_forced(falkordb_backend):
    files = {f"core/f{i}.sql": ("r1", insert_select(f"core/f{i}.sql", f"s.t{i}", f"d.t{i}", {"c": ["c"]})) for i in range(8)}
    sync(falkordb_backend, "core", files)
    with pytest.raises(DeletionGuardError, match="refusing to delete 8 of 8 files of domain 'core'"):
        sync(falkordb_backend, "core", {})
    assert len(snapshot(falkordb_backend)[0]) > 8, "nothing was deleted"
    report = sync(falkordb_backend, "core", {}, force=True)
    assert len(report.files_deleted) == 8
    assert snapshot(falkordb_backend) == (set(), set())


HOSTILE_NAMES = [
    'stg."quoted"',
    "stg.{braces}",
    "stg.`back``tick`",
    "stg.a // comment",
    "stg.x}) DETACH DELETE n //",
    "stg.t' OR 1=1 --",
    "stg.Überweisung_日本",
]


def test_hostile_names_stored_verbatim_and_nothing_else_changes(falkordb_backend):
    sync(falkordb_backend, "core", {"core/a.sql": ("r1", A)})
    before_nodes, before_rels = snapshot(falkordb_backend)
    lineages = {
        f"core/h{i}.sql": ("r1", insert_select(f"core/h{i}.sql", name, "dw.target", {"col": ["c"]}))
        for i, name in enumerate(HOSTILE_NAMES)
    }
    sync(falkordb_backend, "core", {"core/a.sql": ("r1", A), **lineages})
    nodes, rels = snapshot(falkordb_backend)
    for name in HOSTILE_NAMES:
        assert ("Table", name) in nodes
        assert ("FEEDS", name, "dw.target", next(p for p, (_, l) in lineages.items() if l.statements[0].sources == [name]), "r1") in rels
    assert before_nodes <= nodes and before_rels <= rels
