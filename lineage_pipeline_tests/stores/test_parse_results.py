"""Spec of stores.parse_results: each domain's latest result per file, handed from parsed_sql to lineage_graph;
never evicted, final or provisional, rebuilt empty when damaged."""

import dataclasses
import sqlite3

import pytest

from lineage_pipeline.parsing import parse_sql
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, ParseIssue, StatementLineage
from lineage_pipeline.stores.parse_cache import CacheKey, encode
from lineage_pipeline.stores.parse_results import ParseResults, StoredResult

LINEAGE = FileLineage(
    path="core/a.sql", dialect="tsql",
    statements=[StatementLineage(
        index=0, kind="INSERT", sources=["s.a"], targets=["t.b"], columns=[ColumnEdge(target="t.b.x", sources=["s.a.x"])],
    )],
)
FAILED = FileLineage(path="core/b.sql", dialect="tsql", errors=[ParseIssue(message="parse exceeded file_timeout_s")])


def _store(tmp_path) -> ParseResults:
    return ParseResults(tmp_path / "results.sqlite")


def _lineage(path: str, target: str = "t.b") -> FileLineage:
    statement = LINEAGE.statements[0].model_copy(update={"targets": [target]})
    return LINEAGE.model_copy(update={"path": path, "statements": [statement]})


