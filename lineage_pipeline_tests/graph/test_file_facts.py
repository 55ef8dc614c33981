"""Spec of graph.file_facts: each file's warehouse facts read from a real FalkorDB by path, and the refresh
after a graph write reading only the files that write changed (the whole domain only when its facts
are not current)."""

import shutil
from pathlib import Path

from lineage_pipeline.graph.file_facts import facts_of_rows, read_file_facts, refresh_facts, with_views
from lineage_pipeline.graph.rows import build_file_graph
from lineage_pipeline.graph.writer import GraphWriter, SyncReport
from lineage_pipeline.stores.warehouse_facts import FileFacts, WarehouseFacts
from lineage_pipeline_tests.explore.conftest import CORPUS, ingest, parse_corpus


class CountingBackend:
    """A backend whose reads are recorded: the query and the paths each one asked about."""

    def __init__(self, backend):
        self.backend = backend
        self.queries: list[str] = []
        self.paths: list[str] = []

    def read(self, query, params=None):
        self.queries.append(query)
        self.paths += (params or {}).get("paths", [])
        return self.backend.read(query, params)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def sync(backend, root: Path, domain: str) -> SyncReport:
    """Sync ``domain`` of the corpus at ``root`` with the real GraphWriter (revision = content hash)."""
    by_path = {path: (sha, lineage) for path, sha, lineage in parse_corpus(root).get(domain, [])}

    def graphs_for(paths):
        return [build_file_graph(by_path[p][1], domain, by_path[p][0], by_path[p][0]) for p in paths]

    return GraphWriter(backend).sync_domain(domain, {path: sha for path, (sha, _) in by_path.items()}, graphs_for, force=True)


def refreshed(backend, store: WarehouseFacts, domain: str, report: SyncReport | None = None) -> int:
    """What a graph write does after its sync: mark the domain, then refresh it."""
    current = store.begin_write(domain)
    written, deleted = (report.files_written, report.files_deleted) if report else ([], [])
    return refresh_facts(store, backend, domain, written, deleted, whole=not current, corpus_root="/corpus")


def test_the_facts_of_a_file_as_the_graph_holds_them(falkordb_backend):
    ingest(falkordb_backend)
    facts = list(read_file_facts(
        falkordb_backend, "core", ["core/usp_load_dim_account.sql", "core/absent.sql"]
    ))
    assert facts == [
        FileFacts(
            path="core/usp_load_dim_account.sql", domain="core", dialect="tsql",
            writes={"dw.dim_account": [(0, 4, "INSERT")]},
            reads=["stg.accounts"], feeds={"dw.dim_account": ["stg.accounts"]},
            columns={"dw.dim_account": ["account_id", "balance_eur"], "stg.accounts": ["account_id", "balance"]},
            derives={"dw.dim_account": {
                "account_id": [("stg.accounts", "account_id", "direct")],
                "balance_eur": [("stg.accounts", "balance", "expression")],
            }},
        ),
        FileFacts(path="core/absent.sql", domain="core"),
    ]
    [view] = read_file_facts(falkordb_backend, "reporting", ["reporting/balance_summary.sql"])
    assert view.views == ["rpt.balance_summary"] and view.tables == {"dw.dim_account", "rpt.balance_summary"}


