"""Spec: dialect-specific constructs - each row is SQL -> exact (kind, sources, targets, column edges)."""

import pytest

from .support import clean

CASES = [
    ("cte_update_tsql", "tsql",
     "WITH c AS (SELECT id, SUM(v) AS s FROM dbo.src GROUP BY id) UPDATE t SET t.total = c.s FROM dbo.tgt t JOIN c ON c.id = "
     "t.id",
     ("UPDATE", ["dbo.src"], ["dbo.tgt"], {"dbo.tgt.total": (["dbo.src.v"], "aggregation")})),
    ("cte_merge_tsql", "tsql",
     "WITH c AS (SELECT id, v FROM dbo.src) MERGE dbo.tgt AS t USING c ON t.id = c.id WHEN MATCHED THEN UPDATE SET t.v = c.v;",
     ("MERGE", ["dbo.src"], ["dbo.tgt"], {"dbo.tgt.v": (["dbo.src.v"], "direct")})),
    ("merge_star_databricks", "databricks",
     "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
     ("MERGE", ["s"], ["t"], {"t.*": (["s.*"], "direct")})),
    ("clone_snowflake", "snowflake", "CREATE TABLE t CLONE s", ("CREATE TABLE", ["s"], ["t"], {})),
    ("like_mysql", "mysql", "CREATE TABLE t LIKE s", ("CREATE TABLE", ["s"], ["t"], {})),
    ("insert_all_oracle", "oracle", "INSERT ALL INTO t1 (a) VALUES (x) INTO t2 (b) VALUES (y) SELECT x, y FROM s",
     ("INSERT ALL", ["s"], ["t1", "t2"], {"t1.a": (["s.x"], "direct"), "t2.b": (["s.y"], "direct")})),
    ("copy_into_snowflake", "snowflake", "COPY INTO db.s.t FROM @stage/path", ("COPY", [], ["db.s.t"], {})),
    ("on_conflict_postgres", "postgres",
     "INSERT INTO t (a, b) SELECT a, b FROM s ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b",
     ("INSERT", ["s"], ["t"], {"t.a": (["s.a"], "direct"), "t.b": (["s.b"], "direct")})),
    ("on_duplicate_mysql", "mysql",
     "INSERT INTO t (a, b) SELECT a, b FROM s ON DUPLICATE KEY UPDATE b = VALUES(b)",
     ("INSERT", ["s"], ["t"], {"t.a": (["s.a"], "direct"), "t.b": (["s.b"], "direct")})),
    ("four_part_tsql", "tsql", "INSERT INTO dbo.t (a) SELECT a FROM [linked].[db].[dbo].[src]",
     ("INSERT", ["linked.db.dbo.src"], ["dbo.t"], {"dbo.t.a": (["linked.db.dbo.src.a"], "direct")})),
    ("qualify_snowflake", "snowflake",
     "INSERT INTO t (id, v) SELECT id, v FROM s QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) = 1",
     ("INSERT", ["s"], ["t"], {"t.id": (["s.id"], "direct"), "t.v": (["s.v"], "direct")})),
    ("flatten_snowflake", "snowflake",
     "INSERT INTO t (id, item) SELECT s.id, f.value FROM s, LATERAL FLATTEN(input => s.items) f",
     ("INSERT", ["s"], ["t"], {"t.id": (["s.id"], "direct"), "t.item": (["s.items"], "expression")})),
    ("unnest_bigquery", "bigquery",
     "INSERT INTO ds.t (id, tag) SELECT s.id, tag FROM ds.s, UNNEST(s.tags) AS tag",
     ("INSERT", ["ds.s"], ["ds.t"], {"ds.t.id": (["ds.s.id"], "direct"), "ds.t.tag": (["ds.s.tags"], "expression")})),
    ("lateral_view_hive", "hive",
     "INSERT OVERWRITE TABLE t SELECT s.id, x FROM s LATERAL VIEW explode(s.arr) e AS x",
     ("INSERT OVERWRITE", ["s"], ["t"], {"t.id": (["s.id"], "direct"), "t.x": (["s.arr"], "expression")})),
    ("ctas_partitioned_spark", "spark",
     "CREATE TABLE db.t USING DELTA PARTITIONED BY (d) AS SELECT d, COUNT(*) AS n FROM db.s GROUP BY d",
     ("CREATE TABLE AS", ["db.s"], ["db.t"], {"db.t.d": (["db.s.d"], "direct"), "db.t.n": ([], "aggregation")})),
    ("replace_view_databricks", "databricks", "CREATE OR REPLACE VIEW cat.sch.v AS SELECT a FROM cat.sch.t",
     ("CREATE VIEW", ["cat.sch.t"], ["cat.sch.v"], {"cat.sch.v.a": (["cat.sch.t.a"], "direct")})),
    ("redshift_temp_hash", "redshift", "SELECT a INTO #r FROM s; INSERT INTO t (a) SELECT a FROM #r;",
     ("INSERT", ["s"], ["t"], {"t.a": (["s.a"], "direct")})),
    ("teradata_volatile", "teradata",
     "CREATE VOLATILE TABLE vt AS (SELECT a FROM s) WITH DATA; INSERT INTO t (a) SELECT a FROM vt;",
     ("INSERT", ["s"], ["t"], {"t.a": (["s.a"], "direct")})),
    ("spark_cache_table", "spark", "CACHE TABLE c AS SELECT a FROM s; INSERT INTO t SELECT a FROM c;",
     ("INSERT", ["s"], ["t"], {"t.a": (["s.a"], "direct")})),
    ("duckdb_ctas", "duckdb", "CREATE OR REPLACE TABLE t AS SELECT a, a * 2 AS b FROM s",
     ("CREATE TABLE AS", ["s"], ["t"], {"t.a": (["s.a"], "direct"), "t.b": (["s.a"], "expression")})),
    ("oracle_merge", "oracle",
     "MERGE INTO hr.t tg USING hr.s sr ON (tg.id = sr.id) WHEN MATCHED THEN UPDATE SET tg.v = sr.v "
     "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (sr.id, sr.v)",
     ("MERGE", ["hr.s"], ["hr.t"], {"hr.t.v": (["hr.s.v"], "direct"), "hr.t.id": (["hr.s.id"], "direct")})),
    ("bigquery_merge", "bigquery",
     "MERGE ds.t T USING ds.s S ON T.id = S.id WHEN MATCHED THEN UPDATE SET v = S.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES "
     "(id, v)",
     ("MERGE", ["ds.s"], ["ds.t"], {"ds.t.v": (["ds.s.v"], "direct"), "ds.t.id": (["ds.s.id"], "direct")})),
    ("postgres_update_from_subquery", "postgres",
     "UPDATE t SET total = x.total FROM (SELECT id, SUM(v) AS total FROM s GROUP BY id) x WHERE x.id = t.id",
     ("UPDATE", ["s"], ["t"], {"t.total": (["s.v"], "aggregation")})),
    ("recursive_cte", "postgres",
     "WITH RECURSIVE r AS (SELECT id, parent FROM tree WHERE parent IS NULL UNION ALL "
     "SELECT t.id, t.parent FROM tree t JOIN r ON t.parent = r.id) INSERT INTO flat (id) SELECT id FROM r",
     ("INSERT", ["tree"], ["flat"], {"flat.id": (["tree.id"], "direct")})),
    ("intersect", "tsql", "INSERT INTO t (a) SELECT a FROM x INTERSECT SELECT b FROM y",
     ("INSERT", ["x", "y"], ["t"], {"t.a": (["x.a", "y.b"], "direct")})),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_dialect_construct(dialect, sql, expected):
    result = clean(sql, dialect)
    statement = [s for s in result.statements if s.targets][-1]
    kind, sources, targets, columns = expected
    assert (statement.kind, statement.sources, statement.targets) == (kind, sources, targets)
    assert {e.target: (e.sources, e.transform) for e in statement.columns} == {
        k: (sorted(v[0]), v[1]) for k, v in columns.items()
    }


def test_mysql_delimiter_script():
    sql = (
        "DELIMITER $$\nCREATE PROCEDURE load_x()\nBEGIN\n  INSERT INTO a SELECT * FROM b;\nEND$$\nDELIMITER ;\n"
        "SELECT 1 FROM c;\n"
    )
    result = clean(sql, "mysql")
    assert [(s.kind, s.sources, s.targets, s.procedure, s.line) for s in result.statements] == [
        ("INSERT", ["b"], ["a"], "load_x", 4), ("SELECT", ["c"], [], None, 7)]


def test_expression_bodied_function_is_one_statement():
    result = clean("CREATE TEMP FUNCTION f(x INT64) AS (x + 1); SELECT f(a) FROM ds.t;", "bigquery")
    assert [(s.kind, s.sources, s.procedure) for s in result.statements] == [
        ("CREATE FUNCTION", [], None), ("SELECT", ["ds.t"], None)]


def test_postgres_sql_function_body_string():
    result = clean("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select a from t'; SELECT 1 FROM u;", "postgres")
    assert [(s.kind, s.sources, s.procedure) for s in result.statements] == [("SELECT", ["t"], "f"), ("SELECT", ["u"], None)]
