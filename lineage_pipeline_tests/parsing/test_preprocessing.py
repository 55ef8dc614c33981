"""Spec for the small layers that make long-tail syntax parseable: statement boundaries the splitter must
keep, text rewrites applied before sqlglot, and writes that follow a later rename."""

import pytest

from lineage_pipeline.parsing import StatementLineage
from lineage_pipeline.parsing.renames import follow_renames, renamed_to
from lineage_pipeline.parsing.rewrites import athena_backticks, rewrite_tsql
from lineage_pipeline.parsing.splitting import split_script, tokenize
from lineage_pipeline.parsing.utility import utility_head

from .test_splitting import texts


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgres", "EXPLAIN ANALYZE SELECT 1; EXPLAIN (FORMAT JSON) INSERT INTO t SELECT 1;",
         ["EXPLAIN ANALYZE SELECT 1", "EXPLAIN (FORMAT JSON) INSERT INTO t SELECT 1"]),
        ("databricks", "SHOW CREATE TABLE dw.acct; DESCRIBE SELECT 1;", ["SHOW CREATE TABLE dw.acct", "DESCRIBE SELECT 1"]),
        ("redshift", "CREATE MATERIALIZED VIEW v AUTO REFRESH YES AS SELECT 1;",
         ["CREATE MATERIALIZED VIEW v AUTO REFRESH YES AS SELECT 1"]),
        ("snowflake", "CREATE TABLE t (a INT) WITH TAG (g.k = 'v'); CREATE VIEW v WITH TAG (k = 'v') AS SELECT 1;",
         ["CREATE TABLE t (a INT) WITH TAG (g.k = 'v')", "CREATE VIEW v WITH TAG (k = 'v') AS SELECT 1"]),
        ("snowflake", "WITH tag (a) AS (SELECT 1) SELECT a FROM tag;", ["WITH tag (a) AS (SELECT 1) SELECT a FROM tag"]),
        ("postgres", "WITH c (a) AS MATERIALIZED (SELECT 1) SELECT a FROM c;",
         ["WITH c (a) AS MATERIALIZED (SELECT 1) SELECT a FROM c"]),
        ("tsql", "CREATE PARTITION FUNCTION pf (int) AS RANGE RIGHT FOR VALUES (1, 10)\nGO\nSELECT 1",
         ["CREATE PARTITION FUNCTION pf (int) AS RANGE RIGHT FOR VALUES (1, 10)", "SELECT 1"]),
    ],
)
def test_statement_boundaries(dialect, sql, expected):
    assert [text for _, _, text in texts(sql, dialect)] == expected


def test_begin_atomic_options_are_no_statement():
    sql = ("CREATE PROCEDURE dbo.p WITH NATIVE_COMPILATION, SCHEMABINDING AS\nBEGIN ATOMIC WITH\n"
           "(TRANSACTION ISOLATION LEVEL = SNAPSHOT, LANGUAGE = N'English')\n  UPDATE dbo.t SET a = 1;\nEND;")
    assert texts(sql, "tsql") == [(4, "dbo.p", "UPDATE dbo.t SET a = 1")]


def test_non_sql_body_is_a_note_not_an_error():
    chunks, issues, notes = split_script("CREATE FUNCTION f() RETURNS INT LANGUAGE plpython3u AS $$ return 1 $$;", "postgres")
    assert (chunks, issues) == ([], [])
    assert [n.message for n in notes] == ["routine f body in LANGUAGE plpython3u is not SQL; not read"]


