"""Spec of graph.keys: the key rules, and the embedded FalkorDB limits they exist for (real server)."""

import pytest
import redis

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.embedded_server import server_status
from lineage_pipeline.graph.keys import MAX_KEY_BYTES, key_problem, row_problem

BAD_KEYS = {
    "trailing space (T-SQL dbo.[orders ])": "dbo.orders ",
    "leading space": " dbo.orders",
    "trailing tab": "dbo.orders\t",
    "trailing newline": "dbo.orders\n",
    "empty": "",
    "one byte over the limit": "dbo." + "x" * (MAX_KEY_BYTES - 3),
    "over the limit in UTF-8 bytes, not characters": "ä" * (MAX_KEY_BYTES // 2 + 1),
}
GOOD_KEYS = {
    "space inside": "dbo.order items",
    "no-break space at the end": "dbo.orders\u00a0",
    "non-ASCII": "stg.Überweisung_日本",
    "exactly at the limit": "dbo." + "x" * (MAX_KEY_BYTES - 4),
    "punctuation": "dbo.[orders]",
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_keys_the_store_cannot_hold_are_refused_with_the_reason(key):
    assert key_problem(key)


@pytest.mark.parametrize("key", GOOD_KEYS.values(), ids=GOOD_KEYS.keys())
def test_other_keys_pass_verbatim(key):
    assert key_problem(key) is None


def test_rows_are_checked_on_every_key_they_name():
    assert row_problem("tables", {"key": "dbo.orders ", "name": "orders ", "kind": "table"}).startswith("tables: key")
    assert row_problem("columns", {"key": "a.t .c", "name": "c", "table": "a.t "}) is None, "only HAS_COLUMN needs the table"
    assert "starts or ends with whitespace" in row_problem("merge:FEEDS", {"src": "a.t", "dst": "b.t ", "file": "f", "rev": "r"})
    assert row_problem("unlink:READS", "core/x.sql") is None and row_problem("delete_files", "") is not None
    assert row_problem("files", {"path": "core/x.sql", "domain": " core"}) is not None


@pytest.mark.parametrize(
    "key", [BAD_KEYS["trailing space (T-SQL dbo.[orders ])"], BAD_KEYS["one byte over the limit"]], ids=["space", "long"]
)
def test_the_embedded_store_still_crashes_on_these_keys(falkordb_backend, tmp_path, key):
    """Why the rules exist: creating such a node kills the server (SIGSEGV in EnforceUniqueEntity).
    If this starts failing, a FalkorDB release fixed it and ``keys`` can be relaxed."""
    pid = server_status(tmp_path / "graph-data").pid
    with pytest.raises(redis.exceptions.ConnectionError):
        falkordb_backend.write(cypher.MERGE_TABLES, {"rows": [{"key": key, "name": "n", "kind": "table"}]})
    assert server_status(tmp_path / "graph-data") is None or server_status(tmp_path / "graph-data").pid != pid
    falkordb_backend.recover()
    for good in GOOD_KEYS.values():  # and the keys the rules let through are stored verbatim
        falkordb_backend.write(cypher.MERGE_TABLES, {"rows": [{"key": good, "name": "n", "kind": "table"}]})
    assert sorted(row[0] for row in falkordb_backend.read("MATCH (t:Table) RETURN t.key")) == sorted(GOOD_KEYS.values())
