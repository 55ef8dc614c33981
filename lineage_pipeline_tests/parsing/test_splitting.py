"""Spec: statement splitting - one chunk per statement, scripts flattened, 1-based file lines kept."""

import threading

import pytest

from lineage_pipeline.parsing.splitting import split_statements, tokenize


def texts(sql: str, dialect: str) -> list[tuple[int, str | None, str]]:
    chunks, issues = split_statements(sql, dialect)
    assert not issues
    return [
        (c.line, c.procedure, " ".join(c.sql[c.tokens[0].start : c.tokens[-1].end + 1].split())) for c in chunks
    ]


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgres", "SELECT 1; SELECT 2;\nSELECT 3", [(1, None, "SELECT 1"), (1, None, "SELECT 2"), (2, None, "SELECT 3")]),
        ("postgres", "SELECT ';' AS x; -- ; comment\nSELECT 2", [(1, None, "SELECT ';' AS x"), (2, None, "SELECT 2")]),
        ("postgres", "/* a; b */ SELECT 1", [(1, None, "SELECT 1")]),
        ("tsql", "SELECT 1\nSELECT 2", [(1, None, "SELECT 1"), (2, None, "SELECT 2")]),
        ("tsql", "SELECT a FROM x UNION ALL SELECT a FROM y", [(1, None, "SELECT a FROM x UNION ALL SELECT a FROM y")]),
        ("tsql", "INSERT INTO t (a)\nSELECT a FROM s", [(1, None, "INSERT INTO t (a) SELECT a FROM s")]),
        ("tsql", "INSERT INTO t SELECT a FROM s\nSELECT 1", [(1, None, "INSERT INTO t SELECT a FROM s"), (2, None, "SELECT 1")]),
        ("tsql", "UPDATE t SET a = 1\nSET @x = 2", [(1, None, "UPDATE t SET a = 1"), (2, None, "SET @x = 2")]),
        ("tsql", "SELECT CASE WHEN a = 1 THEN 'x' ELSE 'y' END FROM t\nSELECT 2",
         [(1, None, "SELECT CASE WHEN a = 1 THEN 'x' ELSE 'y' END FROM t"), (2, None, "SELECT 2")]),
        ("tsql", "SELECT * FROM t WITH (NOLOCK) WHERE a = 1", [(1, None, "SELECT * FROM t WITH (NOLOCK) WHERE a = 1")]),
        ("tsql", "CREATE VIEW v WITH SCHEMABINDING AS SELECT a FROM dbo.t",
         [(1, None, "CREATE VIEW v WITH SCHEMABINDING AS SELECT a FROM dbo.t")]),
        ("tsql", "SELECT a FROM t ORDER BY a OFFSET 5 ROWS FETCH NEXT 5 ROWS ONLY",
         [(1, None, "SELECT a FROM t ORDER BY a OFFSET 5 ROWS FETCH NEXT 5 ROWS ONLY")]),
        ("tsql", "CREATE TABLE t (a INT, CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (a) ON DELETE CASCADE ON UPDATE SET NULL)",
         [(1, None, "CREATE TABLE t (a INT, CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (a) ON DELETE CASCADE ON UPDATE SET "
                    "NULL)")]),
        ("tsql", "ALTER TABLE t DROP COLUMN a\nALTER TABLE u ADD b INT",
         [(1, None, "ALTER TABLE t DROP COLUMN a"), (2, None, "ALTER TABLE u ADD b INT")]),
        ("tsql", "BEGIN TRAN\nDELETE FROM t\nCOMMIT", [(1, None, "BEGIN TRAN"), (2, None, "DELETE FROM t"), (3, None, "COMMIT")]),
        ("tsql", "MERGE t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (a) VALUES "
                 "(s.a);",
         [(1, None, "MERGE t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (a) VALUES "
                    "(s.a)")]),
        ("postgres", "CREATE TABLE t AS WITH c AS (SELECT 1 AS a) SELECT a FROM c",
         [(1, None, "CREATE TABLE t AS WITH c AS (SELECT 1 AS a) SELECT a FROM c")]),
        ("spark", "INSERT INTO t WITH c AS (SELECT 1 AS a) SELECT a FROM c",
         [(1, None, "INSERT INTO t WITH c AS (SELECT 1 AS a) SELECT a FROM c")]),
        ("oracle", "SELECT 1 FROM dual\n/\nSELECT 2 FROM dual\n/\n",
         [(1, None, "SELECT 1 FROM dual"), (3, None, "SELECT 2 FROM dual")]),
        ("postgres", "BEGIN;\nINSERT INTO t SELECT 1;\nCOMMIT;",
         [(1, None, "BEGIN"), (2, None, "INSERT INTO t SELECT 1"), (3, None, "COMMIT")]),
    ],
)
def test_split(dialect, sql, expected):
    assert texts(sql, dialect) == expected