def test_a_write_of_n_files_reads_only_those_files(falkordb_backend, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS, root)
    ingest(falkordb_backend, root)
    counting = CountingBackend(falkordb_backend)
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    assert refreshed(counting, store, "reporting") == 2, "first refresh of the domain: all its files"
    before = {f.path: f for f in store.rows()}

    (root / "reporting" / "report_balances.sql").write_text("SELECT account_id FROM stg.accounts;\n")
    (root / "reporting" / "new.sql").write_text("INSERT INTO rpt.t (id) SELECT account_id FROM dw.dim_account;\n")
    report = sync(falkordb_backend, root, "reporting")
    assert sorted(report.files_written) == ["reporting/new.sql", "reporting/report_balances.sql"]
    counting.queries.clear(), counting.paths.clear()
    assert refreshed(counting, store, "reporting", report) == 2
    assert len(counting.queries) == 5 and sorted(counting.paths) == sorted(report.files_written * 5), (
        "five reads, each of the written files only (no domain listing)"
    )
    after = {f.path: f for f in store.rows()}
    assert after["reporting/report_balances.sql"].reads == ["stg.accounts"]
    assert list(after["reporting/new.sql"].writes) == ["rpt.t"]
    assert after["reporting/balance_summary.sql"] == before["reporting/balance_summary.sql"]

    (root / "reporting" / "new.sql").unlink()
    report = sync(falkordb_backend, root, "reporting")
    counting.queries.clear(), counting.paths.clear()
    assert refreshed(counting, store, "reporting", report) == 0 and counting.queries == []
    assert store.paths("reporting") == {"reporting/balance_summary.sql", "reporting/report_balances.sql"}


def test_a_domain_not_current_is_read_whole(falkordb_backend, tmp_path):
    ingest(falkordb_backend)
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    refreshed(falkordb_backend, store, "staging")
    store.put("staging", [FileFacts(path="staging/stale.sql", domain="staging")])
    # a write whose refresh never ran: the next write of one file reads every file of the domain
    store.begin_write("staging")
    counting = CountingBackend(falkordb_backend)
    assert refreshed(counting, store, "staging", SyncReport("staging", files_written=["staging/load_accounts.sql"])) == 2
    assert store.paths("staging") == {"staging/00_create_stg_accounts.sql", "staging/load_accounts.sql"}


def test_a_retired_domain_loses_its_rows(falkordb_backend, tmp_path):
    ingest(falkordb_backend)
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    for domain in ("staging", "core"):
        refreshed(falkordb_backend, store, domain)
    assert refresh_facts(store, falkordb_backend, "core", [], ["core/usp_load_dim_account.sql"], retired=True) == 0
    assert {f.domain for f in store.rows()} == {"staging"}


def test_facts_of_the_written_rows_equal_the_facts_read_back(falkordb_backend):
    """A cold write of N files read N files' facts back (five reads each chunk); the rows it just wrote
    say the same, except which tables are views, which one indexed read of the touched tables adds."""
    ingest(falkordb_backend)
    for domain, files in parse_corpus(CORPUS).items():
        graphs = [build_file_graph(lineage, domain, sha, sha) for _, sha, lineage in files]
        from_rows = list(with_views(falkordb_backend, (facts_of_rows(g, domain) for g in graphs)))
        read_back = list(read_file_facts(falkordb_backend, domain, [g.path for g in graphs]))
        assert from_rows == read_back


def test_a_refresh_given_the_written_facts_reads_only_the_views(falkordb_backend, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS, root)
    ingest(falkordb_backend, root)
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    refreshed(falkordb_backend, store, "reporting")
    (root / "reporting" / "new.sql").write_text("INSERT INTO rpt.t (id) SELECT account_id FROM dw.dim_account;\n")
    kept = {}
    by_path = {p: (sha, lin) for p, sha, lin in parse_corpus(root)["reporting"]}

    def graphs_for(paths):
        graphs = [build_file_graph(by_path[p][1], "reporting", by_path[p][0], by_path[p][0]) for p in paths]
        kept.update((g.path, facts_of_rows(g, "reporting").model_dump_json()) for g in graphs)
        return graphs

    current = {path: sha for path, sha, _ in parse_corpus(root)["reporting"]}
    report = GraphWriter(falkordb_backend).sync_domain("reporting", current, graphs_for, force=True)
    assert report.files_written == ["reporting/new.sql"]
    counting = CountingBackend(falkordb_backend)
    assert store.begin_write("reporting")
    refresh_facts(store, counting, "reporting", report.files_written, [], written_facts=kept)
    assert counting.paths == [] and len(counting.queries) == 1, "one read: which touched tables are views"
    assert {f.path: f for f in store.rows()}["reporting/new.sql"] == next(
        read_file_facts(falkordb_backend, "reporting", ["reporting/new.sql"])
    )
