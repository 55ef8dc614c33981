"""Spec of the graph/manifest comparison behind the ``graph_matches_manifest`` asset check (real FalkorDB):
full revisions per file, relationships of the expected revision only, and no unexpected domain."""

import pytest

from lineage_pipeline.graph.consistency import (
    check_after_write,
    check_domain,
    graph_domains,
    unexpected_domains,
)
from lineage_pipeline.graph.rows import file_revision

PV = "pv-test"


def _rev(sha256: str, parser_version: str = PV, context: str = "") -> str:
    return file_revision(sha256, "tsql", parser_version, context)


def _file(backend, path: str, sha256: str, rev: str | None = None) -> None:
    backend.write(
        "CREATE (f:SqlFile {path: $path, domain: $domain, sha256: $sha, rev: $rev})"
        "-[:READS {file: $path, rev: $rev}]->(:Table {key: $table})",
        {"path": path, "domain": path.partition("/")[0], "sha": sha256, "rev": rev or _rev(sha256), "table": f"t.{path}"},
    )


CORE = {"core/a.sql": _rev("aaa"), "core/b.sql": _rev("bbb")}


@pytest.fixture
def graph(falkordb_backend):
    _file(falkordb_backend, "core/a.sql", "aaa")
    _file(falkordb_backend, "core/b.sql", "bbb")
    _file(falkordb_backend, "risk/r.sql", "rrr")
    return falkordb_backend


def test_graph_equal_to_manifest_is_consistent(graph):
    report = check_domain(graph, "core", CORE)
    assert report.consistent and report.files_checked == 2


def test_any_difference_in_the_full_revision_is_a_mismatch(graph):
    assert check_domain(graph, "core", {**CORE, "core/a.sql": _rev("new")}).revision_mismatches == ["core/a.sql"]
    # same bytes, another parser version or catalog context: the file's lineage is stale
    next_parser = {path: rev.replace(PV, "pv-next") for path, rev in CORE.items()}
    assert check_domain(graph, "core", next_parser).revision_mismatches == ["core/a.sql", "core/b.sql"]
    with_context = {**CORE, "core/a.sql": _rev("aaa", context="catalog-1")}
    assert check_domain(graph, "core", with_context).revision_mismatches == ["core/a.sql"], (
        "on main a catalog-resolved revision only had to start with the expected one"
    )


def test_relationships_of_another_revision_are_found_even_when_the_file_is_committed(graph):
    # e.g. a file re-resolved (dialect/catalog) whose SqlFile was committed but an old edge survived
    graph.write(
        "MATCH (f:SqlFile {path: 'core/a.sql'}), (t:Table {key: 't.core/b.sql'}) "
        "CREATE (f)-[:READS {file: 'core/a.sql', rev: 'old-revision'}]->(t)"
    )
    report = check_domain(graph, "core", CORE)
    assert report.edges_of_other_revisions == ["core/a.sql"] and report.revision_mismatches == []
    assert not report.consistent


def test_after_a_sync_only_the_relationships_of_the_files_it_wrote_are_read(graph):
    """What a sync did not write it did not change: the per-run check reads the relationships of the files
    the sync wrote (and looks for those of the files it deleted); the audit reads every file's."""
    for path in CORE:
        graph.write(
            "MATCH (f:SqlFile {path: $path}), (t:Table {key: 't.core/b.sql'}) "
            "CREATE (f)-[:READS {file: $path, rev: 'old-revision'}]->(t)",
            {"path": path},
        )
    report = check_domain(graph, "core", CORE, edges_of=["core/a.sql"])
    assert (report.edges_checked, report.edges_of_other_revisions) == (1, ["core/a.sql"])
    assert check_domain(graph, "core", CORE).edges_of_other_revisions == ["core/a.sql", "core/b.sql"]
    graph.write(
        "MATCH (t:Table {key: $key}) CREATE (t)-[:FEEDS {file: $file, rev: 'x'}]->(t)",
        {"key": "t.core/a.sql", "file": "core/deleted.sql"},
    )
    assert check_domain(graph, "core", CORE, edges_of=[], gone=["core/deleted.sql"]).edges_from_missing_files == [
        "core/deleted.sql"
    ]
    assert check_domain(graph, "core", CORE, edges_of=[]).edges_from_missing_files == []