def test_snowflake_procedure_body_in_dollar_quotes():
    sql = """CREATE OR REPLACE PROCEDURE etl.load() RETURNS VARCHAR LANGUAGE SQL AS $$
DECLARE
  n INT;
BEGIN
  INSERT INTO mart.t SELECT * FROM stage.s;
  IF (n > 1) THEN
    DELETE FROM mart.t WHERE x IS NULL;
  END IF;
  RETURN 'ok';
END;
$$;
SELECT 1;"""
    assert texts(sql, "snowflake") == [
        (5, "etl.load", "INSERT INTO mart.t SELECT * FROM stage.s"),
        (7, "etl.load", "DELETE FROM mart.t WHERE x IS NULL"),
        (9, "etl.load", "RETURN 'ok'"),
        (12, None, "SELECT 1"),
    ]


def test_javascript_procedure_body_is_not_parsed():
    sql = "CREATE PROCEDURE p() RETURNS STRING LANGUAGE JAVASCRIPT AS $$ return 1; $$;\nSELECT 1;"
    assert texts(sql, "snowflake") == [(2, None, "SELECT 1")]


def test_postgres_plpgsql_function():
    sql = """CREATE OR REPLACE FUNCTION etl.refresh() RETURNS void AS $body$
DECLARE
  v_count integer := 0;
BEGIN
  DELETE FROM mart.daily;
  INSERT INTO mart.daily SELECT d, count(*) FROM stage.events GROUP BY d;
END;
$body$ LANGUAGE plpgsql;"""
    assert texts(sql, "postgres") == [
        (5, "etl.refresh", "DELETE FROM mart.daily"),
        (6, "etl.refresh", "INSERT INTO mart.daily SELECT d, count(*) FROM stage.events GROUP BY d"),
    ]


def test_bigquery_procedure_and_script():
    sql = """DECLARE d DATE DEFAULT CURRENT_DATE();
CREATE OR REPLACE PROCEDURE ds.load(x INT64)
BEGIN
  INSERT INTO ds.t SELECT * FROM ds.s WHERE k = x;
END;
CALL ds.load(1);"""
    assert texts(sql, "bigquery") == [
        (1, None, "DECLARE d DATE DEFAULT CURRENT_DATE()"),
        (4, "ds.load", "INSERT INTO ds.t SELECT * FROM ds.s WHERE k = x"),
        (6, None, "CALL ds.load(1)"),
    ]


def test_oracle_procedure_with_declarations_loop_and_exception():
    sql = """CREATE OR REPLACE PROCEDURE hr.p IS
  v NUMBER;
BEGIN
  INSERT INTO hr.a SELECT id FROM hr.b;
  FOR r IN (SELECT id FROM hr.c) LOOP
    UPDATE hr.a SET x = r.id;
  END LOOP;
EXCEPTION
  WHEN OTHERS THEN
    ROLLBACK;
END p;
/
SELECT 1 FROM dual
/
"""
    assert texts(sql, "oracle") == [
        (4, "hr.p", "INSERT INTO hr.a SELECT id FROM hr.b"),
        (5, "hr.p", "SELECT id FROM hr.c"),  # the cursor loop's query is a read
        (6, "hr.p", "UPDATE hr.a SET x = r.id"),
        (10, "hr.p", "ROLLBACK"),
        (13, None, "SELECT 1 FROM dual"),
    ]


