"""Spec of graph.rows: parse results become node and relationship rows tagged with file and revision."""

from lineage_pipeline.graph.rows import build_file_graph, file_revision, table_of
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, StatementLineage
from lineage_pipeline_tests.graph.lineage_fixtures import insert_select


def test_revision_changes_with_content_and_parser():
    assert file_revision("a" * 64, "tsql", "1") != file_revision("b" * 64, "tsql", "1")
    assert file_revision("a" * 64, "tsql", "1") != file_revision("a" * 64, "tsql", "2")
    assert file_revision("a" * 64, "tsql", "1") != file_revision("a" * 64, "postgres", "1"), "a dialect change rewrites"


def test_table_of_column_key_drops_only_the_column():
    assert table_of("db.stg.accounts.balance") == "db.stg.accounts"


def test_insert_select_rows():
    lineage = insert_select("core/load.sql", "stg.accounts", "dw.dim_account", {"id": ["account_id"], "bal": ["balance"]})
    graph = build_file_graph(lineage, "core", "f" * 64, "rev1")
    assert graph.file == {
        "path": "core/load.sql", "domain": "core", "sha256": "f" * 64, "rev": "rev1",
        "dialect": "tsql", "statements": 1, "errors": 0,
    }
    assert set(graph.tables) == {"stg.accounts", "dw.dim_account"}
    assert set(graph.columns) == {"dw.dim_account.id", "dw.dim_account.bal", "stg.accounts.account_id", "stg.accounts.balance"}
    assert [(r["src"], r["dst"]) for r in graph.relationships["FEEDS"]] == [("stg.accounts", "dw.dim_account")]
    assert [(r["src"], r["dst"]) for r in graph.relationships["READS"]] == [("core/load.sql", "stg.accounts")]
    assert [(r["src"], r["dst"]) for r in graph.relationships["WRITES"]] == [("core/load.sql", "dw.dim_account")]
    assert sorted((r["src"], r["dst"]) for r in graph.relationships["DERIVES"]) == [
        ("stg.accounts.account_id", "dw.dim_account.id"),
        ("stg.accounts.balance", "dw.dim_account.bal"),
    ]
    assert len(graph.relationships["HAS_COLUMN"]) == 4
    every_row = [row for rows in graph.relationships.values() for row in rows]
    assert all(row["file"] == "core/load.sql" and row["rev"] == "rev1" for row in every_row)


def test_repeated_facts_in_one_file_collapse():
    statement = StatementLineage(
        index=0, kind="INSERT", sources=["a.x"], targets=["a.y"],
        columns=[ColumnEdge(target="a.y.c", sources=["a.x.c"])],
    )
    lineage = FileLineage(path="f.sql", dialect="tsql", statements=[statement, statement.model_copy(update={"index": 1})])
    graph = build_file_graph(lineage, "_root", "0" * 64, "r")
    assert len(graph.relationships["FEEDS"]) == 1
    assert len(graph.relationships["DERIVES"]) == 1
    assert len(graph.relationships["HAS_COLUMN"]) == 2


def test_view_kind_wins_and_self_feed_is_dropped():
    lineage = FileLineage(path="v.sql", dialect="tsql", statements=[
        StatementLineage(index=0, kind="UPDATE", sources=["dw.t"], targets=["dw.t"]),
        StatementLineage(index=1, kind="CREATE VIEW", sources=["dw.t"], targets=["dw.v"], target_kind="view"),
    ])
    graph = build_file_graph(lineage, "core", "0" * 64, "r")
    assert graph.tables["dw.v"]["kind"] == "view"
    assert graph.tables["dw.t"]["kind"] == "table"
    assert [(r["src"], r["dst"]) for r in graph.relationships["FEEDS"]] == [("dw.t", "dw.v")]


def test_reads_and_writes_carry_their_statements_lines_kinds_and_procedures():
    lineage = FileLineage(path="r.sql", dialect="tsql", statements=[
        StatementLineage(index=0, kind="SELECT", line=3, sources=["dw.t"]),
        StatementLineage(index=1, kind="INSERT", line=9, sources=["dw.t", "dw.u"], targets=["rpt.x"], procedure="rpt.usp"),
        StatementLineage(index=2, kind="SELECT", line=20, sources=["dw.t"]),
        StatementLineage(index=3, kind="MERGE", line=30, sources=["dw.u"], targets=["rpt.x"]),
    ])
    graph = build_file_graph(lineage, "reporting", "0" * 64, "r1")
    common = {"src": "r.sql", "file": "r.sql", "rev": "r1"}
    sites = {"statements": [1, 3], "lines": [9, 30], "kinds": ["INSERT", "MERGE"], "procedures": ["rpt.usp", ""]}
    assert graph.relationships["READS"] == [
        {**common, "dst": "dw.t", "statements": [0, 1, 2], "lines": [3, 9, 20], "kinds": ["SELECT", "INSERT", "SELECT"],
         "procedures": ["", "rpt.usp", ""]},
        {**common, "dst": "dw.u", **sites},
    ]
    assert graph.relationships["WRITES"] == [
        {**common, "dst": "rpt.x", **sites},
    ]


def test_rows_are_the_same_for_the_same_parse():
    lineage = insert_select("core/load.sql", "stg.a", "dw.b", {"id": ["id"]})
    assert build_file_graph(lineage, "core", "0" * 64, "r") == build_file_graph(lineage, "core", "0" * 64, "r")
