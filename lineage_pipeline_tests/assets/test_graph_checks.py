"""Spec of assets.graph_checks (graph_matches_manifest) in real Dagster runs (ephemeral instance, real
FalkorDB, copied demo corpus); no_dead_lettered_rows is specified in test_graph.py."""

import dagster as dg
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.graph_checks import graph_matches_manifest
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline_tests.assets.support import DOMAIN, checks_setup, metadata, run_checks

pytestmark = pytest.mark.integration  # Dagster runs on a real FalkorDB server

DEFINITIONS = [sql_corpus, parsed_sql, lineage_graph, graph_matches_manifest]


@pytest.fixture
def setup(tmp_path):
    yield from checks_setup(tmp_path)


def test_the_graph_check_passes_after_a_clean_ingest(setup):
    checks = run_checks(setup, DEFINITIONS)
    assert checks["graph_matches_manifest"].passed
    graph = metadata(checks["graph_matches_manifest"])
    assert (graph["files_checked"], graph["revision_mismatches"], graph["stale_files"]) == (11, 0, 0)
    assert graph["edges_checked_files"] == 11, "a first write wrote every file"


def test_after_a_small_change_the_check_reads_the_relationships_of_the_files_the_run_wrote(setup):
    run_checks(setup, DEFINITIONS)
    changed = sorted((setup.corpus / DOMAIN).glob("*.sql"))[0]
    changed.write_text(changed.read_text() + "\n-- edited\n")
    checks = run_checks(setup, DEFINITIONS)
    figures = metadata(checks["graph_matches_manifest"])
    assert checks["graph_matches_manifest"].passed
    assert (figures["files_checked"], figures["edges_checked_files"]) == (1, 1), "the file the run wrote"
    no_write = dg.AssetSelection.assets(sql_corpus) | dg.AssetSelection.checks(graph_matches_manifest)
    alone = run_checks(setup, DEFINITIONS, selection=no_write)["graph_matches_manifest"]
    assert metadata(alone)["edges_checked_files"] == 11, "no write in its run: every file"


def test_graph_check_fails_when_the_graph_lags_the_manifest(setup):
    run_checks(setup, DEFINITIONS)
    changed = sorted((setup.corpus / DOMAIN).glob("*.sql"))[0]
    changed.write_text(changed.read_text() + "\n-- edited\n")
    deleted = sorted((setup.corpus / DOMAIN).glob("*.sql"))[1]
    deleted.unlink()
    only_manifest = dg.AssetSelection.assets(sql_corpus) | dg.AssetSelection.checks(graph_matches_manifest)
    unparsed = run_checks(setup, DEFINITIONS, selection=only_manifest)["graph_matches_manifest"]
    # the check compares full revisions, which need the changed file's parse result (697b117)
    assert not unparsed.passed and "no parse result" in metadata(unparsed)["reason"]
    not_written = dg.AssetSelection.assets(sql_corpus, parsed_sql) | dg.AssetSelection.checks(graph_matches_manifest)
    evaluation = run_checks(setup, DEFINITIONS, selection=not_written)["graph_matches_manifest"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    figures = metadata(evaluation)
    assert (figures["revision_mismatches"], figures["stale_files"], figures["edges_from_missing_files"]) == (1, 1, 1)
    assert f"{DOMAIN}/{changed.name}" in figures["differences"] and f"{DOMAIN}/{deleted.name}" in figures["differences"]
    assert run_checks(setup, DEFINITIONS)["graph_matches_manifest"].passed  # a full run brings the graph back


def test_graph_check_fails_on_an_edge_from_a_file_that_does_not_exist(setup):
    run_checks(setup, DEFINITIONS)
    with graph_backend(GraphStoreConfig(data_dir=setup.data_dir, graph_name="checks")) as backend:
        backend.write(
            "MATCH (t:Table) WITH t LIMIT 1 CREATE (t)-[:FEEDS {file: $file, rev: 'x'}]->(t)", {"file": f"{DOMAIN}/ghost.sql"}
        )
    # run on its own, unpartitioned, the check covers every domain with a manifest
    only_check = dg.AssetSelection.checks(graph_matches_manifest)
    evaluation = run_checks(setup, DEFINITIONS, selection=only_check, partition=None)["graph_matches_manifest"]
    assert not evaluation.passed and metadata(evaluation)["edges_from_missing_files"] == 1
    assert metadata(evaluation)["domains"] == DOMAIN
