"""Spec: dynamic SQL is always a Call; when its SQL is a plain string literal, its lineage is read too."""

import pytest

from lineage_pipeline.parsing import Effect
from lineage_pipeline.parsing.dynamic import dynamic_sql_literal
from lineage_pipeline.parsing.splitting import tokenize

from .support import clean, edges


@pytest.mark.parametrize(
    ("dialect", "sql", "literal"),
    [
        ("tsql", "EXEC('INSERT INTO t SELECT 1')", "INSERT INTO t SELECT 1"),
        ("tsql", "EXECUTE ( N'DELETE FROM t' )", "DELETE FROM t"),
        ("tsql", "EXEC sp_executesql N'SELECT a FROM t WHERE b = @b', N'@b INT', @b = 1", "SELECT a FROM t WHERE b = @b"),
        ("tsql", "EXEC sys.sp_executesql @stmt = N'TRUNCATE TABLE t'", "TRUNCATE TABLE t"),
        ("tsql", "EXEC sp_executesql N'SELECT ''x'' FROM t'", "SELECT 'x' FROM t"),
        ("snowflake", "EXECUTE IMMEDIATE 'INSERT INTO t SELECT 1'", "INSERT INTO t SELECT 1"),
        ("oracle", "EXECUTE IMMEDIATE 'DELETE FROM t WHERE id = :1' USING v_id", "DELETE FROM t WHERE id = :1"),
        ("tsql", "EXEC('SELECT 1 FROM ' + @t)", None),
        ("tsql", "EXEC sp_executesql @sql", None),
        ("tsql", "EXEC(@sql)", None),
        ("tsql", "EXEC dbo.p 'x'", None),
    ],
)
def test_literal_detection(dialect, sql, literal):
    assert dynamic_sql_literal(tokenize(sql, dialect)) == literal


def test_literal_exec_contributes_lineage():
    statement = clean("EXEC('INSERT INTO dbo.t (a) SELECT a FROM dbo.s')").statements[0]
    assert (statement.kind, statement.sources, statement.targets) == ("DYNAMIC SQL", ["dbo.s"], ["dbo.t"])
    assert edges(statement) == {"dbo.t.a": (["dbo.s.a"], "direct")}
    assert [c.kind for c in statement.calls] == ["dynamic_sql"]


def test_literal_sp_executesql_effects():
    statement = clean("EXEC sp_executesql N'DELETE FROM dbo.t WHERE x = @x', N'@x int', @x = 1").statements[0]
    assert statement.effects == [Effect(kind="delete", table="dbo.t")]


def test_literal_dynamic_sql_sees_temp_tables():
    result = clean("SELECT a INTO #x FROM src\nEXEC('INSERT INTO dbo.t (a) SELECT a FROM #x')")
    statement = result.statements[1]
    assert (statement.sources, statement.targets, statement.temp_tables) == (["src"], ["dbo.t"], ["#x"])


def test_snowflake_execute_immediate_literal():
    statement = clean("EXECUTE IMMEDIATE 'INSERT INTO t SELECT a FROM s'", "snowflake").statements[0]
    assert (statement.sources, statement.targets) == (["s"], ["t"])


@pytest.mark.parametrize(
    "sql",
    ["EXEC('SELECT 1 FROM ' + @t)", "EXEC (@sql)", "EXEC sp_executesql @sql, N'@a INT', @a", "EXEC @procname"],
)
def test_runtime_built_sql_is_an_opaque_call_not_an_error(sql):
    statement = clean(sql).statements[0]
    assert (statement.kind, statement.sources, statement.targets) == ("DYNAMIC SQL", [], [])
    assert [(c.kind, c.target, c.text) for c in statement.calls] == [("dynamic_sql", None, sql)]


@pytest.mark.parametrize(
    ("sql", "kinds"),
    [
        ("EXECUTE AS USER = 'etl'\nINSERT INTO t (a) SELECT a FROM s\nREVERT", ["EXECUTE AS", "INSERT", "REVERT"]),
        ("EXEC [etl].[p] @a = 1, @b = @c OUTPUT WITH RECOMPILE", ["EXECUTE"]),
        ("EXEC @rc = dbo.p 1", ["EXECUTE"]),
    ],
)
def test_exec_variants(sql, kinds):
    result = clean(sql)
    assert [s.kind for s in result.statements] == kinds


def test_variable_holding_a_literal_is_followed():
    sql = """
    DECLARE @sql NVARCHAR(MAX) = N'INSERT INTO dbo.t (a) SELECT a FROM dbo.s'
    EXEC sp_executesql @sql
    SET @sql = N'DELETE FROM dbo.t WHERE a IS NULL'
    EXEC (@sql)
    SET @sql = @sql + N' AND b = 1'
    EXEC (@sql)
    """
    result = clean(sql)
    dynamic = [s for s in result.statements if s.kind == "DYNAMIC SQL"]
    assert [(s.sources, s.targets, s.effects) for s in dynamic] == [
        (["dbo.s"], ["dbo.t"], []),
        ([], [], [Effect(kind="delete", table="dbo.t")]),
        ([], [], []),
    ]
    assert all([c.kind for c in s.calls] == ["dynamic_sql"] for s in dynamic)


def test_variables_do_not_leak_across_go_batches():
    sql = "DECLARE @sql NVARCHAR(100) = N'TRUNCATE TABLE dbo.t'\nGO\nEXEC sp_executesql @sql"
    statement = clean(sql).statements[-1]
    assert (statement.kind, statement.effects) == ("DYNAMIC SQL", [])
