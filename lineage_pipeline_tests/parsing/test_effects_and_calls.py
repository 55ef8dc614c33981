"""Spec: DDL/maintenance statements are effects, not lineage; procedure calls and dynamic SQL are calls."""

import pytest

from lineage_pipeline.parsing import Effect

from .support import clean

EFFECT_CASES = [
    ("truncate", "tsql", "TRUNCATE TABLE dbo.t", [Effect(kind="truncate", table="dbo.t")]),
    ("truncate_pg", "postgres", "TRUNCATE a, b", [Effect(kind="truncate", table="a"), Effect(kind="truncate", table="b")]),
    ("drop_table", "tsql", "DROP TABLE dbo.t", [Effect(kind="drop", table="dbo.t", detail="table")]),
    ("drop_if_exists", "tsql", "DROP TABLE IF EXISTS dbo.t", [Effect(kind="drop", table="dbo.t", detail="table")]),
    ("drop_view", "snowflake", "DROP VIEW IF EXISTS db.s.v", [Effect(kind="drop", table="db.s.v", detail="view")]),
    ("rename_pg", "postgres", "ALTER TABLE s.a RENAME TO b", [Effect(kind="rename", table="s.a", detail="s.b")]),
    ("rename_snowflake", "snowflake", "ALTER TABLE db.s.a RENAME TO db.s.b",
     [Effect(kind="rename", table="db.s.a", detail="db.s.b")]),
    ("alter_add", "tsql", "ALTER TABLE dbo.t ADD c INT", [Effect(kind="alter", table="dbo.t", detail="columndef")]),
    ("sp_rename", "tsql", "EXEC sp_rename 'dbo.a', 'b'", [Effect(kind="rename", table="dbo.a", detail="b")]),
    ("delete", "tsql", "DELETE FROM dbo.t WHERE id < 10", [Effect(kind="delete", table="dbo.t")]),
    ("delete_join", "tsql", "DELETE t FROM dbo.t t JOIN dbo.s s ON t.id = s.id", [Effect(kind="delete", table="dbo.t")]),
    ("delete_using", "postgres", "DELETE FROM t USING s WHERE t.id = s.id", [Effect(kind="delete", table="t")]),
    ("merge_delete", "tsql",
     "MERGE dbo.t AS t USING dbo.s AS s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE;",
     [Effect(kind="delete", table="dbo.t")]),
    ("create_table", "tsql", "CREATE TABLE dbo.t (a INT, b INT)", [Effect(kind="create", table="dbo.t")]),
]


@pytest.mark.parametrize(("dialect", "sql", "effects"), [c[1:] for c in EFFECT_CASES], ids=[c[0] for c in EFFECT_CASES])
def test_effects(dialect, sql, effects):
    assert clean(sql, dialect).statements[0].effects == effects


@pytest.mark.parametrize(
    ("dialect", "sql", "sources"),
    [
        ("tsql", "DELETE t FROM dbo.t t JOIN dbo.s s ON t.id = s.id", ["dbo.s"]),
        ("postgres", "DELETE FROM t USING s WHERE t.id = s.id", ["s"]),
        ("tsql", "DELETE FROM dbo.t WHERE id IN (SELECT id FROM dbo.bad)", ["dbo.bad"]),
        ("tsql", "DELETE FROM dbo.t", []),
    ],
)
def test_delete_reads_are_sources_and_target_is_not(dialect, sql, sources):
    statement = clean(sql, dialect).statements[0]
    assert (statement.sources, statement.targets) == (sources, [])


@pytest.mark.parametrize(
    ("dialect", "sql", "calls"),
    [
        ("tsql", "EXEC dbo.p", [("procedure", "dbo.p")]),
        ("tsql", "EXECUTE [etl].[Load_Customers] 1, 2", [("procedure", "etl.load_customers")]),
        ("tsql", "EXEC p @a = 1", [("procedure", "p")]),
        ("tsql", "EXEC (@sql)", [("dynamic_sql", None)]),
        ("tsql", "EXEC('SELECT 1')", [("dynamic_sql", None)]),
        ("tsql", "EXEC sp_executesql @stmt", [("dynamic_sql", None)]),
        ("snowflake", "EXECUTE IMMEDIATE 'INSERT INTO t SELECT 1'", [("dynamic_sql", None)]),
        ("oracle", "EXECUTE IMMEDIATE 'TRUNCATE TABLE t'", [("dynamic_sql", None)]),
        ("bigquery", "EXECUTE IMMEDIATE 'SELECT 1'", [("dynamic_sql", None)]),
        ("postgres", "CALL etl.load_all(1)", [("procedure", "etl.load_all")]),
        ("snowflake", "CALL db.sch.proc()", [("procedure", "db.sch.proc")]),
        ("mysql", "CALL load_orders()", [("procedure", "load_orders")]),
    ],
)
def test_calls(dialect, sql, calls):
    statement = clean(sql, dialect).statements[0]
    assert [(c.kind, c.target) for c in statement.calls] == calls
    assert all(c.text for c in statement.calls)


def test_dynamic_sql_text_is_verbatim():
    statement = clean("EXEC sp_executesql N'SELECT * FROM dbo.t WHERE a = @a', N'@a INT', @a = 1").statements[0]
    assert statement.calls[0].text == "EXEC sp_executesql N'SELECT * FROM dbo.t WHERE a = @a', N'@a INT', @a = 1"


def test_effect_statements_have_no_lineage():
    result = clean("TRUNCATE TABLE a; DROP TABLE b; ALTER TABLE c ADD x INT;", "postgres")
    assert all(s.sources == [] and s.targets == [] and s.columns == [] for s in result.statements)
