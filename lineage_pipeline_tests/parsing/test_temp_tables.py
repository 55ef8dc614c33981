"""Spec: temp tables and table variables are hops - lineage reads persistent source -> persistent target."""

import pytest

from .support import clean, edges, last_writer


def test_select_into_temp_then_insert():
    sql = """
    SELECT id, amount * 2 AS doubled INTO #stage FROM dbo.orders WHERE amount > 0
    INSERT INTO dbo.report (id, value) SELECT id, doubled FROM #stage
    """
    result = clean(sql)
    first, second = result.statements
    assert (first.sources, first.targets, first.columns, first.temp_tables) == (["dbo.orders"], [], [], ["#stage"])
    assert (second.sources, second.targets, second.temp_tables) == (["dbo.orders"], ["dbo.report"], ["#stage"])
    assert edges(second) == {
        "dbo.report.id": (["dbo.orders.id"], "direct"),
        "dbo.report.value": (["dbo.orders.amount"], "expression"),
    }


def test_create_temp_insert_then_read():
    sql = """
    CREATE TABLE #t (k INT, total MONEY);
    INSERT INTO #t (k, total) SELECT customer_id, SUM(amount) FROM dbo.orders GROUP BY customer_id;
    INSERT INTO dbo.summary (customer_id, total) SELECT k, total FROM #t;
    """
    statement = last_writer(sql)
    assert (statement.sources, statement.targets) == (["dbo.orders"], ["dbo.summary"])
    assert edges(statement) == {
        "dbo.summary.customer_id": (["dbo.orders.customer_id"], "direct"),
        "dbo.summary.total": (["dbo.orders.amount"], "aggregation"),
    }


def test_two_hops_through_temps():
    sql = """
    SELECT a, b INTO #one FROM src.x
    SELECT a + b AS c INTO #two FROM #one
    INSERT INTO dst.y (c) SELECT c FROM #two
    """
    statement = last_writer(sql)
    assert (statement.sources, statement.targets, statement.temp_tables) == (["src.x"], ["dst.y"], ["#two"])
    assert edges(statement) == {"dst.y.c": (["src.x.a", "src.x.b"], "expression")}


def test_multiple_inserts_into_temp_accumulate():
    sql = """
    CREATE TABLE #u (v INT)
    INSERT INTO #u (v) SELECT a FROM s1
    INSERT INTO #u (v) SELECT b FROM s2
    INSERT INTO t (v) SELECT v FROM #u
    """
    statement = last_writer(sql)
    assert statement.sources == ["s1", "s2"]
    assert edges(statement) == {"t.v": (["s1.a", "s2.b"], "direct")}


def test_table_variable():
    sql = """
    DECLARE @ids TABLE (id INT, name NVARCHAR(50))
    INSERT INTO @ids (id, name) SELECT id, name FROM dbo.customers WHERE region = 'EU'
    INSERT INTO dbo.eu_customers (id, name) SELECT i.id, i.name FROM @ids i
    """
    statement = last_writer(sql)
    assert (statement.sources, statement.targets, statement.temp_tables) == (
        ["dbo.customers"], ["dbo.eu_customers"], ["@ids"])
    assert edges(statement) == {
        "dbo.eu_customers.id": (["dbo.customers.id"], "direct"),
        "dbo.eu_customers.name": (["dbo.customers.name"], "direct"),
    }


def test_global_temp():
    sql = "SELECT a INTO ##g FROM s; INSERT INTO t (a) SELECT a FROM ##g;"
    statement = last_writer(sql)
    assert (statement.sources, statement.targets, statement.temp_tables) == (["s"], ["t"], ["##g"])
    assert edges(statement) == {"t.a": (["s.a"], "direct")}


def test_temp_star_passes_columns_of_single_table():
    sql = "SELECT * INTO #c FROM dbo.src; INSERT INTO dbo.dst (x) SELECT x FROM #c;"
    assert edges(last_writer(sql)) == {"dbo.dst.x": (["dbo.src.x"], "direct")}


