"""Spec: the corpus-wide catalog - built from DDL/CTAS/views, used to qualify columns and expand stars."""

from lineage_pipeline.parsing import Catalog, build_catalog, parse_sql

from .support import edges


def test_build_catalog_from_ddl_ctas_views_and_select_into():
    files = [
        parse_sql("CREATE TABLE dbo.a (id INT, name VARCHAR(10))\nCREATE VIEW dbo.v AS SELECT id, name AS n FROM dbo.a", "tsql", "one.sql"),
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
    result = parse_sql("CREATE TABLE t (a INT, b INT); CREATE TABLE u AS SELECT * FROM t;", "postgres")
    assert [s.defined_columns for s in result.statements] == [["a", "b"], []]


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
