"""Spec of stores.warehouse_facts: one row of warehouse facts per file, replaced and dropped per path or
per domain; a domain is current only once a refresh followed its last write; a damaged file is moved
aside and rebuilt empty, which leaves every domain to a full refresh."""

import sqlite3

from lineage_pipeline.stores.warehouse_facts import FileFacts, WarehouseFacts

LOAD = FileFacts(
    path="core/load.sql", domain="core", dialect="tsql",
    writes={"dw.dim": [(0, 1, "INSERT"), (2, 9, "UPDATE")]}, reads=["stg.a"], feeds={"dw.dim": ["stg.a"]},
    columns={"dw.dim": ["id", "name"], "stg.a": ["id"]}, derives={"dw.dim": {"id": [("stg.a", "id", "direct")]}},
)
VIEW = FileFacts(
    path="reporting/v.sql", domain="reporting", dialect="bigquery",
    writes={"rpt.v": [(0, 1, "create_view")]}, reads=["dw.dim"], views=["rpt.v"],
)


def _facts(path: str, domain: str = "core") -> FileFacts:
    return FileFacts(path=path, domain=domain, reads=[f"t.{path}"])


def test_the_tables_a_file_touches():
    assert LOAD.tables == {"dw.dim", "stg.a"} and VIEW.tables == {"dw.dim", "rpt.v"}


def test_put_then_rows_round_trip_in_path_order(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    assert store.put("reporting", [VIEW], corpus_root="/corpus") == 1
    assert store.put("core", [LOAD]) == 1
    assert list(store.rows()) == [LOAD, VIEW]
    assert store.properties()["corpus_root"] == "/corpus" and store.properties()["refreshed_at"]
    # another instance (the code location, another run) reads the same rows
    assert list(WarehouseFacts(tmp_path / "facts.sqlite", create=False).rows()) == [LOAD, VIEW]


def test_a_put_replaces_the_rows_of_its_paths_and_drops_the_deleted(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    store.put("core", [LOAD, _facts("core/b.sql"), _facts("core/c.sql")])
    edited = LOAD.model_copy(update={"reads": [], "feeds": {}})
    store.put("core", [edited], deleted=["core/b.sql"])
    assert list(store.rows()) == [_facts("core/c.sql"), edited]


def test_a_whole_put_keeps_only_the_domains_files_it_was_given(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    store.put("core", [LOAD, _facts("core/gone.sql")])
    store.put("reporting", [VIEW])
    store.put("core", [_facts("core/new.sql")], whole=True)
    assert store.paths("core") == {"core/new.sql"} and store.paths("reporting") == {"reporting/v.sql"}


def test_views_of_paths(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    store.put("core", [LOAD])
    store.put("reporting", [VIEW])
    assert store.views_of(["reporting/v.sql", "core/load.sql"]) == {"rpt.v"} and store.views_of([]) == set()


def test_a_kept_view_lasts_until_a_file_touches_the_table_as_a_plain_table(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    store.keep_views(["rpt.v", "dw.dim"])
    store.put("reporting", [VIEW])  # touches dw.dim, a table now: its node went and came back
    assert store.kept_views() == {"rpt.v"}


def test_delete_by_path_and_drop_by_domain(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    store.put("core", [LOAD, _facts("core/b.sql")])
    store.put("reporting", [VIEW])
    assert store.delete(["core/b.sql", "core/never.sql"]) == 1
    store.drop_domain("core")
    assert list(store.rows()) == [VIEW]
    assert store.begin_write("core") is False, "a dropped domain starts over with a full refresh"


def test_a_domain_is_current_only_after_a_refresh_followed_its_write(tmp_path):
    store = WarehouseFacts(tmp_path / "facts.sqlite")
    assert store.begin_write("core") is False, "never refreshed"
    store.put("core", [LOAD])
    assert store.begin_write("core") is True
    # that write (or its refresh) failed: no put marked the domain current again
    assert store.begin_write("core") is False
    store.put("core", [LOAD], whole=True)
    assert store.is_current("core") and store.is_current("core"), "asking does not begin a write"
    assert store.begin_write("core") is True
    assert not store.is_current("core"), "a write began and no put followed"
    assert store.begin_write("reporting") is False, "each domain on its own"
    assert not store.is_current("nowhere")


def test_a_corrupt_file_is_moved_aside_and_rebuilt_empty(tmp_path):
    path = tmp_path / "facts.sqlite"
    store = WarehouseFacts(path)
    store.put("core", [LOAD])
    store.file.forget_connections()
    path.write_bytes(b"this is not a database" * 100)
    assert WarehouseFacts(path, create=False).problem() is not None
    assert store.begin_write("core") is False, "the rebuilt store knows no domain: a full refresh follows"
    assert list(store.rows()) == [] and store.problem() is None
    [moved] = [p for p in tmp_path.glob("facts.sqlite.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert moved.read_bytes().startswith(b"this is not a database")


def test_a_foreign_database_is_not_taken_for_ours(tmp_path):
    path = tmp_path / "facts.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE facts (x)")
    store = WarehouseFacts(path)
    assert "not a warehouse facts" in (store.problem() or "")
    assert store.verify_integrity().moved_to is not None and store.problem() is None


def test_reading_an_absent_file_creates_nothing(tmp_path):
    WarehouseFacts(tmp_path / "facts.sqlite", create=False)
    assert list(tmp_path.iterdir()) == []