def test_temp_join_with_persistent_table():
    sql = """
    SELECT customer_id, SUM(amount) AS total INTO #totals FROM dbo.orders GROUP BY customer_id
    UPDATE c SET c.balance = t.total FROM dbo.customers c JOIN #totals t ON t.customer_id = c.id
    """
    statement = last_writer(sql)
    assert (statement.kind, statement.sources, statement.targets) == ("UPDATE", ["dbo.orders"], ["dbo.customers"])
    assert edges(statement) == {"dbo.customers.balance": (["dbo.orders.amount"], "aggregation")}


def test_merge_from_temp():
    sql = """
    SELECT id, name INTO #src FROM stage.customers
    MERGE dbo.customers AS t USING #src AS s ON t.id = s.id
    WHEN MATCHED THEN UPDATE SET t.name = s.name
    WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name);
    """
    statement = last_writer(sql)
    assert (statement.sources, statement.targets, statement.temp_tables) == (
        ["stage.customers"], ["dbo.customers"], ["#src"])
    assert edges(statement) == {
        "dbo.customers.name": (["stage.customers.name"], "direct"),
        "dbo.customers.id": (["stage.customers.id"], "direct"),
    }


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("postgres", "CREATE TEMP TABLE tmp AS SELECT a FROM s; INSERT INTO t (a) SELECT a FROM tmp;"),
        ("postgres", "CREATE TEMPORARY TABLE tmp (a INT); INSERT INTO tmp SELECT a FROM s; INSERT INTO t (a) SELECT a FROM tmp;"),
        ("snowflake", "CREATE TEMPORARY TABLE tmp AS SELECT a FROM s; INSERT INTO t (a) SELECT a FROM tmp;"),
        ("databricks", "CREATE TEMPORARY VIEW tmp AS SELECT a FROM s; INSERT INTO t (a) SELECT a FROM tmp;"),
        ("postgres", "SELECT a INTO TEMP tmp FROM s; INSERT INTO t (a) SELECT a FROM tmp;"),
    ],
)
def test_dialect_temp_tables(dialect, sql):
    result = clean(sql, dialect)
    writer = [s for s in result.statements if s.targets][-1]
    assert (writer.sources, writer.targets, writer.temp_tables) == (["s"], ["t"], ["tmp"])
    assert edges(writer) == {"t.a": (["s.a"], "direct")}
    assert all("tmp" not in s.targets for s in result.statements)


def test_temp_names_never_surface():
    sql = """
    CREATE TABLE #a (x INT)
    INSERT #a SELECT x FROM s
    SELECT x INTO #b FROM #a
    UPDATE #b SET x = x + 1
    DELETE FROM #b WHERE x < 0
    TRUNCATE TABLE #a
    INSERT INTO t (x) SELECT x FROM #b
    DROP TABLE #a
    DROP TABLE #b
    """
    result = clean(sql)
    for statement in result.statements:
        names = statement.sources + statement.targets + [e.table for e in statement.effects]
        names += [edge.target for edge in statement.columns] + [src for edge in statement.columns for src in edge.sources]
        assert not any(name.startswith("#") for name in names), statement
    assert edges(last_writer(sql)) == {"t.x": (["s.x"], "expression")}


def test_drop_temp_forgets_it():
    sql = "SELECT a INTO #t FROM s1; DROP TABLE #t; SELECT a INTO #t FROM s2; INSERT INTO t (a) SELECT a FROM #t;"
    assert last_writer(sql).sources == ["s2"]


def test_tempdb_qualified_name_is_the_same_temp():
    sql = (
        "IF OBJECT_ID('tempdb..#t') IS NOT NULL DROP TABLE tempdb..#t\n"
        "SELECT a INTO #t FROM s\nINSERT INTO t (a) SELECT a FROM #t"
    )
    result = clean(sql)
    assert [s.kind for s in result.statements] == ["DROP TABLE", "SELECT INTO", "INSERT"]
    assert result.statements[0].effects == []
    assert result.statements[-1].sources == ["s"]