def test_first_passes_are_the_final_rows_without_catalog_context_of_the_parser_version(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [
        ("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True),
        ("core/b.sql", CacheKey("h2", "tsql", "ctx"), encode(LINEAGE), True),
        ("core/c.sql", CacheKey("h3", "tsql"), encode(FAILED, reusable=False), False),
    ])
    store.put("core", "v0", [("core/d.sql", CacheKey("h4", "tsql"), encode(LINEAGE), True)])
    first = store.first_passes("core", "v1")
    summary = encode(LINEAGE).summary
    assert summary.errors == summary.warnings == summary.dependencies == (), "a plain row: only figures to tell"
    assert first.plain == [("core/a.sql", "h1", "tsql", summary.statements, summary.column_edges)]
    assert first.decoded == {}


def test_first_passes_decode_only_rows_with_errors_warnings_or_dependencies(tmp_path):
    store = _store(tmp_path)
    clean, failed = encode(LINEAGE), encode(FAILED)
    dependent = dataclasses.replace(clean, summary=clean.summary._replace(dependencies=("s.t",)))
    store.put("core", "v1", [
        ("core/a.sql", CacheKey("h1", "tsql"), clean, True),
        ("core/b.sql", CacheKey("h2", "tsql"), failed, True),
        ("core/c.sql", CacheKey("h3", "tsql"), dependent, True),
    ])
    first = store.first_passes("core", "v1")
    plain = {path: (sha256, dialect, statements, edges) for path, sha256, dialect, statements, edges in first.plain}
    assert plain == {"core/a.sql": ("h1", "tsql", clean.summary.statements, clean.summary.column_edges)}
    assert first.decoded["core/b.sql"] == ("h2", "tsql", failed.summary._replace(defines=()))
    assert first.decoded["core/c.sql"][2].dependencies == ("s.t",)


def test_put_then_stored_and_read_restore_key_version_finality_and_path(tmp_path):
    store = _store(tmp_path)
    written = store.put("core", "v1", [
        ("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True),
        ("core/b.sql", CacheKey("h2", "tsql", "ctx"), encode(FAILED, reusable=False), False),
    ])
    assert written == 2
    assert store.stored("core") == {
        "core/a.sql": StoredResult(CacheKey("h1", "tsql"), "v1", True),
        "core/b.sql": StoredResult(CacheKey("h2", "tsql", "ctx"), "v1", False),
    }
    assert store.stored("reporting") == {}
    assert store.stored("core", ["core/b.sql", "core/absent.sql", "reporting/r.sql"]) == {
        "core/b.sql": StoredResult(CacheKey("h2", "tsql", "ctx"), "v1", False),
    }, "only the rows asked for, of the domain asked for"
    assert store.read_many(["core/a.sql", "core/b.sql", "core/absent.sql"]) == {"core/a.sql": LINEAGE, "core/b.sql": FAILED}
    # another instance (another step, another process) reads the same rows
    assert _store(tmp_path).read_many(["core/a.sql"]) == {"core/a.sql": LINEAGE}


def test_a_put_replaces_the_row_of_its_path(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [("core/a.sql", CacheKey("h1", "tsql"), encode(FAILED, reusable=False), False)])
    store.put("core", "v2", [("core/a.sql", CacheKey("h9", "tsql", "ctx"), encode(_lineage("core/a.sql", "t.new")), True)])
    assert store.stored("core") == {"core/a.sql": StoredResult(CacheKey("h9", "tsql", "ctx"), "v2", True)}
    (lineage,) = store.read(["core/a.sql"])
    assert lineage.statements[0].targets == ["t.new"] and not lineage.errors


def test_a_provisional_row_is_handed_on_like_a_final_one(tmp_path):
    """A crash, a timeout or a file edited during the run: the graph stage still gets this run's result."""
    store = _store(tmp_path)
    store.put("core", "v1", [("core/b.sql", CacheKey("h2", "tsql"), encode(FAILED, reusable=False), False)])
    assert store.stored("core")["core/b.sql"].final is False
    assert store.read_many(["core/b.sql"])["core/b.sql"].errors == FAILED.errors


def test_issues_are_read_without_decoding_lineage(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [
        ("core/b.sql", CacheKey("h2", "tsql"), encode(FAILED, reusable=False), False),
        ("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True),
    ])
    assert [(i.path, i.statements, i.errors) for i in store.issues("core")] == [
        ("core/a.sql", 1, ()), ("core/b.sql", 0, tuple(FAILED.errors)),
    ]
    assert list(store.issues("reporting")) == []


def test_retain_drops_only_the_domains_rows_of_files_gone(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [(f"core/{n}.sql", CacheKey(n, "tsql"), encode(_lineage(f"core/{n}.sql")), True) for n in "abc"])
    store.put("reporting", "v1", [("reporting/r.sql", CacheKey("r", "bigquery"), encode(_lineage("reporting/r.sql")), True)])
    assert store.retain("core", ["core/a.sql", "core/c.sql", "core/new.sql"]) == 1
    assert set(store.stored("core")) == {"core/a.sql", "core/c.sql"}
    assert set(store.stored("reporting")) == {"reporting/r.sql"}, "another domain's rows are not touched"
    assert store.retain("core", ["core/a.sql", "core/c.sql"]) == 0
    assert (store.count("core"), store.count("reporting"), store.count("nowhere")) == (2, 1, 0)
    assert store.read_many(["core/b.sql"]) == {}


def test_a_domain_depends_on_the_catalog_through_a_resolved_row_or_a_first_pass_with_dependencies(tmp_path):
    store = _store(tmp_path)
    plain = [(f"core/{n}.sql", CacheKey(n, "tsql"), encode(_lineage(f"core/{n}.sql")), True) for n in "ab"]
    store.put("core", "v1", plain)
    store.put("risk", "v1", [("risk/r.sql", CacheKey("r", "tsql", "fingerprint"), encode(_lineage("risk/r.sql")), True)])
    assert not store.depends_on_catalog("core") and store.depends_on_catalog("risk")
    assert not store.depends_on_catalog("nowhere")
    star = parse_sql("CREATE VIEW v.s AS SELECT * FROM t.u;", "tsql", "core/star.sql")
    assert star.statements, "a first pass that a catalog could change"
    store.put("core", "v1", [("core/star.sql", CacheKey("s", "tsql"), encode(star), True)])
    assert store.depends_on_catalog("core")


def test_previous_gives_the_payload_and_memo_of_first_pass_rows_of_the_parser_version_only(tmp_path):
    """What a parse of an edited file reuses statements from: its row's lineage and memo, if it kept one."""
    store = _store(tmp_path)
    with_memo = encode(LINEAGE, memo=b"memo")
    store.put("core", "v1", [
        ("core/a.sql", CacheKey("h1", "tsql"), with_memo, True),
        ("core/b.sql", CacheKey("h2", "tsql"), encode(LINEAGE), True),
        ("core/c.sql", CacheKey("h3", "tsql", "ctx"), with_memo, True),
    ])
    store.put("core", "v0", [("core/d.sql", CacheKey("h4", "tsql"), with_memo, True)])
    store.put("risk", "v1", [("risk/e.sql", CacheKey("h5", "tsql"), with_memo, True)])
    paths = ["core/a.sql", "core/b.sql", "core/c.sql", "core/d.sql", "risk/e.sql", "core/gone.sql"]
    assert store.previous("core", paths, "v1") == {"core/a.sql": (with_memo.payload, b"memo")}
    store.put("core", "v1", [("core/a.sql", CacheKey("h9", "tsql"), encode(LINEAGE), True)])
    assert store.previous("core", paths, "v1") == {}, "a row replaced without a memo has none to give"


def test_revision_keys_are_the_stored_rows_as_plain_tuples(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [
        ("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True),
        ("core/b.sql", CacheKey("h2", "tsql", "ctx"), encode(FAILED, reusable=False), False),
    ])
    store.put("risk", "v1", [("risk/c.sql", CacheKey("h3", "snowflake"), encode(LINEAGE), True)])
    keys = {row[0]: row[1:] for row in store.revision_keys("core")}
    stored = store.stored("core")
    assert keys == {
        path: (row.key.sha256, row.key.dialect, row.key.context, row.parser_version, row.final) for path, row in stored.items()
    }
    assert keys["core/b.sql"] == ("h2", "tsql", "ctx", "v1", False)


def test_read_streams_many_paths_in_batches(tmp_path):
    store = _store(tmp_path)
    paths = [f"core/f{n:04}.sql" for n in range(1_234)]
    store.put("core", "v1", ((p, CacheKey(p, "tsql"), encode(_lineage(p)), True) for p in paths))
    assert [lineage.path for lineage in store.read(paths)] == paths
    assert len(store.stored("core")) == len(paths)


def _garbage(path):
    path.write_bytes(b"\x00\xffnot a database at all" * 500)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='lineage_pipeline.parse_cache' WHERE name='app'")


def _old_layout(path):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='0' WHERE name='schema_version'")


@pytest.mark.parametrize("damage", [_garbage, _truncate, _foreign, _old_layout])
def test_a_damaged_file_is_moved_aside_and_rebuilt_empty(tmp_path, damage, caplog):
    path = tmp_path / "results.sqlite"
    store = _store(tmp_path)
    store.put("core", "v1", [(f"core/{n}.sql", CacheKey(str(n), "tsql"), encode(_lineage(f"core/{n}.sql")), True)
                             for n in range(300)])
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage(path)
    report = _store(tmp_path).verify_integrity()
    assert report.problem and report.moved_to and report.moved_to.exists()
    assert "moved to" in caplog.text
    rebuilt = _store(tmp_path)
    assert rebuilt.verify_integrity().problem is None
    assert rebuilt.stored("core") == {}, "the next parse fills it again"
    rebuilt.put("core", "v1", [("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True)])
    assert rebuilt.read_many(["core/a.sql"]) == {"core/a.sql": LINEAGE}


def test_a_sound_file_passes_verification_untouched(tmp_path):
    store = _store(tmp_path)
    store.put("core", "v1", [("core/a.sql", CacheKey("h1", "tsql"), encode(LINEAGE), True)])
    report = store.verify_integrity()
    assert report.problem is None and report.moved_to is None
    assert set(store.stored("core")) == {"core/a.sql"}
    assert list(tmp_path.glob("*.corrupt-*")) == []
