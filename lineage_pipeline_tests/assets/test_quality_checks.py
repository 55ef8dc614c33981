"""Spec of assets.quality_checks in real Dagster runs (ephemeral instance, real FalkorDB, copied demo corpus)."""

import shutil

import dagster as dg
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.assets.quality_checks import graph_matches_manifest, parse_error_rate_below_threshold
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.resources import CorpusResource, GraphStoreResource, LocalStoresResource
from lineage_pipeline_tests.conftest import DEMO_CORPUS

DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}
DEFINITIONS = [sql_corpus, parsed_sql, lineage_graph, parse_error_rate_below_threshold, graph_matches_manifest]
DOMAIN = "staging"


@pytest.fixture
def setup(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    data_dir = tmp_path / "data"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(domain_partitions.name, [DOMAIN])
    resources = {
        "corpus": CorpusResource(root=str(corpus), folder_dialects=DIALECTS),
        "stores": LocalStoresResource(data_dir=str(data_dir), parse_cache_path=None),
        "graph_store": GraphStoreResource(data_dir=str(data_dir), graph_name="checks", falkordb_url=None),
    }
    yield instance, resources, corpus, data_dir
    stop_server(data_dir)


def _checks(setup, selection=None, max_error_rate=None, partition: str | None = DOMAIN) -> dict[str, dg.AssetCheckEvaluation]:
    instance, resources, _, _ = setup
    run_config = {"ops": {"parsed_sql": {"config": {"workers": 1}}}}
    if max_error_rate is not None:
        run_config["ops"]["parsed_sql_parse_error_rate_below_threshold"] = {"config": {"max_error_rate": max_error_rate}}
    if selection is not None and "parsed_sql" not in str(selection):
        run_config["ops"].pop("parsed_sql")
    result = dg.materialize(
        DEFINITIONS, instance=instance, resources=resources, partition_key=partition, selection=selection, run_config=run_config
    )
    assert result.success
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def _metadata(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}


def test_both_checks_pass_after_a_clean_ingest(setup):
    checks = _checks(setup)
    assert checks["parse_error_rate_below_threshold"].passed and checks["graph_matches_manifest"].passed
    parse = _metadata(checks["parse_error_rate_below_threshold"])
    assert (parse["files"], parse["files_with_errors"], parse["max_error_rate"]) == (11, 1, 0.25)
    graph = _metadata(checks["graph_matches_manifest"])
    assert (graph["files_checked"], graph["hash_mismatches"], graph["stale_files"]) == (11, 0, 0)


def test_parse_error_rate_fails_over_the_threshold(setup):
    checks = _checks(setup, max_error_rate=0.05)
    assert not checks["parse_error_rate_below_threshold"].passed
    assert _metadata(checks["parse_error_rate_below_threshold"])["error_rate"] == round(1 / 11, 4)
    _, _, corpus, _ = setup
    for n in range(4):
        (corpus / DOMAIN / f"junk_{n}.sql").write_text("SELEC broken FROM WHERE (((;\n")
    checks = _checks(setup)
    evaluation = checks["parse_error_rate_below_threshold"]
    assert not evaluation.passed and _metadata(evaluation)["files_with_errors"] == 5
    assert evaluation.severity == dg.AssetCheckSeverity.WARN


def test_graph_check_fails_when_the_graph_lags_the_manifest(setup):
    _checks(setup)
    _, _, corpus, _ = setup
    changed = sorted((corpus / DOMAIN).glob("*.sql"))[0]
    changed.write_text(changed.read_text() + "\n-- edited\n")
    deleted = sorted((corpus / DOMAIN).glob("*.sql"))[1]
    deleted.unlink()
    only_manifest = dg.AssetSelection.assets(sql_corpus) | dg.AssetSelection.checks(graph_matches_manifest)
    evaluation = _checks(setup, selection=only_manifest)["graph_matches_manifest"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    figures = _metadata(evaluation)
    assert (figures["hash_mismatches"], figures["stale_files"], figures["edges_from_missing_files"]) == (1, 1, 1)
    assert f"{DOMAIN}/{changed.name}" in figures["differences"] and f"{DOMAIN}/{deleted.name}" in figures["differences"]
    assert _checks(setup)["graph_matches_manifest"].passed  # a full run brings the graph back


def test_graph_check_fails_on_an_edge_from_a_file_that_does_not_exist(setup):
    _checks(setup)
    _, _, _, data_dir = setup
    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name="checks")) as backend:
        backend.write(
            "MATCH (t:Table) WITH t LIMIT 1 CREATE (t)-[:FEEDS {file: $file, rev: 'x'}]->(t)", {"file": f"{DOMAIN}/ghost.sql"}
        )
    # run on its own, unpartitioned, the check covers every domain with a manifest
    only_check = dg.AssetSelection.checks(graph_matches_manifest)
    evaluation = _checks(setup, selection=only_check, partition=None)["graph_matches_manifest"]
    assert not evaluation.passed and _metadata(evaluation)["edges_from_missing_files"] == 1
    assert _metadata(evaluation)["domains"] == DOMAIN
