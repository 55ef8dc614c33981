"""Spec: the corpus-wide catalog - built from DDL/CTAS/views, used to qualify columns and expand stars."""

import pytest

from lineage_pipeline.parsing import (
    Catalog,
    build_catalog,
    catalog_dependencies,
    catalog_entries,
    needs_catalog,
    parse_sql,
    resolve_with_catalog,
)

from .support import edges


def test_build_catalog_from_ddl_ctas_views_and_select_into():
    files = [
        parse_sql("CREATE TABLE dbo.a (id INT, name VARCHAR(10))\nCREATE VIEW dbo.v AS SELECT id, name AS n FROM dbo.a", "tsql",
                  "one.sql"),
        parse_sql("CREATE TABLE mart.b AS SELECT id, 1 AS one FROM dbo.a;", "postgres", "two.sql"),
        parse_sql("SELECT id INTO dbo.c FROM dbo.a\nSELECT x INTO #tmp FROM dbo.a", "tsql", "three.sql"),
    ]
    catalog = build_catalog(files)
    assert dict(catalog) == {
        "dbo.a": ("id", "name"),
        "dbo.v": ("id", "n"),
        "mart.b": ("id", "one"),
        "dbo.c": ("id",),
    }


def test_defined_columns_recorded_on_statements():
    result = parse_sql(
        "CREATE TABLE t (a INT, b INT); CREATE TABLE u AS SELECT * FROM t; CREATE TABLE w AS SELECT * FROM elsewhere;",
        "postgres",
    )
    # The file's own DDL is known to its later statements; a star over an unknown table defines nothing.
    assert [s.defined_columns for s in result.statements] == [["a", "b"], ["a", "b"], []]


def test_tables_defined_earlier_in_the_file_map_positional_inserts_and_outrank_the_catalog():
    sql = (
        "CREATE TABLE dw.fee (account_id INT, fee_amount DECIMAL(19,4));\n"
        "INSERT INTO dw.fee SELECT e.acct, SUM(e.fee) FROM stg.fee_events e GROUP BY e.acct;"
    )
    stale = Catalog({"dw.fee": ["old_a", "old_b"]})
    statement = parse_sql(sql, "tsql", catalog=stale).statements[1]
    assert statement.column_mapping == "catalog"
    assert edges(statement) == {
        "dw.fee.account_id": (["stg.fee_events.acct"], "direct"),
        "dw.fee.fee_amount": (["stg.fee_events.fee"], "aggregation"),
    }


def test_star_is_recorded_explicitly_without_catalog():
    statement = parse_sql("CREATE VIEW v AS SELECT * FROM t", "postgres").statements[0]
    assert edges(statement) == {"v.*": (["t.*"], "direct")}


def test_second_pass_with_catalog_expands_star_across_files():
    ddl = parse_sql("CREATE TABLE stage.t (a INT, b INT);", "postgres", "ddl.sql")
    catalog = build_catalog([ddl])
    statement = parse_sql("CREATE VIEW mart.v AS SELECT * FROM stage.t", "postgres", "view.sql", catalog).statements[0]
    assert edges(statement) == {"mart.v.a": (["stage.t.a"], "direct"), "mart.v.b": (["stage.t.b"], "direct")}
    assert statement.defined_columns == ["a", "b"]


def test_catalog_qualifies_unqualified_columns_in_joins():
    catalog = Catalog({"s.x": ["id", "a"], "s.y": ["id", "b"]})
    sql = "INSERT INTO s.z (a, b) SELECT a, b FROM s.x JOIN s.y ON x.id = y.id"
    statement = parse_sql(sql, "postgres", catalog=catalog).statements[0]
    assert edges(statement) == {"s.z.a": (["s.x.a"], "direct"), "s.z.b": (["s.y.b"], "direct")}
    assert statement.unresolved_columns == []


def test_catalog_resolves_partial_qualification_when_unique():
    catalog = Catalog({"sales.dbo.orders": ["id", "amount"]})
    assert catalog.columns("dbo.orders") == ("id", "amount")
    assert catalog.columns("orders") == ("id", "amount")
    assert catalog.columns("other.orders") is None
    ambiguous = Catalog({"a.orders": ["x"], "b.orders": ["y"]})
    assert ambiguous.columns("orders") is None


def test_catalog_is_a_mapping_with_stable_fingerprint():
    one = Catalog({"a": ["x", "y"], "b": ["z"]})
    two = Catalog({"b": ["z"], "a": ["x", "y"]})
    assert len(one) == 2 and one["a"] == ("x", "y") and "b" in one
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != Catalog({"a": ["y", "x"], "b": ["z"]}).fingerprint()