def _tsql(sql: str) -> str | None:
    return rewrite_tsql(tokenize(sql, "tsql"), sql)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE t SET t.a += 1, b -= x, c *= 2", "UPDATE t SET t.a = t.a + 1, b = b - x, c = c * 2"),
        ("SET @n %= 7", "SET @n = @n % 7"),
        ("SELECT @s |= flags FROM t", "SELECT @s = @s | flags FROM t"),
        ("UPDATE t SET a = b + c", None),
        ("SELECT a FROM t WHERE a >= 1 AND b <= 2", None),
        ("CREATE TABLE t (e NVARCHAR(9) MASKED WITH (FUNCTION = 'email()') NULL)", "CREATE TABLE t (e NVARCHAR(9)  NULL)"),
        ("CREATE TABLE t (a INT, CONSTRAINT pk PRIMARY KEY (a) ON ps (a)) ON [ps] ([a])",
         "CREATE TABLE t (a INT, CONSTRAINT pk PRIMARY KEY (a) ) "),
        ("CREATE TABLE t (a INT REFERENCES u (a) ON DELETE CASCADE) ON [PRIMARY]", None),
        ("CREATE INDEX ix ON t (a) ON ps (a)", "CREATE INDEX ix ON t (a) "),
    ],
)
def test_tsql_rewrites(sql, expected):
    assert _tsql(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT `a b` FROM `d`.`t`", 'SELECT "a b" FROM "d"."t"'),
        ("INSERT INTO `d`.`t` SELECT 1", 'INSERT INTO "d"."t" SELECT 1'),
        ("CREATE EXTERNAL TABLE `d`.`t` (`a` string)", None),
        ("SELECT 'a `quoted` string' FROM t", None),
    ],
)
def test_athena_backticks(sql, expected):
    assert athena_backticks(tokenize(sql, "athena"), sql) == expected


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        (["CREATE", "PARTITION", "SCHEME", "PS"], "create_partition"),
        (["CREATE", "OR", "ALTER", "SECURITY"], "create_security"),
        (["CREATE", "EXTERNAL", "DATA", "SOURCE"], "create_external_data"),
        (["CREATE", "EXTERNAL", "TABLE", "T"], None),
        (["UPDATE", "STATISTICS", "T"], "update_statistics"),
        (["UPDATE", "T", "SET", "A"], None),
        (["BEGIN", "TRAN"], "begin"),
        (["BEGIN", "INSERT"], None),
        (["DESC", "T"], "describe"),
    ],
)
def test_utility_heads(words, kind):
    assert utility_head(words) == kind


def _statement(index: int, targets: list[str], rename: tuple[str, str] | None = None) -> StatementLineage:
    from lineage_pipeline.parsing import ColumnEdge, Effect

    return StatementLineage(
        index=index,
        kind="ALTER" if rename else "INSERT",
        targets=targets,
        columns=[ColumnEdge(target=f"{t}.a", sources=["s.x.a"]) for t in targets],
        effects=[Effect(kind="rename", table=rename[0], detail=rename[1])] if rename else [],
    )


def test_renames_apply_in_order_and_only_to_earlier_writes():
    statements = [
        _statement(0, ["s.t"]),
        _statement(1, [], ("s.t", "t_old")),
        _statement(2, ["s.t_new"]),
        _statement(3, [], ("s.t_new", "s.t")),
        _statement(4, ["s.t_new"]),
    ]
    result = follow_renames(statements)
    assert [s.targets for s in result] == [["s.t_old"], [], ["s.t"], [], ["s.t_new"]]
    assert [c.target for c in result[2].columns] == ["s.t.a"]


def test_renamed_to_keeps_the_schema():
    assert (renamed_to("dw.a", "b"), renamed_to("dw.a", "x.b"), renamed_to("a", "b")) == ("dw.b", "x.b", "b")


def test_sqlcmd_script_keeps_lines_and_substitutes_variables():
    from lineage_pipeline.parsing.splitting import sqlcmd_script

    sql = ':setvar Db "bank"\n:on error exit\nSELECT a FROM [$(Db)].dbo.t, $(Other).dbo.u\n:r .\\x.sql\n'
    text, notes = sqlcmd_script(sql)
    assert text.splitlines()[2] == "SELECT a FROM [bank].dbo.t, Other.dbo.u"
    assert text.count("\n") == sql.count("\n") and not text.splitlines()[0].strip()
    assert [(n.line, n.message) for n in notes] == [
        (4, "SQLCMD include .\\x.sql not followed"),
        (None, "SQLCMD variable $(Other) is not set in the file; read as Other"),
    ]


def test_opaque_alter_table_is_an_effect_not_a_warning():
    from lineage_pipeline.parsing import Effect, parse_sql

    result = parse_sql("ALTER TABLE [dw].[acct] WITH CHECK CHECK CONSTRAINT fk_acct", "tsql")
    assert (result.errors, result.warnings) == ([], [])
    assert result.statements[0].effects == [Effect(kind="alter", table="dw.acct", detail="check")]
