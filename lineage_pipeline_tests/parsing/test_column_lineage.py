"""Spec: column-level lineage - every written column with its exact source columns and transform."""

import pytest

from .support import CATALOG, edges, last_writer

CASES = [
    # (id, dialect, sql, {target column: (sources, transform)})
    ("direct_named", "tsql", "INSERT INTO dbo.t (a, b) SELECT x, y FROM dbo.s",
     {"dbo.t.a": (["dbo.s.x"], "direct"), "dbo.t.b": (["dbo.s.y"], "direct")}),
    ("positional_not_by_name", "tsql", "INSERT INTO dbo.t (a, b) SELECT b AS a, a AS b FROM dbo.s",
     {"dbo.t.a": (["dbo.s.b"], "direct"), "dbo.t.b": (["dbo.s.a"], "direct")}),
    ("expression", "tsql", "INSERT INTO t (total) SELECT price * qty FROM s",
     {"t.total": (["s.price", "s.qty"], "expression")}),
    ("case_expression", "tsql", "INSERT INTO t (flag) SELECT CASE WHEN a > 0 THEN b ELSE c END FROM s",
     {"t.flag": (["s.a", "s.b", "s.c"], "expression")}),
    ("aggregation", "tsql", "INSERT INTO t (k, total) SELECT k, SUM(v) FROM s GROUP BY k",
     {"t.k": (["s.k"], "direct"), "t.total": (["s.v"], "aggregation")}),
    ("count_star", "tsql", "INSERT INTO t (k, n) SELECT k, COUNT(*) FROM s GROUP BY k",
     {"t.k": (["s.k"], "direct"), "t.n": ([], "aggregation")}),
    ("window", "tsql", "INSERT INTO t (rn) SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) FROM s",
     {"t.rn": (["s.a", "s.b"], "window")}),
    ("window_aggregate", "postgres", "INSERT INTO t (running) SELECT SUM(v) OVER (ORDER BY d) FROM s",
     {"t.running": (["s.d", "s.v"], "window")}),
    ("literal", "tsql", "INSERT INTO t (a, b) SELECT 1, GETDATE() FROM s",
     {"t.a": ([], "expression"), "t.b": ([], "expression")}),
    ("values", "tsql", "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
     {"t.a": ([], "expression"), "t.b": ([], "expression")}),
    ("join_qualified", "tsql",
     "INSERT INTO t (n, amt) SELECT c.name, o.amount FROM dbo.customers c JOIN dbo.orders o ON o.customer_id = c.id",
     {"t.n": (["dbo.customers.name"], "direct"), "t.amt": (["dbo.orders.amount"], "direct")}),
    ("cte_chain", "postgres",
     "WITH a AS (SELECT id, v * 2 AS v2 FROM s), b AS (SELECT id, SUM(v2) AS total FROM a GROUP BY id) "
     "INSERT INTO t (id, total) SELECT id, total FROM b",
     {"t.id": (["s.id"], "direct"), "t.total": (["s.v"], "aggregation")}),
    ("derived_table", "tsql", "INSERT INTO t (x) SELECT q.y FROM (SELECT a + b AS y FROM s) q",
     {"t.x": (["s.a", "s.b"], "expression")}),
    ("union_positions", "tsql", "INSERT INTO t (a) SELECT x FROM s1 UNION ALL SELECT y FROM s2",
     {"t.a": (["s1.x", "s2.y"], "direct")}),
    ("union_three", "postgres", "INSERT INTO t (a, b) SELECT x, 1 FROM s1 UNION SELECT y, z FROM s2 UNION SELECT w, w FROM s3",
     {"t.a": (["s1.x", "s2.y", "s3.w"], "direct"), "t.b": (["s2.z", "s3.w"], "expression")}),
    ("scalar_subquery", "tsql", "INSERT INTO t (a, m) SELECT s.a, (SELECT MAX(v) FROM u WHERE u.id = s.id) FROM s",
     {"t.a": (["s.a"], "direct"), "t.m": (["u.v"], "aggregation")}),
    ("cross_apply_columns", "tsql",
     "INSERT INTO t (a, b) SELECT c.a, x.b FROM c CROSS APPLY (SELECT TOP 1 d.b FROM d WHERE d.id = c.id ORDER BY d.ts) x",
     {"t.a": (["c.a"], "direct"), "t.b": (["d.b"], "direct")}),
    ("ctas_names", "postgres", "CREATE TABLE t AS SELECT a, b + 1 AS c FROM s",
     {"t.a": (["s.a"], "direct"), "t.c": (["s.b"], "expression")}),
    ("view_columns", "tsql", "CREATE VIEW v (x, y) AS SELECT a, b FROM s",
     {"v.x": (["s.a"], "direct"), "v.y": (["s.b"], "direct")}),
    ("select_into_columns", "tsql", "SELECT a, b AS c INTO dbo.copy FROM dbo.s",
     {"dbo.copy.a": (["dbo.s.a"], "direct"), "dbo.copy.c": (["dbo.s.b"], "direct")}),
    ("update_set", "postgres", "UPDATE t SET a = s.x, b = s.y + 1 FROM s WHERE t.id = s.id",
     {"t.a": (["s.x"], "direct"), "t.b": (["s.y"], "expression")}),
    ("update_alias", "tsql", "UPDATE x SET x.a = y.b FROM dbo.t x JOIN dbo.s y ON x.id = y.id",
     {"dbo.t.a": (["dbo.s.b"], "direct")}),
    ("update_self", "tsql", "UPDATE dbo.t SET a = a + 1",
     {"dbo.t.a": (["dbo.t.a"], "expression")}),
    ("update_correlated", "tsql", "UPDATE dbo.t SET total = (SELECT SUM(o.v) FROM dbo.o o WHERE o.tid = t.id)",
     {"dbo.t.total": (["dbo.o.v"], "aggregation")}),
    ("update_mysql_join", "mysql", "UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = t2.b",
     {"t1.a": (["t2.b"], "direct")}),
    ("merge_branches", "tsql",
     "MERGE dbo.t AS tg USING dbo.s AS sr ON tg.id = sr.id "
     "WHEN MATCHED THEN UPDATE SET tg.a = sr.a, tg.b = sr.b * 2 "
     "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (sr.id, sr.a);",
     {"dbo.t.a": (["dbo.s.a"], "direct"), "dbo.t.b": (["dbo.s.b"], "expression"), "dbo.t.id": (["dbo.s.id"], "direct")}),
    ("merge_unqualified_insert", "snowflake",
     "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, a) VALUES (id, a)",
     {"t.id": (["s.id"], "direct"), "t.a": (["s.a"], "direct")}),
    ("merge_subquery_source", "tsql",
     "MERGE dbo.t AS tg USING (SELECT id, SUM(v) AS total FROM dbo.s GROUP BY id) AS sr ON tg.id = sr.id "
     "WHEN MATCHED THEN UPDATE SET tg.total = sr.total;",
     {"dbo.t.total": (["dbo.s.v"], "aggregation")}),
    ("star_without_catalog", "tsql", "INSERT INTO dbo.t SELECT * FROM dbo.s",
     {"dbo.t.*": (["dbo.s.*"], "direct")}),
    ("qualified_star_without_catalog", "tsql", "INSERT INTO dbo.t SELECT s.* FROM dbo.s s JOIN dbo.u u ON s.id = u.id",
     {"dbo.t.*": (["dbo.s.*"], "direct")}),
    ("bigquery", "bigquery", "INSERT INTO ds.t (a) SELECT ARRAY_LENGTH(x) FROM ds.s",
     {"ds.t.a": (["ds.s.x"], "expression")}),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_column_edges(dialect, sql, expected):
    statement = last_writer(sql, dialect)
    assert edges(statement) == {k: (sorted(v[0]), v[1]) for k, v in expected.items()}


CATALOG_CASES = [
    ("unqualified_resolved", "tsql",
     "INSERT INTO dbo.customer_summary (customer_id, total) SELECT name, amount FROM dbo.customers c JOIN dbo.orders o ON "
     "o.customer_id = c.id",
     {"dbo.customer_summary.customer_id": (["dbo.customers.name"], "direct"),
      "dbo.customer_summary.total": (["dbo.orders.amount"], "direct")}),
    ("positional_from_catalog", "tsql",
     "INSERT INTO dbo.customer_summary SELECT customer_id, SUM(amount), COUNT(*) FROM dbo.orders GROUP BY customer_id",
     {"dbo.customer_summary.customer_id": (["dbo.orders.customer_id"], "direct"),
      "dbo.customer_summary.total": (["dbo.orders.amount"], "aggregation"),
      "dbo.customer_summary.order_count": ([], "aggregation")}),
    ("star_expanded", "tsql", "INSERT INTO dbo.orders SELECT * FROM stage.orders_raw",
     {"dbo.orders.id": (["stage.orders_raw.id"], "direct"),
      "dbo.orders.customer_id": (["stage.orders_raw.customer_id"], "direct"),
      "dbo.orders.amount": (["stage.orders_raw.amount"], "direct"),
      "dbo.orders.order_date": (["stage.orders_raw.order_date"], "direct")}),
    ("qualified_star_expanded", "tsql",
     "CREATE VIEW dbo.v AS SELECT c.*, o.amount FROM dbo.customers c JOIN dbo.orders o ON o.customer_id = c.id",
     {"dbo.v.id": (["dbo.customers.id"], "direct"), "dbo.v.name": (["dbo.customers.name"], "direct"),
      "dbo.v.region": (["dbo.customers.region"], "direct"), "dbo.v.balance": (["dbo.customers.balance"], "direct"),
      "dbo.v.amount": (["dbo.orders.amount"], "direct")}),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in CATALOG_CASES], ids=[c[0] for c in CATALOG_CASES])
