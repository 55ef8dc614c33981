"""Spec of assets.warehouse: the per-file facts of a corpus's graph (real FalkorDB) add up to the warehouse
the whole graph describes - after edits, deletions and a retired domain too - and become external assets
with deps, column schema, column lineage and code references, which load in Definitions."""

import logging
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from lineage_pipeline.assets.warehouse import (
    ColumnSource,
    WarehouseSnapshot,
    WarehouseTable,
    WriteSite,
    asset_key_of,
    load_snapshot,
    warehouse_definitions,
    warehouse_specs,
)
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import ManifestFolder
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.file_facts import refresh_facts
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.pipeline.ingest import CorpusSpec, WriteOptions, parse_domain, scan_domain, write_domain
from lineage_pipeline.pipeline.parse_pool import PoolKeeper
from lineage_pipeline.pipeline.parse_stage import ParseOptions
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts
from lineage_pipeline_tests.conftest import DEMO_CORPUS, DEMO_DIALECTS
from lineage_pipeline_tests.explore.conftest import ingest
from lineage_pipeline_tests.graph.test_file_facts import refreshed, sync

pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")  # code references are beta in 1.13


def reference_snapshot(backend: GraphBackend) -> WarehouseSnapshot:
    """The warehouse as six bulk reads of the whole graph give it (the snapshot every graph write rebuilt
    before issue 18): what the per-file facts must add up to."""
    kinds = dict(backend.read("MATCH (t:Table) RETURN t.key, t.kind"))
    writers: dict[str, list[WriteSite]] = {key: [] for key in kinds}
    for key, path, domain, dialect, statements, lines, statement_kinds in backend.read(
        "MATCH (f:SqlFile)-[e:WRITES]->(t:Table) RETURN t.key, f.path, f.domain, f.dialect, e.statements, e.lines, e.kinds"
    ):
        if not statements:
            writers[key].append(WriteSite(file=path, domain=domain, dialect=dialect))
            continue
        for index, line, kind in zip(statements, lines, statement_kinds, strict=True):
            writers[key].append(WriteSite(file=path, domain=domain, dialect=dialect, statement=index, line=line, kind=kind))
    readers = dict(backend.read("MATCH (f:SqlFile)-[:READS]->(t:Table) RETURN t.key, count(DISTINCT f)"))
    upstream: dict[str, set[str]] = {key: set() for key in kinds}
    for source, target in backend.read("MATCH (a:Table)-[:FEEDS]->(b:Table) RETURN DISTINCT a.key, b.key"):
        if source != target:
            upstream[target].add(source)
    columns: dict[str, set[str]] = {key: set() for key in kinds}
    for key, name in backend.read("MATCH (t:Table)-[:HAS_COLUMN]->(c:Column) RETURN DISTINCT t.key, c.name"):
        columns[key].add(name)
    lineage: dict[str, dict[str, set[tuple[str, str, str]]]] = {key: {} for key in kinds}
    for source_table, source_column, table, column, transform in backend.read(
        "MATCH (a:Column)-[d:DERIVES]->(b:Column) RETURN DISTINCT a.table, a.name, b.table, b.name, d.transform"
    ):
        if table in lineage:
            lineage[table].setdefault(column, set()).add((source_table, source_column, transform or "unknown"))
    return WarehouseSnapshot(tables=[
        WarehouseTable(
            key=key,
            kind=kinds[key] or "table",
            columns=sorted(columns[key]),
            upstream=sorted(upstream[key]),
            column_lineage={
                column: [ColumnSource(table=t, column=c, transform=x) for t, c, x in sorted(sources)]
                for column, sources in sorted(lineage[key].items())
            },
            writers=sorted(writers[key], key=lambda w: (w.file, -1 if w.statement is None else w.statement)),
            readers=int(readers.get(key, 0)),
        )
        for key in sorted(kinds)
    ])


def refresh_all(backend: GraphBackend, path: Path, domains, corpus_root: str = "/corpus") -> WarehouseFacts:
    """Facts of every file of ``domains``, as a first refresh after an upgrade reads them."""
    store = WarehouseFacts(path)
    for domain in domains:
        refresh_facts(store, backend, domain, [], [], whole=not store.begin_write(domain), corpus_root=corpus_root)
    return store


@pytest.fixture
def snapshot(falkordb_backend, tmp_path):
    """The explore fixture corpus in a real FalkorDB, its facts in a store, added up."""
    ingest(falkordb_backend)
    refresh_all(falkordb_backend, tmp_path / "facts.sqlite", ["staging", "core", "reporting"])
    return load_snapshot(tmp_path / "facts.sqlite")


