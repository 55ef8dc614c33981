"""Spec of the graph/manifest comparison behind the ``graph_matches_manifest`` asset check (real FalkorDB)."""

import pytest

from lineage_pipeline.graph.consistency import check_domain
from lineage_pipeline.graph.rows import file_revision

PV = "pv-test"


def _file(backend, path: str, sha256: str, rev: str | None = None) -> None:
    backend.write(
        "CREATE (f:SqlFile {path: $path, domain: $domain, sha256: $sha, rev: $rev})"
        "-[:READS {file: $path, rev: $rev}]->(:Table {key: $table})",
        {"path": path, "domain": path.partition("/")[0], "sha": sha256,
         "rev": rev or file_revision(sha256, PV), "table": f"t.{path}"},
    )


@pytest.fixture
def graph(falkordb_backend):
    _file(falkordb_backend, "core/a.sql", "aaa")
    _file(falkordb_backend, "core/b.sql", "bbb")
    _file(falkordb_backend, "risk/r.sql", "rrr")
    return falkordb_backend


def test_graph_equal_to_manifest_is_consistent(graph):
    report = check_domain(graph, "core", {"core/a.sql": "aaa", "core/b.sql": "bbb"}, PV)
    assert report.consistent and report.files_checked == 2


def test_changed_content_hash_and_uncommitted_revision_are_mismatches(graph):
    assert check_domain(graph, "core", {"core/a.sql": "new", "core/b.sql": "bbb"}, PV).hash_mismatches == ["core/a.sql"]
    # same bytes, but written by another parser version: the file's lineage is stale
    assert check_domain(graph, "core", {"core/a.sql": "aaa", "core/b.sql": "bbb"}, "pv-next").hash_mismatches == [
        "core/a.sql", "core/b.sql"
    ]


def test_deleted_file_is_stale_with_its_edges_and_new_file_is_missing(graph):
    report = check_domain(graph, "core", {"core/a.sql": "aaa", "core/c.sql": "ccc"}, PV)
    assert report.stale_files == ["core/b.sql"]
    assert report.edges_from_missing_files == ["core/b.sql"]
    assert report.missing_files == ["core/c.sql"]
    assert not report.consistent


def test_edge_from_a_file_without_node_is_found_and_other_domains_ignored(graph):
    graph.write(
        "MATCH (t:Table {key: $key}) CREATE (t)-[:FEEDS {file: $file, rev: 'x'}]->(t)", {"key": "t.core/a.sql", "file": "core/ghost.sql"}
    )
    report = check_domain(graph, "core", {"core/a.sql": "aaa", "core/b.sql": "bbb"}, PV)
    assert report.edges_from_missing_files == ["core/ghost.sql"] and report.stale_files == []
    assert check_domain(graph, "risk", {"risk/r.sql": "rrr"}, PV).consistent