def _never_called():
    raise AssertionError("the domain's files were all compared although its count matched")


def test_after_a_write_the_files_it_wrote_and_deleted_are_checked_by_path_and_the_rest_by_count(graph):
    written = {"core/a.sql": _rev("aaa")}
    report = check_after_write(graph, "core", written, file_count=2, all_revisions=_never_called)
    assert report.consistent and (report.files_checked, report.edges_checked) == (1, 1)
    wrong = check_after_write(graph, "core", {"core/a.sql": _rev("new")}, file_count=2, all_revisions=_never_called)
    assert wrong.revision_mismatches == ["core/a.sql"] and wrong.edges_of_other_revisions == ["core/a.sql"]
    # a file the write deleted whose node and edges are still there (the count is off by it: all compared)
    kept = check_after_write(graph, "core", written, file_count=1, gone=["core/b.sql"], all_revisions=lambda: written)
    assert kept.stale_files == ["core/b.sql"] and kept.edges_from_missing_files == ["core/b.sql"]
    assert kept.files_checked == 1 and not kept.consistent


def test_after_a_write_a_count_that_differs_compares_every_file_and_names_the_difference(graph):
    graph.write("MATCH (f:SqlFile {path: 'core/b.sql'}) DETACH DELETE f")  # a file the write did not touch
    report = check_after_write(graph, "core", {"core/a.sql": _rev("aaa")}, file_count=2, all_revisions=lambda: CORE)
    assert report.missing_files == ["core/b.sql"] and report.files_checked == 2 and not report.consistent


def test_deleted_file_is_stale_with_its_edges_and_new_file_is_missing(graph):
    report = check_domain(graph, "core", {"core/a.sql": _rev("aaa"), "core/c.sql": _rev("ccc")})
    assert report.stale_files == ["core/b.sql"]
    assert report.edges_from_missing_files == ["core/b.sql"]
    assert report.missing_files == ["core/c.sql"]
    assert not report.consistent


def test_edge_from_a_file_without_node_is_found_and_other_domains_ignored(graph):
    graph.write(
        "MATCH (t:Table {key: $key}) CREATE (t)-[:FEEDS {file: $file, rev: 'x'}]->(t)",
        {"key": "t.core/a.sql", "file": "core/ghost.sql"},
    )
    report = check_domain(graph, "core", CORE, whole_graph=True)
    assert report.edges_from_missing_files == ["core/ghost.sql"] and report.stale_files == []
    assert check_domain(graph, "risk", {"risk/r.sql": _rev("rrr")}, whole_graph=True).consistent
    # the per-run check reads only the domain's own files: an edge no file node names needs the whole scan
    assert check_domain(graph, "core", CORE).consistent


def test_edges_left_by_a_file_whose_node_is_stale_are_found_without_the_whole_scan(graph):
    graph.write("MATCH (f:SqlFile {path: 'core/b.sql'}) SET f.rev = 'old'")
    report = check_domain(graph, "core", {"core/a.sql": _rev("aaa")})
    assert report.stale_files == ["core/b.sql"] and report.edges_from_missing_files == ["core/b.sql"]


def test_domains_in_the_graph_but_not_expected_are_reported(graph):
    assert graph_domains(graph) == {"core", "risk"}
    assert unexpected_domains(graph, ["core", "risk"]) == []
    assert unexpected_domains(graph, ["core"]) == ["risk"]
    # a domain known only by an edge's file or a sync marker still counts: something of it is left
    graph.write("MATCH (t:Table {key: 't.core/a.sql'}) CREATE (t)-[:FEEDS {file: 'gone/x.sql', rev: 'x'}]->(t)")
    graph.write("CREATE (:SyncState {domain: 'retiring', dirty: true})")
    assert unexpected_domains(graph, ["core"]) == ["retiring", "risk"]
    assert unexpected_domains(graph, ["core"], whole_graph=True) == ["gone", "retiring", "risk"]