def test_column_edges_with_catalog(dialect, sql, expected):
    statement = last_writer(sql, dialect, CATALOG)
    assert edges(statement) == {k: (sorted(v[0]), v[1]) for k, v in expected.items()}


def test_ambiguous_unqualified_column_is_reported_not_guessed():
    statement = last_writer("INSERT INTO t (a) SELECT amount FROM x JOIN y ON x.id = y.id")
    assert edges(statement) == {"t.a": ([], "direct")}
    assert statement.unresolved_columns == ["amount"]


def test_insert_without_column_list_assumes_output_names():
    statement = last_writer("INSERT INTO t SELECT a, b AS c FROM s")
    assert statement.column_mapping == "assumed"
    assert edges(statement) == {"t.a": (["s.a"], "direct"), "t.c": (["s.b"], "direct")}


@pytest.mark.parametrize(
    ("sql", "catalog", "mapping"),
    [
        ("INSERT INTO dbo.orders (id) SELECT 1", None, "named"),
        ("INSERT INTO dbo.orders SELECT * FROM stage.orders_raw", CATALOG, "catalog"),
        ("INSERT INTO dbo.unknown SELECT a FROM s", CATALOG, "assumed"),
    ],
)
def test_column_mapping_reports_how_columns_were_matched(sql, catalog, mapping):
    assert last_writer(sql, "tsql", catalog).column_mapping == mapping


