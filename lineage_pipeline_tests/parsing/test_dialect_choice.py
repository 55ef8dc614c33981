"""Spec: every installed sqlglot dialect is accepted, dialect names are validated with close matches, and
``suggest_dialect`` finds the dialect that reads a set of files best."""

import pytest
from sqlglot.dialects.dialect import Dialect

from lineage_pipeline.parsing import (
    SUPPORTED_DIALECTS,
    parse_sql,
    suggest_dialect,
    unread_statements,
    validate_dialect,
)

TSQL_FILES = [
    (
        "SET NOCOUNT ON\nGO\nCREATE TABLE [dbo].[Fees] ([Id] INT IDENTITY(1,1) NOT NULL, [Amount] MONEY NULL)\nGO\n"
        "INSERT INTO [dbo].[Fees] ([Amount]) SELECT TOP (10) f.[Amount] FROM [stg].[Fees] f WITH (NOLOCK)\nGO"
    ),
    (
        "DECLARE @d DATETIME2 = SYSDATETIME()\nUPDATE a SET a.[Balance] += t.[Amount] FROM [dbo].[Accounts] a "
        "JOIN #txn t ON t.[Id] = a.[Id]\nSELECT @d = MAX([Booked]) FROM [dbo].[Txn]\nGO"
    ),
    (
        "IF OBJECT_ID('tempdb..#x') IS NOT NULL DROP TABLE #x\nSELECT TOP 5 [Id] INTO #x FROM [dbo].[Accounts]\n"
        "PRINT N'done'\nGO"
    ),
]


def test_every_installed_sqlglot_dialect_is_accepted():
    installed = {name for name in Dialect.classes if name and name != "spark2"}
    assert installed <= set(SUPPORTED_DIALECTS)
    assert {"exasol", "materialize", "clickhouse", "dremio"} <= set(SUPPORTED_DIALECTS)


# DAX and PRQL are not SQL: sqlglot reads their own query languages, not INSERT statements.
@pytest.mark.parametrize("dialect", [d for d in SUPPORTED_DIALECTS if d not in ("dax", "prql")])
def test_every_sql_dialect_reads_a_basic_insert(dialect):
    result = parse_sql("INSERT INTO s.t (a) SELECT b FROM s.u", dialect)
    assert (result.dialect, result.errors) == (dialect, [])
    assert (result.statements[0].sources, result.statements[0].targets) == (["s.u"], ["s.t"])


@pytest.mark.parametrize("name", ["tsql", "TSQL", "mssql", "postgresql", "exasol", "ClickHouse", "", None])
def test_valid_dialect_names(name):
    assert validate_dialect(name) is None


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("tsq", "tsql"), ("postgress", "postgres"), ("snowflak", "snowflake"), ("big_query", "bigquery")],
)
def test_invalid_dialect_name_suggests_close_matches(name, suggested):
    message = validate_dialect(name)
    assert message.startswith(f"unknown SQL dialect {name!r}: did you mean {suggested}")
    assert "\n" not in message and "accepted: ansi, tsql" in message


def test_invalid_dialect_without_close_match():
    assert validate_dialect("klingon").startswith("unknown SQL dialect 'klingon': (accepted: ")


def test_tsql_files_read_as_postgres_suggest_tsql():
    suggestion = suggest_dialect(TSQL_FILES, "postgres", label="staging")
    assert suggestion.best == "tsql" and suggestion.switch
    assert suggestion.trials[0].dialect == "tsql" and suggestion.trials[0].unread == 0
    own = next(t for t in suggestion.trials if t.dialect == "postgres")
    assert own.rate > 0.3
    assert suggestion.message == (
        f"staging: {own.rate:.0%} of statements fail as postgres; 0% as tsql"
        " - set folder_dialects (or a '-- dialect: tsql' header)"
    )


def test_the_right_dialect_is_kept():
    suggestion = suggest_dialect(TSQL_FILES, "tsql", label="staging")
    assert (suggestion.best, suggestion.switch) == ("tsql", False)
    assert [t.dialect for t in suggestion.trials] == ["tsql"]  # nothing unread: no other dialect is tried
    assert suggestion.message == "staging: 0% of statements fail as tsql; no other dialect does clearly better"


def test_sample_is_bounded_and_deterministic():
    texts = TSQL_FILES * 20
    first = suggest_dialect(texts, "postgres", sample=4, candidates=("tsql",))
    assert first.sampled_files == 4
    assert first == suggest_dialect(texts, "postgres", sample=4, candidates=("tsql",))
    assert [t.dialect for t in first.trials] == ["tsql", "postgres"]


def test_nothing_to_judge():
    suggestion = suggest_dialect(["", "  -- only a comment\n"], "snowflake")
    assert (suggestion.best, suggestion.message) == ("snowflake", "no statements to judge the dialect by")


def test_unread_statements_counts_failures_and_opaque_commands():
    lineages = [
        parse_sql("SELECT 1; SELECT FROM WHERE; CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;", "postgres"),
        parse_sql("SELECT 2", "postgres"),
    ]
    assert unread_statements(lineages) == (4, 2)


def test_settings_may_accept_extra_names_such_as_auto():
    assert validate_dialect("auto", extra=("auto",)) is None
    assert validate_dialect("auot", extra=("auto",)).startswith("unknown SQL dialect 'auot': did you mean auto")
    assert validate_dialect("auto") is not None
