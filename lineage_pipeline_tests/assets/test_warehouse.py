"""Spec of assets.warehouse: a snapshot of the fixture corpus's graph (real FalkorDB) becomes external
assets with deps, column schema, column lineage and code references, and loads in Definitions."""

import json
import time

import dagster as dg
import pytest

from lineage_pipeline.assets.warehouse import (
    ColumnSource,
    WarehouseSnapshot,
    WarehouseTable,
    WriteSite,
    asset_key_of,
    load_snapshot,
    warehouse_specs,
    write_snapshot,
)
from lineage_pipeline_tests.explore.conftest import ingest

pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")  # code references are beta in 1.13


@pytest.fixture
def snapshot(falkordb_backend, monkeypatch, tmp_path):
    """The explore fixture corpus in a real FalkorDB, snapshotted to a file."""
    ingest(falkordb_backend)
    return write_snapshot(falkordb_backend, tmp_path / "warehouse.json", corpus_root="/corpus")


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


def test_write_and_load_round_trip(snapshot, tmp_path):
    path = tmp_path / "warehouse.json"
    assert load_snapshot(path) == snapshot
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert load_snapshot(tmp_path / "absent.json") == WarehouseSnapshot()


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


def test_warehouse_definitions_from_the_snapshot_file(snapshot, tmp_path):
    from lineage_pipeline.assets.warehouse import warehouse_definitions

    keys = warehouse_definitions(tmp_path / "warehouse.json").resolve_asset_graph().get_all_asset_keys()
    assert keys == {asset_key_of(t.key) for t in snapshot.tables}
    assert warehouse_definitions(tmp_path / "none.json").resolve_asset_graph().get_all_asset_keys() == set()