MORE_CASES = [
    ("cte_column_list", "postgres", "WITH c (x, y) AS (SELECT a, b + 1 FROM s) INSERT INTO t (p, q) SELECT x, y FROM c",
     {"t.p": (["s.a"], "direct"), "t.q": (["s.b"], "expression")}),
    ("cte_column_list_tsql", "tsql",
     "WITH c (x, total) AS (SELECT k, SUM(v) FROM s GROUP BY k) INSERT INTO t (k, v) SELECT x, total FROM c",
     {"t.k": (["s.k"], "direct"), "t.v": (["s.v"], "aggregation")}),
    ("derived_column_list", "postgres", "INSERT INTO t (p) SELECT q.x FROM (SELECT a FROM s) AS q (x)",
     {"t.p": (["s.a"], "direct")}),
    ("tsql_alias_case_insensitive", "tsql",
     "INSERT INTO t (a, b) SELECT S.A, X.b FROM dbo.Src s JOIN (SELECT Id, B FROM dbo.u) x ON x.ID = S.id",
     {"t.a": (["dbo.src.a"], "direct"), "t.b": (["dbo.u.b"], "direct")}),
    ("tsql_cte_case_insensitive", "tsql", "WITH Cte AS (SELECT A FROM dbo.s) INSERT INTO t (a) SELECT cte.a FROM CTE",
     {"t.a": (["dbo.s.a"], "direct")}),
    ("unnamed_expressions_positional", "tsql", "INSERT INTO t SELECT a + 1, b FROM s",
     {"t._col_0": (["s.a"], "expression"), "t.b": (["s.b"], "direct")}),
    ("using_join", "postgres", "INSERT INTO t (id, v) SELECT id, v FROM a JOIN b USING (id)",
     {"t.id": (["a.id", "b.id"], "expression"), "t.v": ([], "direct")}),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES])
def test_more_column_edges(dialect, sql, expected):
    statement = last_writer(sql, dialect)
    assert edges(statement) == {k: (sorted(v[0]), v[1]) for k, v in expected.items()}


PIVOT_CASES = [
    ("tsql_pivot_derived", "tsql",
     "INSERT INTO dbo.p (k, a, b) SELECT k, [2020], pv.[2021] FROM (SELECT k, y, v FROM dbo.s) src "
     "PIVOT (SUM(v) FOR y IN ([2020], [2021])) pv",
     {"dbo.p.k": (["dbo.s.k"], "direct"), "dbo.p.a": (["dbo.s.v", "dbo.s.y"], "aggregation"),
      "dbo.p.b": (["dbo.s.v", "dbo.s.y"], "aggregation")}),
    ("tsql_pivot_table", "tsql",
     "INSERT INTO dbo.p (k, a) SELECT k, [2020] FROM dbo.s PIVOT (SUM(v) FOR y IN ([2020], [2021])) pv",
     {"dbo.p.k": (["dbo.s.k"], "direct"), "dbo.p.a": (["dbo.s.v", "dbo.s.y"], "aggregation")}),
    ("snowflake_pivot", "snowflake",
     'INSERT INTO p (k, a) SELECT k, "2020" FROM s PIVOT (SUM(v) FOR y IN (2020, 2021)) AS pv',
     {"p.k": (["s.k"], "direct"), "p.a": (["s.v", "s.y"], "aggregation")}),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in PIVOT_CASES], ids=[c[0] for c in PIVOT_CASES])
def test_pivot_columns(dialect, sql, expected):
    statement = last_writer(sql, dialect)
    assert edges(statement) == {k: (sorted(v[0]), v[1]) for k, v in expected.items()}
