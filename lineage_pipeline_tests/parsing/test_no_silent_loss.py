"""Spec: every construct the parser knows it does not (fully) read says so in the file's errors or warnings,
with the statement it concerns; fully read files have neither."""

import pytest

from lineage_pipeline.parsing import Catalog, parse_sql
from lineage_pipeline.parsing import parser as parser_module


def _nested_exec(sql: str, levels: int) -> str:
    """``sql`` run through ``levels`` nested ``EXEC ('...')`` calls."""
    for _ in range(levels):
        sql = "EXEC ('" + sql.replace("'", "''") + "')"
    return sql


# (construct, dialect, sql, "errors"|"warnings", words the message must contain)
UNHANDLED = [
    ("opaque_command", "postgres", "CREATE RULE r AS ON INSERT TO dw.acct DO INSTEAD NOTHING", "warnings", "opaque command"),
    ("opaque_command_snowflake", "snowflake", "CREATE STREAM dw.acct_changes ON TABLE dw.acct", "warnings", "opaque command"),
    ("dynamic_sql_runtime", "tsql", "DECLARE @t SYSNAME = N'dw.acct'\nEXEC ('DELETE FROM ' + @t)", "warnings", "dynamic SQL"),
    ("dynamic_sql_immediate", "oracle", "BEGIN\n  EXECUTE IMMEDIATE v_sql;\nEND;", "warnings", "dynamic SQL"),
    ("unresolved_columns", "postgres",
     "INSERT INTO dw.t (a) SELECT amount FROM stg.x JOIN stg.y ON x.id = y.id", "warnings", "no known table"),
    ("assumed_column_mapping", "snowflake", "INSERT INTO dw.t SELECT a, b FROM stg.s", "warnings", "target columns unknown"),
    ("non_sql_routine_body", "snowflake",
     "CREATE PROCEDURE p() RETURNS STRING LANGUAGE JAVASCRIPT AS $$ return 1; $$;", "warnings", "not SQL"),
    ("unparseable_statement", "tsql", "SELECT FROM WHERE", "errors", ""),
    ("unknown_dialect", "klingon", "SELECT a FROM t", "errors", "unknown SQL dialect"),
    ("unload_without_query", "redshift", "UNLOAD TO 's3://x'", "warnings", "UNLOAD"),
    ("sqlcmd_include", "tsql", ":r .\\Seed.sql\nGO\nSELECT 1", "warnings", "not followed"),
    ("sqlcmd_unset_variable", "tsql", "SELECT a FROM [$(Db)].dbo.t", "warnings", "not set in the file"),
    ("dynamic_sql_unreadable_inner", "tsql", "EXEC ('INSERT INTO dw.t (a) SELECT a FROM dw.s; SELECT FROM WHERE')",
     "warnings", "inside the SQL this one runs is unreadable"),
    ("dynamic_sql_too_deep", "tsql", _nested_exec("DELETE FROM dw.t", 4), "warnings", "nested deeper than 3 levels"),
    ("opaque_alter_rename", "tsql", "ALTER TABLE dw.t REBUILD PARTITION = ALL RENAME x", "warnings", "opaque command"),
]


@pytest.mark.parametrize(("dialect", "sql", "where", "words"), [u[1:] for u in UNHANDLED], ids=[u[0] for u in UNHANDLED])
def test_known_gaps_are_reported(dialect, sql, where, words):
    result = parse_sql(sql, dialect)
    issues = getattr(result, where)
    assert issues, (result.errors, result.warnings)
    assert any(words in issue.message for issue in issues), issues


def test_a_warning_names_its_statement_and_line():
    result = parse_sql("SELECT 1;\nINSERT INTO dw.t SELECT a FROM stg.s;", "postgres")
    assert [(w.statement, w.line) for w in result.warnings] == [(1, 2)]


def test_catalog_silences_the_warnings_it_resolves():
    sql = "INSERT INTO dw.t SELECT a, b FROM stg.s"
    assert parse_sql(sql, "snowflake").warnings
    assert parse_sql(sql, "snowflake", catalog=Catalog({"dw.t": ["x", "y"]})).warnings == []


def test_statement_too_long_is_an_error(monkeypatch):
    monkeypatch.setattr(parser_module, "MAX_STATEMENT_TOKENS", 5)
    result = parse_sql("INSERT INTO dw.t (a) SELECT a FROM stg.s WHERE a > 1", "postgres")
    assert [e.message for e in result.errors] == ["statement too long (18 tokens); skipped"]


def test_time_budget_degrades_to_table_level_with_an_error():
    result = parse_sql("INSERT INTO dw.t (a) SELECT a FROM stg.s", "postgres", statement_seconds=-1)
    assert result.statements[0].targets == ["dw.t"]
    assert result.statements[0].columns == []
    assert "table-level lineage only" in result.errors[0].message


def test_file_too_large_is_an_error(monkeypatch):
    monkeypatch.setattr(parser_module, "MAX_FILE_BYTES", 10)
    result = parse_sql("SELECT a FROM stg.s", "postgres")
    assert (result.statements, [e.statement for e in result.errors]) == ([], [None])


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("tsql", "SET NOCOUNT ON\nUSE bank\nINSERT INTO dw.t (a) SELECT s.a FROM stg.s s\nPRINT 'done'"),
        ("snowflake", "USE SCHEMA dw; GRANT SELECT ON TABLE dw.t TO ROLE r; INSERT INTO dw.t (a) SELECT s.a FROM stg.s s;"),
        ("postgres", "EXPLAIN SELECT 1; VACUUM dw.t; COMMENT ON TABLE dw.t IS 'x';"),
    ],
)
def test_fully_read_files_have_no_warnings(dialect, sql):
    result = parse_sql(sql, dialect)
    assert (result.errors, result.warnings) == ([], [])


def test_warnings_round_trip_and_old_payloads_still_load():
    from lineage_pipeline.parsing import FileLineage

    result = parse_sql("INSERT INTO dw.t SELECT a FROM stg.s", "postgres")
    assert FileLineage.model_validate_json(result.model_dump_json()) == result
    old = result.model_dump(exclude={"warnings"})
    assert FileLineage.model_validate(old).warnings == []


def test_a_failed_statement_that_looks_like_a_tail_says_it_may_have_been_split():
    result = parse_sql("AND b.x = 1 WHERE", "postgres")
    assert result.errors[0].message.endswith("it starts with 'AND', so it may be the tail of the statement before, split wrongly")