def test_snapshot_of_the_fixture_graph(snapshot):
    tables = {t.key: t for t in snapshot.tables}
    assert sorted(tables) == ["dw.dim_account", "rpt.balance_summary", "src.accounts", "stg.accounts"]
    assert tables["stg.accounts"] == WarehouseTable(
        key="stg.accounts",
        columns=["account_id", "balance"],
        upstream=["src.accounts"],
        column_lineage={
            "account_id": [ColumnSource(table="src.accounts", column="acct_no", transform="direct")],
            "balance": [ColumnSource(table="src.accounts", column="bal", transform="direct")],
        },
        writers=[
            WriteSite(
                file="staging/00_create_stg_accounts.sql", domain="staging", dialect="tsql", statement=0, line=1,
                kind="CREATE TABLE",
            ),
            WriteSite(file="staging/load_accounts.sql", domain="staging", dialect="tsql", statement=0, line=2, kind="INSERT"),
        ],
        readers=2,
    )
    assert tables["rpt.balance_summary"].kind == "view"
    assert tables["src.accounts"].writers == [] and tables["src.accounts"].readers == 1


def test_the_facts_add_up_to_the_whole_graphs_warehouse(snapshot, falkordb_backend, tmp_path):
    assert snapshot.tables == reference_snapshot(falkordb_backend).tables
    assert snapshot.corpus_root == "/corpus" and snapshot.created_at
    assert load_snapshot(tmp_path / "absent.sqlite") == WarehouseSnapshot()
    assert not (tmp_path / "absent.sqlite").exists(), "loading makes no file"


class DemoIngest:
    """The demo corpus ingested through the ingest service, warehouse facts kept by ``write_domain``."""

    def __init__(self, work: Path, backend: GraphBackend, pools: PoolKeeper):
        self.corpus, data = work / "corpus", work / "data"
        shutil.copytree(DEMO_CORPUS, self.corpus)
        self.spec = CorpusSpec(self.corpus, [".sql"], DEMO_DIALECTS, "postgres", 5_000_000)
        self.manifests = ManifestFolder(data / "manifests")
        self.cache = ParseCache(data / "parse_cache.sqlite", max_entries=10_000, ttl_seconds=86400.0)
        self.results = ParseResults(data / "parse_results.sqlite")
        self.facts = WarehouseFacts(data / "warehouse_facts.sqlite")
        self.backend, self.pools = backend, pools
        self.write = WriteOptions(batch_size=1000, max_delete_fraction=1.0, retry=RetryPolicy(), orphan_policy="remove",
                                  pipelined=True)

    def run(self, domain: str, retire: bool = False) -> None:
        scan_domain(domain, self.spec, self.manifests)
        parse_domain(domain, self.spec, self.manifests, self.cache, self.results, ParseOptions(workers=1, pools=self.pools))
        write_domain(domain, self.manifests, self.results, self.backend, self.write, count_graph=False,
                     warehouse_facts=self.facts, retire=retire)

    def snapshot(self) -> WarehouseSnapshot:
        return load_snapshot(self.facts.path)


def test_the_facts_follow_the_demo_corpus_through_edits_deletions_and_a_retired_domain(falkordb_backend, tmp_path):
    with PoolKeeper() as pools:
        demo = DemoIngest(tmp_path, falkordb_backend, pools)
        for domain in discover_domains(demo.corpus, [".sql"]):
            demo.run(domain)
        first = demo.snapshot()
        assert first.tables == reference_snapshot(falkordb_backend).tables
        assert first.corpus_root == str(demo.corpus.resolve())
        assert {t.kind for t in first.tables} == {"table", "view"} and len(first.tables) > 40

        finance = demo.corpus / "core" / "views_dw_finance.sql"
        finance.write_text(finance.read_text() + "\nCREATE VIEW dw.v_new AS SELECT account_id FROM dw.dim_account;\n")
        (demo.corpus / "staging" / "load_stg_cards.sql").unlink()
        demo.run("core")
        demo.run("staging")
        edited = demo.snapshot()
        assert edited.tables == reference_snapshot(falkordb_backend).tables
        assert {t.key for t in edited.tables} - {t.key for t in first.tables} == {"dw.v_new"}
        assert "staging/load_stg_cards.sql" not in {w.file for t in edited.tables for w in t.writers}

        shutil.rmtree(demo.corpus / "risk")
        demo.run("risk", retire=True)
        retired = demo.snapshot()
        assert retired.tables == reference_snapshot(falkordb_backend).tables
        assert not any(w.domain == "risk" for t in retired.tables for w in t.writers)


def test_specs(snapshot):
    specs = {spec.key: spec for spec in warehouse_specs(snapshot)}
    dim = specs[dg.AssetKey(["dw", "dim_account"])]
    assert [d.asset_key for d in dim.deps] == [dg.AssetKey(["stg", "accounts"])]
    assert dim.group_name == "core" and dim.kinds == {"tsql", "table"}
    assert [c.name for c in dim.metadata["dagster/column_schema"].columns] == ["account_id", "balance_eur"]
    assert dim.metadata["dagster/column_lineage"] == dg.TableColumnLineage(deps_by_column={
        "account_id": [dg.TableColumnDep(asset_key=dg.AssetKey(["stg", "accounts"]), column_name="account_id")],
        "balance_eur": [dg.TableColumnDep(asset_key=dg.AssetKey(["stg", "accounts"]), column_name="balance")],
    })
    [reference] = dim.metadata["dagster/code_references"].code_references
    assert (reference.file_path, reference.line_number) == ("/corpus/core/usp_load_dim_account.sql", 4)
    assert dim.metadata["lineage/graph"] == dg.MetadataValue.asset(dg.AssetKey("lineage_graph"))
    view = specs[dg.AssetKey(["rpt", "balance_summary"])]
    assert view.kinds == {"tsql", "view"} and view.group_name == "reporting"
    source = specs[dg.AssetKey(["src", "accounts"])]
    assert source.group_name == "warehouse_sources" and "dagster/code_references" not in source.metadata


