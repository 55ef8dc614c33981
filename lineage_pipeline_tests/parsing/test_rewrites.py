"""Spec: T-SQL DML that sqlglot cannot parse as written - TOP, INSERT table hints, OUTPUT ... INTO."""

import pytest

from lineage_pipeline.parsing import Effect

from .support import clean, edges


@pytest.mark.parametrize(
    ("sql", "kind", "sources", "targets"),
    [
        ("UPDATE TOP (100) dbo.t SET a = s.b FROM dbo.t JOIN dbo.s s ON s.id = t.id", "UPDATE", ["dbo.s"], ["dbo.t"]),
        ("DELETE TOP (10) PERCENT FROM dbo.t WHERE a = 1", "DELETE", [], []),
        ("INSERT TOP (5) INTO dbo.t (a) SELECT a FROM dbo.s", "INSERT", ["dbo.s"], ["dbo.t"]),
        ("INSERT INTO dbo.t WITH (TABLOCK) (a, b) SELECT x, y FROM dbo.s", "INSERT", ["dbo.s"], ["dbo.t"]),
        ("INSERT dbo.t WITH (TABLOCKX, HOLDLOCK) SELECT x FROM dbo.s", "INSERT", ["dbo.s"], ["dbo.t"]),
        ("MERGE dbo.t WITH (HOLDLOCK) AS t USING dbo.s AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v;",
         "MERGE", ["dbo.s"], ["dbo.t"]),
    ],
)
def test_unsupported_clauses_are_dropped(sql, kind, sources, targets):
    statement = clean(sql).statements[0]
    assert (statement.kind, statement.sources, statement.targets) == (kind, sources, targets)


def test_delete_top_keeps_the_right_target():
    assert clean("DELETE TOP (10) FROM dbo.t WHERE a = 1").statements[0].effects == [Effect(kind="delete", table="dbo.t")]


def test_delete_output_into_archive():
    statement = clean(
        "DELETE FROM dbo.t OUTPUT deleted.id, deleted.v INTO archive.t (id, v) WHERE d < '2020-01-01'"
    ).statements[0]
    assert (statement.sources, statement.targets, statement.effects) == (
        ["dbo.t"], ["archive.t"], [Effect(kind="delete", table="dbo.t")])
    assert edges(statement) == {"archive.t.id": (["dbo.t.id"], "direct"), "archive.t.v": (["dbo.t.v"], "direct")}


def test_update_output_into_audit():
    statement = clean(
        "UPDATE dbo.t SET v = s.v FROM dbo.t JOIN dbo.s s ON s.id = t.id "
        "OUTPUT inserted.id, deleted.v INTO audit.changes (id, old_v)"
    ).statements[0]
    assert statement.targets == ["dbo.t", "audit.changes"]
    assert edges(statement) == {
        "dbo.t.v": (["dbo.s.v"], "direct"),
        "audit.changes.id": (["dbo.t.id"], "direct"),
        "audit.changes.old_v": (["dbo.t.v"], "direct"),
    }


def test_merge_output_action_into_table_variable_then_persisted():
    sql = """
    DECLARE @log TABLE (act NVARCHAR(10), id INT)
    MERGE dbo.t AS t USING dbo.s AS s ON t.id = s.id
    WHEN MATCHED THEN UPDATE SET t.v = s.v
    WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)
    OUTPUT $action, inserted.id INTO @log;
    INSERT INTO audit.merge_log (act, id) SELECT act, id FROM @log
    """
    result = clean(sql)
    final = result.statements[-1]
    assert (final.sources, final.targets, final.temp_tables) == (["dbo.t"], ["audit.merge_log"], ["@log"])
    assert edges(final) == {"audit.merge_log.act": ([], "expression"), "audit.merge_log.id": (["dbo.t.id"], "direct")}


def test_output_without_into_is_just_dropped():
    statement = clean("DELETE FROM dbo.t OUTPUT deleted.* WHERE a = 1").statements[0]
    assert (statement.targets, statement.effects) == ([], [Effect(kind="delete", table="dbo.t")])