def test_mysql_procedure():
    sql = """CREATE PROCEDURE load_orders()
BEGIN
  DECLARE n INT DEFAULT 0;
  INSERT INTO mart.orders SELECT * FROM stage.orders;
  IF n > 0 THEN
    UPDATE mart.orders SET flag = 1;
  END IF;
END;
SELECT 1;"""
    assert texts(sql, "mysql") == [
        (3, "load_orders", "DECLARE n INT DEFAULT 0"),
        (4, "load_orders", "INSERT INTO mart.orders SELECT * FROM stage.orders"),
        (6, "load_orders", "UPDATE mart.orders SET flag = 1"),
        (9, None, "SELECT 1"),
    ]


def test_untokenizable_text_is_reported_and_rest_kept():
    chunks, issues = split_statements("SELECT 'unterminated FROM x;\nSELECT 1 FROM y;\n", "postgres")
    assert [c.line for c in chunks] == [2]
    assert [(i.statement, i.line) for i in issues] == [(None, 1)]


def test_empty_and_comment_only():
    assert split_statements("", "tsql") == ([], [])
    assert split_statements("  -- nothing here\n/* nor here */\n", "tsql") == ([], [])
    assert split_statements(";;\nGO\n;", "tsql") == ([], [])


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("tsql", "SELECT 1\nGO\nSELECT 2", [(1, 0, "SELECT 1"), (3, 1, "SELECT 2")]),
        ("tsql", "SELECT 1\n  go 3  \nSELECT 2", [(1, 0, "SELECT 1"), (3, 1, "SELECT 2")]),
        # GO separates batches only alone on its line (a count may follow), even inside parentheses.
        ("tsql", "SELECT go FROM t\nGO", [(1, 0, "SELECT go FROM t")]),
        ("tsql", "SELECT 1 GO", [(1, 0, "SELECT 1 GO")]),
        ("tsql", "SELECT 1\nGO x\nSELECT 2", [(1, 0, "SELECT 1 GO x"), (3, 0, "SELECT 2")]),
        ("tsql", "SELECT (1\nGO\n) FROM t", [(1, 0, "SELECT (1"), (3, 1, ") FROM t")]),
        ("postgres", "SELECT 1\nGO\nSELECT 2", [(1, 0, "SELECT 1 GO"), (3, 0, "SELECT 2")]),
        # Oracle's ``/`` separates only alone on its line; elsewhere it divides.
        ("oracle", "SELECT a / b FROM t\n/\nSELECT 2 FROM dual", [(1, 0, "SELECT a / b FROM t"), (3, 1, "SELECT 2 FROM dual")]),
        ("oracle", "SELECT a\n/ b FROM t", [(1, 0, "SELECT a / b FROM t")]),
    ],
)
def test_batch_separator_lines(dialect, sql, expected):
    chunks, issues = split_statements(sql, dialect)
    assert not issues
    assert [
        (c.line, c.batch, " ".join(c.sql[c.tokens[0].start : c.tokens[-1].end + 1].split())) for c in chunks
    ] == expected


def test_tokenize_results_stay_independent_of_later_calls():
    first = tokenize("SELECT a FROM t", "tsql")
    tokenize("DELETE FROM u WHERE b = 1", "tsql")
    assert [token.text for token in first] == ["SELECT", "a", "FROM", "t"]


def test_tokenize_is_safe_across_threads():
    scripts = [f"INSERT INTO t{n} SELECT c{n}, 'x;{n}' FROM s{n} WHERE d = {n}" for n in range(4)]
    expected = [[token.text for token in tokenize(sql, "tsql")] for sql in scripts]
    results: dict[int, list[list[str]]] = {n: [] for n in range(4)}

    def work(n: int) -> None:
        for _ in range(200):
            results[n].append([token.text for token in tokenize(scripts[n], "tsql")])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(run == expected[n] for n in range(4) for run in results[n])
