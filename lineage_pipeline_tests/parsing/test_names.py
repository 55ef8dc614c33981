"""Spec: name normalization - dialect case rules, quote stripping, qualification kept exactly as written."""

import pytest

from .support import clean, last_writer

NAME_CASES = [
    ("tsql_brackets", "tsql", "INSERT INTO [Sales].[dbo].[Fact Orders] ([Id]) SELECT [ID] FROM [Stage].[Orders]",
     ["stage.orders"], ["sales.dbo.fact orders"], ["sales.dbo.fact orders.id"]),
    ("tsql_quoted_is_case_insensitive", "tsql", 'INSERT INTO "DBO"."T" (A) SELECT "B" FROM "Src"',
     ["src"], ["dbo.t"], ["dbo.t.a"]),
    ("postgres_unquoted_lowered", "postgres", "INSERT INTO Mart.Fact (Amount) SELECT Amt FROM Stage.Src",
     ["stage.src"], ["mart.fact"], ["mart.fact.amount"]),
    ("postgres_quoted_kept", "postgres", 'INSERT INTO "Mart"."Fact" ("Amount") SELECT amt FROM stage.src',
     ["stage.src"], ["Mart.Fact"], ["Mart.Fact.Amount"]),
    ("postgres_quoted_lowercase_equals_unquoted", "postgres", 'INSERT INTO "mart"."fact" (a) SELECT a FROM s',
     ["s"], ["mart.fact"], ["mart.fact.a"]),
    ("snowflake_unquoted_lowered", "snowflake", "INSERT INTO DB.SCH.FACT (AMOUNT) SELECT AMT FROM DB.SCH.SRC",
     ["db.sch.src"], ["db.sch.fact"], ["db.sch.fact.amount"]),
    ("snowflake_quoted_upper_equals_unquoted", "snowflake", 'INSERT INTO "DB"."SCH"."FACT" (a) SELECT a FROM s',
     ["s"], ["db.sch.fact"], ["db.sch.fact.a"]),
    ("snowflake_quoted_mixed_kept", "snowflake", 'INSERT INTO db.sch."MixedCase" (a) SELECT a FROM s',
     ["s"], ["db.sch.MixedCase"], ["db.sch.MixedCase.a"]),
    ("oracle_quoted_mixed_kept", "oracle", 'INSERT INTO hr."Emp" (id) SELECT id FROM hr.src',
     ["hr.src"], ["hr.Emp"], ["hr.Emp.id"]),
    ("bigquery_backticks", "bigquery", "INSERT INTO `my-proj.ds.T` (a) SELECT a FROM `my-proj`.ds.S",
     ["my-proj.ds.s"], ["my-proj.ds.t"], ["my-proj.ds.t.a"]),
    ("mysql_backticks", "mysql", "INSERT INTO `Shop`.`Orders` (id) SELECT id FROM shop.src",
     ["shop.src"], ["shop.orders"], ["shop.orders.id"]),
    ("spark_backticks", "spark", "INSERT INTO `db`.`t` SELECT `a` FROM db.s",
     ["db.s"], ["db.t"], ["db.t.a"]),
    ("no_default_schema_invented", "tsql", "INSERT INTO Fact (a) SELECT a FROM Src",
     ["src"], ["fact"], ["fact.a"]),
]


@pytest.mark.parametrize(("dialect", "sql", "sources", "targets", "columns"), [c[1:] for c in NAME_CASES], ids=[c[0] for c in NAME_CASES])
def test_names(dialect, sql, sources, targets, columns):
    statement = last_writer(sql, dialect)
    assert (statement.sources, statement.targets, [e.target for e in statement.columns]) == (sources, targets, columns)


def test_same_table_spelled_differently_is_one_name_in_tsql():
    result = clean("INSERT INTO [dbo].[T] (a) SELECT 1; INSERT INTO dbo.t (a) SELECT 2; INSERT INTO DBO.T (a) SELECT 3;")
    assert {tuple(s.targets) for s in result.statements} == {("dbo.t",)}


def test_routine_name_normalized():
    result = clean("CREATE PROCEDURE [Etl].[Load_Stuff] AS INSERT INTO a (x) SELECT x FROM b")
    assert result.statements[0].procedure == "etl.load_stuff"