def test_catalog_drives_positional_insert_mapping():
    catalog = Catalog({"t": ["k", "v"]})
    statement = parse_sql("INSERT INTO t SELECT a, b FROM s", "postgres", catalog=catalog).statements[0]
    assert edges(statement) == {"t.k": (["s.a"], "direct"), "t.v": (["s.b"], "direct")}


def test_catalog_entries_are_what_one_file_defines():
    lineage = parse_sql(
        "CREATE TABLE dw.account (id INT, iban VARCHAR(34));\n"
        "CREATE VIEW dw.v_account AS SELECT id, iban AS account_iban FROM dw.account;\n"
        "INSERT INTO dw.account (id) SELECT id FROM stg.account;\n"
        "CREATE TABLE dw.account (id INT, iban VARCHAR(34), currency CHAR(3));",
        "postgres",
    )
    assert catalog_entries(lineage) == {
        "dw.account": ("id", "iban", "currency"),
        "dw.v_account": ("id", "account_iban"),
    }


@pytest.mark.parametrize(
    ("sql", "needs", "dependencies"),
    [
        ("INSERT INTO dw.t (a) SELECT a FROM stg.s", False, set()),
        ("INSERT INTO dw.t SELECT * FROM stg.s", True, {"dw.t", "stg.s"}),
        ("INSERT INTO dw.t (a) SELECT amount FROM stg.x JOIN stg.y ON x.id = y.id", True, {"dw.t", "stg.x", "stg.y"}),
        ("INSERT INTO dw.t SELECT a, b FROM stg.s", True, {"dw.t", "stg.s"}),
        ("CREATE VIEW rpt.v AS SELECT c.* FROM dw.c AS c", True, {"dw.c"}),
        ("SELECT * FROM dw.c", False, set()),
        ("SELECT a INTO #t FROM stg.s; INSERT INTO dw.t (a) SELECT a FROM #t", False, set()),
        # Through a one-table star the column is known to be that table's; through two it is not.
        ("SELECT * INTO #t FROM stg.s; INSERT INTO dw.t (a) SELECT a FROM #t", False, set()),
        ("SELECT * INTO #t FROM stg.s JOIN stg.u ON s.id = u.id; INSERT INTO dw.t (a) SELECT a FROM #t", True,
         {"dw.t", "stg.s", "stg.u"}),
    ],
)
def test_needs_catalog_and_dependencies(sql, needs, dependencies):
    lineage = parse_sql(sql, "tsql")
    assert lineage.errors == []
    assert needs_catalog(lineage) is needs
    assert catalog_dependencies(lineage) == dependencies


def test_subset_keeps_only_resolvable_entries_and_fingerprints_them():
    catalog = Catalog({"stg.s": ["a", "b"], "dw.t": ["x"], "dw.other": ["y"]})
    subset = catalog.subset({"s", "dw.t", "missing"})
    assert dict(subset) == {"stg.s": ("a", "b"), "dw.t": ("x",)}
    changed_elsewhere = Catalog({"stg.s": ["a", "b"], "dw.t": ["x"], "dw.other": ["z"]})
    assert changed_elsewhere.subset({"s", "dw.t"}).fingerprint() == subset.fingerprint()


def test_resolve_with_catalog_reparses_only_what_the_catalog_changes_until_stable():
    texts = {
        "ddl.sql": "CREATE TABLE stg.account (id INT, iban VARCHAR(34));",
        "view1.sql": "CREATE VIEW dw.v_account AS SELECT * FROM stg.account;",
        "view2.sql": "CREATE VIEW rpt.v_account AS SELECT v.* FROM dw.v_account AS v;",
        "plain.sql": "INSERT INTO dw.t (a) SELECT id FROM stg.account;",
    }
    first = {path: parse_sql(text, "postgres", path) for path, text in texts.items()}
    reparsed = []

    def reparse(path, catalog):
        reparsed.append(path)
        return parse_sql(texts[path], "postgres", path, catalog)

    final, catalog = resolve_with_catalog(first, reparse)
    # view2 waits for the second round: dw.v_account's columns are known once view1 is re-parsed.
    assert reparsed == ["view1.sql", "view2.sql"]
    assert catalog["rpt.v_account"] == ("id", "iban")
    assert edges(final["view2.sql"].statements[0]) == {
        "rpt.v_account.id": (["dw.v_account.id"], "direct"),
        "rpt.v_account.iban": (["dw.v_account.iban"], "direct"),
    }
    assert final["plain.sql"] is first["plain.sql"]
