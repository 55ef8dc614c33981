"""Spec of stores.parse_store: results keyed by content, dialect and parser version; path restored on read."""

import multiprocessing

from lineage_pipeline.parsing.models import FileLineage, ParseIssue, StatementLineage
from lineage_pipeline.stores.parse_store import ParseStore

LINEAGE = FileLineage(
    path="core/a.sql", dialect="tsql",
    statements=[StatementLineage(index=0, kind="INSERT", sources=["s.a"], targets=["t.b"])],
    errors=[ParseIssue(statement=1, line=4, message="bad")],
)


def test_round_trip_and_path_relabel(tmp_path):
    store = ParseStore(tmp_path / "p.sqlite", parser_version="1")
    store.put_many([("h1", "tsql", LINEAGE)])
    assert store.get("h1", "tsql", "core/a.sql") == LINEAGE
    assert store.get("h1", "tsql", "copy/a.sql") == LINEAGE.model_copy(update={"path": "copy/a.sql"})


def test_misses_on_other_content_dialect_or_parser_version(tmp_path):
    ParseStore(tmp_path / "p.sqlite", parser_version="1").put_many([("h1", "tsql", LINEAGE)])
    store = ParseStore(tmp_path / "p.sqlite", parser_version="1")
    assert store.get("h2", "tsql", "core/a.sql") is None
    assert store.get("h1", "snowflake", "core/a.sql") is None
    assert ParseStore(tmp_path / "p.sqlite", parser_version="2").get("h1", "tsql", "core/a.sql") is None


def _writer(path, worker):
    store = ParseStore(path, parser_version="1")
    for i in range(50):
        store.put_many([(f"w{worker}-{i}", "tsql", LINEAGE)])


def test_two_processes_write_at_once(tmp_path):
    path = tmp_path / "p.sqlite"
    ParseStore(path, parser_version="1")
    processes = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, w)) for w in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    store = ParseStore(path, parser_version="1")
    keys = [(f"w{w}-{i}", "tsql", "x.sql") for w in range(2) for i in range(50)]
    assert len(store.get_many(keys)) == 100
