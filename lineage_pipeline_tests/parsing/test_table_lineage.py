"""Spec: table-level lineage per statement kind - exact sources, targets, kind and target_kind."""

import pytest

from .support import last_writer

CASES = [
    # (id, dialect, sql, kind, sources, targets)
    ("SELECT", "tsql", "SELECT a FROM dbo.t1 JOIN dbo.t2 ON t1.id = t2.id", "SELECT", ["dbo.t1", "dbo.t2"], []),
    ("select_subquery", "tsql", "SELECT * FROM (SELECT a FROM s.x) q WHERE a IN (SELECT a FROM s.y)", "SELECT", ["s.x", "s.y"],
     []),
    ("select_cte", "postgres", "WITH c AS (SELECT * FROM raw.events) SELECT * FROM c", "SELECT", ["raw.events"], []),
    ("select_nested_cte", "postgres",
     "WITH a AS (SELECT * FROM s.t1), b AS (WITH inner_c AS (SELECT * FROM s.t2) SELECT * FROM inner_c JOIN a ON true) SELECT * "
     "FROM b",
     "SELECT", ["s.t1", "s.t2"], []),
    ("union", "tsql", "SELECT a FROM x UNION ALL SELECT a FROM y EXCEPT SELECT a FROM z", "SELECT", ["x", "y", "z"], []),
    ("insert_select", "tsql", "INSERT INTO dbo.tgt (a) SELECT a FROM dbo.src", "INSERT", ["dbo.src"], ["dbo.tgt"]),
    ("insert_no_into", "tsql", "INSERT dbo.tgt (a) SELECT a FROM dbo.src", "INSERT", ["dbo.src"], ["dbo.tgt"]),
    ("insert_values", "tsql", "INSERT INTO dbo.tgt (a, b) VALUES (1, 'x')", "INSERT", [], ["dbo.tgt"]),
    ("insert_cte", "tsql", "WITH c AS (SELECT a FROM dbo.src) INSERT INTO dbo.tgt (a) SELECT a FROM c", "INSERT", ["dbo.src"],
     ["dbo.tgt"]),
    ("INSERT OVERWRITE", "spark", "INSERT OVERWRITE TABLE db.tgt SELECT a FROM db.src", "INSERT OVERWRITE", ["db.src"],
     ["db.tgt"]),
    ("insert_overwrite_partition", "hive", "INSERT OVERWRITE TABLE db.tgt PARTITION (ds='1') SELECT a FROM db.src",
     "INSERT OVERWRITE", ["db.src"], ["db.tgt"]),
    ("insert_into_spark", "databricks", "INSERT INTO cat.db.tgt SELECT a FROM cat.db.src", "INSERT", ["cat.db.src"],
     ["cat.db.tgt"]),
    ("ctas", "postgres", "CREATE TABLE mart.t AS SELECT a FROM stage.s", "CREATE TABLE AS", ["stage.s"], ["mart.t"]),
    ("ctas_with", "snowflake", "CREATE OR REPLACE TABLE mart.t AS WITH c AS (SELECT a FROM stage.s) SELECT a FROM c",
     "CREATE TABLE AS", ["stage.s"], ["mart.t"]),
    ("CREATE VIEW", "tsql", "CREATE VIEW dbo.v AS SELECT a FROM dbo.t", "CREATE VIEW", ["dbo.t"], ["dbo.v"]),
    ("create_or_replace_view", "snowflake", "CREATE OR REPLACE VIEW db.sch.v AS SELECT a FROM db.sch.t", "CREATE VIEW",
     ["db.sch.t"], ["db.sch.v"]),
    ("create_or_alter_view", "tsql", "CREATE OR ALTER VIEW dbo.v AS SELECT a FROM dbo.t", "CREATE VIEW", ["dbo.t"], ["dbo.v"]),
    ("materialized_view", "postgres", "CREATE MATERIALIZED VIEW mv AS SELECT a FROM t", "CREATE MATERIALIZED VIEW", ["t"],
     ["mv"]),
    ("SELECT INTO", "tsql", "SELECT a INTO dbo.copy FROM dbo.orig", "SELECT INTO", ["dbo.orig"], ["dbo.copy"]),
    ("update_from", "postgres", "UPDATE t SET a = s.a FROM s WHERE t.id = s.id", "UPDATE", ["s"], ["t"]),
    ("update_alias_join", "tsql", "UPDATE x SET x.a = y.b FROM dbo.t x JOIN dbo.s y ON x.id = y.id", "UPDATE", ["dbo.s"],
     ["dbo.t"]),
    ("update_correlated", "tsql", "UPDATE dbo.t SET a = (SELECT MAX(b) FROM dbo.s WHERE s.id = t.id)", "UPDATE", ["dbo.s"],
     ["dbo.t"]),
    ("update_where_in", "tsql", "UPDATE dbo.t SET flag = 1 WHERE id IN (SELECT id FROM dbo.s)", "UPDATE", ["dbo.s"], ["dbo.t"]),
    ("MERGE", "tsql",
     "MERGE dbo.t AS tg USING dbo.s AS sr ON tg.id = sr.id WHEN MATCHED THEN UPDATE SET tg.a = sr.a "
     "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (sr.id, sr.a);", "MERGE", ["dbo.s"], ["dbo.t"]),
    ("merge_using_subquery", "snowflake",
     "MERGE INTO t USING (SELECT id, a FROM s JOIN u USING (id)) src ON t.id = src.id "
     "WHEN MATCHED THEN UPDATE SET t.a = src.a", "MERGE", ["s", "u"], ["t"]),
    ("cross_apply", "tsql",
     "INSERT INTO dbo.tgt (a, b) SELECT c.a, x.b FROM dbo.c c CROSS APPLY (SELECT TOP 1 b FROM dbo.d WHERE d.id = c.id) x",
     "INSERT", ["dbo.c", "dbo.d"], ["dbo.tgt"]),
    ("outer_apply", "tsql",
     "INSERT INTO dbo.tgt (a, b) SELECT c.a, x.b FROM dbo.c c OUTER APPLY (SELECT TOP 1 b FROM dbo.d WHERE d.id = c.id) x",
     "INSERT", ["dbo.c", "dbo.d"], ["dbo.tgt"]),
    ("lateral", "postgres",
     "INSERT INTO tgt (a, b) SELECT c.a, x.b FROM c, LATERAL (SELECT b FROM d WHERE d.id = c.id LIMIT 1) x",
     "INSERT", ["c", "d"], ["tgt"]),
    ("bigquery_backticks", "bigquery", "INSERT INTO `proj.ds.tgt` (a) SELECT a FROM `proj.ds.src`", "INSERT", ["proj.ds.src"],
     ["proj.ds.tgt"]),
    ("bigquery_parts", "bigquery", "INSERT INTO proj.ds.tgt (a) SELECT a FROM `proj`.`ds`.`src`", "INSERT", ["proj.ds.src"],
     ["proj.ds.tgt"]),
    ("oracle", "oracle", "INSERT INTO hr.emp_copy (id) SELECT id FROM hr.emp", "INSERT", ["hr.emp"], ["hr.emp_copy"]),
    ("mysql_backticks", "mysql", "INSERT INTO `shop`.`orders_copy` SELECT * FROM `shop`.`orders`", "INSERT", ["shop.orders"],
     ["shop.orders_copy"]),
    ("redshift", "redshift", "INSERT INTO mart.f SELECT a FROM stage.s", "INSERT", ["stage.s"], ["mart.f"]),
    ("duckdb", "duckdb", "CREATE TABLE t2 AS SELECT * FROM read_parquet('x.parquet') JOIN t1 USING (id)", "CREATE TABLE AS",
     ["t1"], ["t2"]),
    ("three_part_tsql", "tsql", "INSERT INTO Sales.dbo.Fact (a) SELECT a FROM Staging.dbo.Src", "INSERT", ["staging.dbo.src"],
     ["sales.dbo.fact"]),
    ("tsql_default_schema", "tsql", "INSERT INTO Sales..Fact (a) SELECT a FROM Staging..Src", "INSERT", ["staging..src"],
     ["sales..fact"]),
    ("self_insert", "tsql", "INSERT INTO dbo.t (a) SELECT a + 1 FROM dbo.t", "INSERT", ["dbo.t"], ["dbo.t"]),
]


@pytest.mark.parametrize(("dialect", "sql", "kind", "sources", "targets"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_table_lineage(dialect, sql, kind, sources, targets):
    statement = last_writer(sql, dialect)
    assert (statement.kind, statement.sources, statement.targets) == (kind, sources, targets)


@pytest.mark.parametrize(
    ("sql", "dialect", "target_kind"),
    [
        ("CREATE VIEW v AS SELECT 1 AS a", "tsql", "view"),
        ("CREATE MATERIALIZED VIEW v AS SELECT a FROM t", "snowflake", "view"),
        ("CREATE TABLE t AS SELECT a FROM s", "postgres", "table"),
        ("INSERT INTO t SELECT a FROM s", "postgres", "table"),
    ],
)
def test_target_kind(sql, dialect, target_kind):
    assert last_writer(sql, dialect).target_kind == target_kind
