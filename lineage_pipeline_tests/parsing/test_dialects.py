"""Spec: supported dialects, aliases, and the per-file ``-- dialect: x`` header override."""

import pytest

from lineage_pipeline.parsing import SUPPORTED_DIALECTS, header_dialect, parse_file_bytes, parse_sql


def test_required_dialects_supported():
    required = {"tsql", "snowflake", "bigquery", "postgres", "redshift", "spark", "databricks", "hive", "oracle", "mysql",
                "duckdb"}
    assert required <= set(SUPPORTED_DIALECTS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-- dialect: tsql\nSELECT 1", "tsql"),
        ("--dialect=snowflake\nSELECT 1", "snowflake"),
        ("/* dialect: BigQuery */\nSELECT 1", "bigquery"),
        ("\n\n-- Dialect: postgresql\nSELECT 1", "postgres"),
        ("-- dialect: sqlserver\n", "tsql"),
        ("-- dialect: klingon\nSELECT 1", None),
        ("SELECT 1\n-- dialect: tsql", None),
        ("SELECT 1\n\n\n\n\n\n-- dialect: tsql", None),
        ("", None),
    ],
)
def test_header_dialect(text, expected):
    assert header_dialect(text) == expected


def test_header_overrides_the_callers_dialect():
    data = b"-- dialect: bigquery\nINSERT INTO `p.d.t` (a) SELECT a FROM `p.d.s`"
    result = parse_file_bytes(data, "tsql", "x.sql")
    assert result.dialect == "bigquery"
    assert result.statements[0].targets == ["p.d.t"]


@pytest.mark.parametrize(
    ("dialect", "canonical"),
    [("SQLServer", "tsql"), ("mssql", "tsql"), ("TSQL", "tsql"), ("postgresql", "postgres"), ("", "ansi"), ("generic", "ansi")],
)
def test_aliases_accepted_without_issue(dialect, canonical):
    result = parse_sql("SELECT a FROM t", dialect)
    assert (result.dialect, result.errors) == (canonical, [])


def test_unknown_dialect_falls_back_to_generic_with_an_issue():
    result = parse_sql("SELECT a FROM t", "klingon")
    assert result.dialect == "ansi"
    assert result.statements[0].sources == ["t"]
    assert [e.statement for e in result.errors] == [None]


@pytest.mark.parametrize("dialect", sorted(set(("tsql", "snowflake", "bigquery", "postgres", "redshift", "spark",
                                                 "databricks", "hive", "oracle", "mysql", "duckdb"))))
def test_every_dialect_reads_basic_insert(dialect):
    result = parse_sql("INSERT INTO s.t (a) SELECT b FROM s.u", dialect)
    assert result.errors == []
    statement = result.statements[0]
    assert (statement.sources, statement.targets, [(c.target, c.sources) for c in statement.columns]) == (
        ["s.u"], ["s.t"], [("s.t.a", ["s.u.b"])])
