"""Spec: name normalization - dialect case rules, quote stripping, qualification kept exactly as written."""

import pytest

from lineage_pipeline.parsing import parse_sql

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


@pytest.mark.parametrize(("dialect", "sql", "sources", "targets", "columns"), [c[1:] for c in NAME_CASES],
                         ids=[c[0] for c in NAME_CASES])
def test_names(dialect, sql, sources, targets, columns):
    statement = last_writer(sql, dialect)
    assert (statement.sources, statement.targets, [e.target for e in statement.columns]) == (sources, targets, columns)


def test_same_table_spelled_differently_is_one_name_in_tsql():
    result = clean("INSERT INTO [dbo].[T] (a) SELECT 1; INSERT INTO dbo.t (a) SELECT 2; INSERT INTO DBO.T (a) SELECT 3;")
    assert {tuple(s.targets) for s in result.statements} == {("dbo.t",)}


def test_routine_name_normalized():
    result = clean("CREATE PROCEDURE [Etl].[Load_Stuff] AS INSERT INTO a (x) SELECT x FROM b")
    assert result.statements[0].procedure == "etl.load_stuff"


def test_default_schema_qualifies_every_unqualified_table_consistently():
    sql = (
        "SELECT a.account_id, a.iban INTO #open FROM dim_account a WHERE a.closed IS NULL\n"
        "INSERT INTO rpt.open_accounts (account_id, iban) SELECT o.account_id, o.iban FROM #open o\n"
        "TRUNCATE TABLE staging_fees\n"
        "INSERT INTO fact_fee (account_id) SELECT f.account_id FROM Bank.dw.staging_fees f"
    )
    result = parse_sql(sql, "tsql", default_schema="DBO")
    assert result.errors == []
    _, to_report, truncate, to_fact = result.statements
    assert (to_report.sources, to_report.targets, to_report.temp_tables) == (["dbo.dim_account"], ["rpt.open_accounts"],
                                                                             ["#open"])
    assert [(e.target, e.sources) for e in to_report.columns] == [
        ("rpt.open_accounts.account_id", ["dbo.dim_account.account_id"]),
        ("rpt.open_accounts.iban", ["dbo.dim_account.iban"]),
    ]
    assert [e.table for e in truncate.effects] == ["dbo.staging_fees"]
    assert (to_fact.sources, to_fact.targets) == (["bank.dw.staging_fees"], ["dbo.fact_fee"])
    assert [(e.target, e.sources) for e in to_fact.columns] == [("dbo.fact_fee.account_id", ["bank.dw.staging_fees.account_id"])]


def test_without_default_schema_nothing_is_invented():
    statement = parse_sql("INSERT INTO fact_fee (a) SELECT a FROM fees", "tsql").statements[0]
    assert (statement.sources, statement.targets) == (["fees"], ["fact_fee"])