def test_specs_load_beside_the_pipeline_assets(snapshot):
    from lineage_pipeline.definitions import defs as pipeline

    defs = dg.Definitions.merge(pipeline(), dg.Definitions(assets=warehouse_specs(snapshot)))
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["rpt", "balance_summary"])).parent_keys == {dg.AssetKey(["dw", "dim_account"])}


def test_unqualified_names_cannot_collide_with_pipeline_assets():
    assert asset_key_of("lineage_graph") == dg.AssetKey(["unqualified", "lineage_graph"])
    assert asset_key_of("db.stg.t") == dg.AssetKey(["db", "stg", "t"])


def synthetic_snapshot(tables: int, columns: int = 8) -> WarehouseSnapshot:
    """``tables`` tables in 10 schemas, each written by one file from the two tables before it."""
    result = []
    for i in range(tables):
        key = f"s{i % 10}.t{i}"
        upstream = [f"s{j % 10}.t{j}" for j in (i - 1, i - 2) if j >= 0]
        result.append(WarehouseTable(
            key=key,
            columns=[f"c{c}" for c in range(columns)],
            upstream=upstream,
            column_lineage={f"c{c}": [ColumnSource(table=u, column=f"c{c}", transform="direct") for u in upstream]
                            for c in range(columns)} if upstream else {},
            writers=[
                WriteSite(file=f"d{i % 7}/f{i}.sql", domain=f"d{i % 7}", dialect="tsql", statement=0, line=3, kind="INSERT")
            ],
            readers=3,
        ))
    return WarehouseSnapshot(corpus_root="/corpus", tables=result)


def test_a_thousand_tables_build_quickly():
    snapshot = synthetic_snapshot(1000)
    started = time.perf_counter()
    defs = dg.Definitions(assets=warehouse_specs(snapshot))
    dg.Definitions.validate_loadable(defs)
    assert len(defs.resolve_asset_graph().get_all_asset_keys()) == 1000
    assert time.perf_counter() - started < 60  # measured ~1 s; the bound only catches a blow-up


def test_warehouse_definitions_from_the_facts_file(snapshot, tmp_path):
    keys = warehouse_definitions(tmp_path / "facts.sqlite").resolve_asset_graph().get_all_asset_keys()
    assert keys == {asset_key_of(t.key) for t in snapshot.tables}
    assert warehouse_definitions(tmp_path / "none.sqlite").resolve_asset_graph().get_all_asset_keys() == set()


def test_an_unusable_facts_file_leaves_the_warehouse_out_with_a_warning(tmp_path, caplog):
    broken = tmp_path / "facts.sqlite"
    broken.write_bytes(b"not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="lineage_pipeline.assets.warehouse"):
        assert warehouse_definitions(broken).resolve_asset_graph().get_all_asset_keys() == set()
    assert "warehouse assets left out" in caplog.text
    assert broken.read_bytes() == b"not a database" * 100, "loading repairs nothing: the next graph write does"


@pytest.mark.parametrize("gone", ["file deleted", "domain retired"])
def test_a_view_stays_a_view_after_the_file_declaring_it_goes_as_in_the_graph(falkordb_backend, tmp_path, gone):
    """The graph keeps a table a view while any file touches it; the file that only reads it here was read
    before it became one, so its facts alone would call it a table once the declaring file is gone."""
    root = tmp_path / "corpus"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "read.sql").write_text("SELECT id FROM v.x;\n")
    (root / "b" / "view.sql").write_text("CREATE VIEW v.x AS SELECT id FROM s.t;\n")
    (root / "b" / "other.sql").write_text("INSERT INTO s.t (id) SELECT id FROM s.u;\n")
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    for domain in ("a", "b"):
        refreshed(falkordb_backend, store, domain, sync(falkordb_backend, root, domain))
    assert {t.key: t.kind for t in load_snapshot(store.path).tables}["v.x"] == "view"
    if gone == "file deleted":
        (root / "b" / "view.sql").unlink()
        refreshed(falkordb_backend, store, "b", sync(falkordb_backend, root, "b"))
    else:
        GraphWriter(falkordb_backend).retire_domain("b")
        store.begin_write("b")
        refresh_facts(store, falkordb_backend, "b", [], [], retired=True)
    kinds = {t.key: t.kind for t in load_snapshot(store.path).tables}
    assert load_snapshot(store.path).tables == reference_snapshot(falkordb_backend).tables
    assert kinds["v.x"] == "view" and ("s.t" in kinds) == (gone == "file deleted")
