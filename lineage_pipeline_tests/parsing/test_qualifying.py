"""Spec: temp-name and recursive-CTE marking, and the statement facts that spare later walks of the tree."""

import pytest
from sqlglot import exp

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.qualifying import has_property, mark_names, needs_qualify


def parsed(sql: str, dialect: str = "tsql") -> exp.Expression:
    return sqlglot_dialect(dialect).parse(sql)[0]


def recursive_flags(expression: exp.Expression) -> list[bool]:
    return [bool(with_.args.get("recursive")) for with_ in expression.find_all(exp.With)]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("WITH r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r", [True]),
        # The self-reference may sit deep inside the CTE body.
        ("WITH r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM (SELECT n FROM r) AS x) SELECT n FROM r", [True]),
        ("WITH c AS (SELECT a FROM t) SELECT a FROM c", [False]),
        # ``#c`` is a temp table, not the CTE ``c``; a qualified ``dbo.c`` is a table too.
        ("WITH c AS (SELECT a FROM #c) SELECT a FROM c", [False]),
        ("WITH c AS (SELECT a FROM dbo.c) SELECT a FROM c", [False]),
        # A reference in the main query or in another CTE does not make a CTE recursive.
        ("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT x FROM b JOIN a ON 1 = 1", [False]),
    ],
)
def test_recursive_ctes_are_flagged(sql, expected):
    expression = parsed(sql)
    mark_names(expression)
    assert recursive_flags(expression) == expected


def test_temp_names_are_spelled_as_identifiers():
    expression = parsed("INSERT INTO #stage SELECT a FROM @rows JOIN tempdb..#other ON 1 = 1")
    mark_names(expression)
    names = sorted(table.name for table in expression.find_all(exp.Table))
    assert names == ["__lineage_temp__other", "__lineage_temp__stage", "__lineage_var__rows"]
    assert all(not table.db for table in expression.find_all(exp.Table))


STATEMENTS = [
    ("tsql", "INSERT INTO t (a) SELECT a FROM s JOIN u ON s.id = u.id WHERE EXISTS (SELECT 1 FROM v)"),
    ("tsql", "INSERT INTO t SELECT * FROM s"),
    ("tsql", "INSERT INTO t SELECT COUNT(*) AS n FROM (SELECT a FROM s) AS x"),
    ("postgres", "INSERT INTO t SELECT a FROM s JOIN u USING (id)"),
    ("postgres", "INSERT INTO t SELECT a FROM s NATURAL JOIN u"),
    ("postgres", "CREATE TEMPORARY TABLE t AS SELECT a FROM s"),
    ("postgres", "CREATE MATERIALIZED VIEW v AS SELECT a, b.* FROM s JOIN b ON s.id = b.id"),
    ("teradata", "CREATE VOLATILE TABLE t AS (SELECT a FROM s) WITH DATA"),
    ("snowflake", "CREATE OR REPLACE VIEW v AS WITH c AS (SELECT a FROM s) SELECT a FROM c"),
]
PROPERTIES = [
    (exp.TemporaryProperty, exp.VolatileProperty),
    (exp.MaterializedProperty,),
]


@pytest.mark.parametrize(("dialect", "sql"), STATEMENTS)
def test_marked_facts_answer_as_a_walk_would(dialect, sql):
    expression = parsed(sql, dialect)
    marked = mark_names(expression)
    for query in expression.find_all(exp.Query):
        assert needs_qualify(query, marked) == needs_qualify(query)
    for kinds in PROPERTIES:
        assert has_property(expression, kinds, marked) == (expression.find(*kinds) is not None)


def test_facts_of_another_statement_are_not_used():
    marked = mark_names(parsed("INSERT INTO t SELECT a FROM s"))
    assert not marked.qualify
    other = parsed("INSERT INTO t SELECT * FROM s")
    assert needs_qualify(other.expression, marked)
    temporary = parsed("CREATE TEMPORARY TABLE t AS SELECT a FROM s", "postgres")
    assert has_property(temporary, (exp.TemporaryProperty,), marked)


def test_a_detached_query_is_walked():
    statement = parsed("INSERT INTO t SELECT a FROM s")
    marked = mark_names(statement)
    # A query built from the statement's parts (as UPDATE/MERGE handling does) is not the statement's.
    built = exp.select(exp.Star()).from_(statement.expression.args["from_"].this.pop())
    assert needs_qualify(built, marked)
