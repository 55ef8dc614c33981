"""Spec: the public surface of ``lineage_pipeline.parsing`` and the numbering of statements and issues."""

import lineage_pipeline.parsing as parsing
from lineage_pipeline.parsing import FileLineage, parse_sql

from .support import edges, last_writer


def test_public_names():
    for name in (
        "PARSER_VERSION", "SUPPORTED_DIALECTS", "Catalog", "build_catalog", "decode_sql_bytes", "header_dialect",
        "parse_file_bytes", "parse_sql", "FileLineage", "StatementLineage", "ColumnEdge", "ParseIssue", "Effect", "Call",
    ):
        assert hasattr(parsing, name), name
    assert isinstance(parsing.PARSER_VERSION, str) and parsing.PARSER_VERSION


def test_indexes_count_every_statement_including_failed_ones():
    sql = "SELECT 1 FROM a;\nSELECT FROM WHERE;\nSELECT 2 FROM b;\n\nSELECT 3 FROM c;"
    result = parse_sql(sql, "postgres")
    assert [(s.index, s.line) for s in result.statements] == [(0, 1), (2, 3), (3, 5)]
    assert [(e.statement, e.line) for e in result.errors] == [(1, 2)]


def test_result_is_plain_pydantic_and_round_trips():
    result = parse_sql("INSERT INTO t (a) SELECT b FROM s", "tsql")
    assert FileLineage.model_validate_json(result.model_dump_json()) == result


def test_path_and_dialect_are_echoed():
    result = parse_sql("SELECT 1", "Snowflake", "models/x.sql")
    assert (result.path, result.dialect) == ("models/x.sql", "snowflake")


def test_transform_is_the_strongest_on_the_path():
    sql = """
    WITH w AS (SELECT id, ROW_NUMBER() OVER (ORDER BY ts) AS rn FROM s),
         a AS (SELECT id, SUM(v) AS total FROM s GROUP BY id)
    INSERT INTO t (rn, total, mix) SELECT w.rn, a.total, w.rn + a.total FROM w JOIN a ON a.id = w.id
    """
    assert edges(last_writer(sql)) == {
        "t.rn": (["s.ts"], "window"),
        "t.total": (["s.v"], "aggregation"),
        "t.mix": (["s.ts", "s.v"], "window"),
    }


def test_column_edges_never_point_at_ctes_or_subquery_aliases():
    sql = "WITH c AS (SELECT a FROM s) INSERT INTO t (x) SELECT q.a FROM (SELECT a FROM c) q"
    assert edges(last_writer(sql)) == {"t.x": (["s.a"], "direct")}
