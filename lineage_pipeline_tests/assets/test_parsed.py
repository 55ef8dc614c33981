"""Spec of assets.parsed: parsed_sql in a real Dagster materialization reports cache and pool figures."""

import shutil

import dagster as dg
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline_tests.conftest import DEMO_CORPUS, project_resources

pytestmark = pytest.mark.integration  # Dagster runs with parse workers

FIGURES = {
    "files", "statements", "errors", "cache_hits", "cache_misses", "cache_hit_rate", "files_per_s",
    "p50_file_ms", "p95_file_ms", "workers", "peak_rss_mb", "worker_peak_rss_mb", "error_list",
}


@pytest.fixture
def setup(tmp_path):
    shutil.copytree(DEMO_CORPUS, tmp_path / "corpus")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(domain_partitions.name, ["core"])
    return instance, project_resources(tmp_path / "corpus", tmp_path / "data")


def _run(instance, resources, parse_config=None) -> dict:
    result = dg.materialize(
        [sql_corpus, parsed_sql], instance=instance, resources=resources, partition_key="core",
        run_config={"ops": {"parsed_sql": {"config": parse_config or {"workers": 2}}}},
    )
    assert result.success
    (event,) = result.asset_materializations_for_node("parsed_sql")
    return {k: v.value for k, v in event.metadata.items()}


def test_cold_then_warm_materialization_metadata(setup, tmp_path):
    instance, resources = setup
    cold = _run(instance, resources)
    assert FIGURES <= set(cold)
    assert cold["cache_misses"] == cold["files"] > 0 and cold["cache_hits"] == 0 and cold["workers"] == 2
    assert cold["peak_rss_mb"] > 0 and cold["worker_peak_rss_mb"] > 0 and cold["p95_file_ms"] >= cold["p50_file_ms"] > 0
    warm = _run(instance, resources)
    assert (warm["cache_hits"], warm["cache_misses"], warm["cache_hit_rate"]) == (cold["files"], 0, 1.0)
    assert (warm["statements"], warm["errors"]) == (cold["statements"], cold["errors"])
    # every file's first pass, then the catalog-resolved result of the one file a catalog changes
    assert (cold["results_written"], cold["provisional_results"], warm["results_written"]) == (cold["files"] + 1, 0, 0)
    assert (tmp_path / "data" / "parse_cache.sqlite").exists() and (tmp_path / "data" / "parse_results.sqlite").exists()


def test_run_config_turns_the_cache_off_for_one_run(setup):
    instance, resources = setup
    _run(instance, resources)
    off = _run(instance, resources, {"enable_parse_cache": False, "workers": 1})
    assert (off["cache_enabled"], off["cache_hits"], off["cache_misses"], off["workers"]) == (False, 0, off["files"], 1)
    assert off["statements_reused"] == 0, "no statement is taken from an earlier parse either"


def test_an_edited_file_reports_the_statements_taken_from_its_previous_parse(setup, tmp_path):
    instance, resources = setup
    cold = _run(instance, resources)
    assert cold["statements_reused"] == 0
    edited = tmp_path / "corpus" / "core" / "usp_load_dim_date.sql"
    edited.write_text(edited.read_text() + "\nINSERT INTO dw.extra (a) SELECT b FROM stg.src;\n")
    after = _run(instance, resources)
    assert after["cache_misses"] == 1 and after["statements"] == cold["statements"] + 1
    assert after["statements_reused"] > 0


def test_catalog_pass_covers_the_corpus_and_is_reused_warm(setup, tmp_path):
    instance, resources = setup
    corpus_files = len(list((tmp_path / "corpus").rglob("*.sql")))
    core_files = len(list((tmp_path / "corpus" / "core").glob("*.sql")))
    cold = _run(instance, resources)
    assert cold["catalog_corpus_files"] == corpus_files and cold["catalog_corpus_files_parsed"] == corpus_files - core_files
    # core/views_dw_customer.sql selects * from dw tables the corpus defines
    assert cold["files_resolved_with_catalog"] == 1 and cold["catalog_tables"] > 20 and cold["catalog_parses"] >= 1
    warm = _run(instance, resources)
    assert (warm["catalog_corpus_files_parsed"], warm["catalog_parses"]) == (0, 0)
    assert warm["files_resolved_with_catalog"] == 1 and warm["catalog_cache_hits"] >= 1
    assert warm["column_edges"] == cold["column_edges"]
    assert warm["column_edges_added_by_catalog"] == cold["column_edges_added_by_catalog"] > 0


def test_catalog_can_be_limited_to_the_domain(setup, tmp_path):
    instance, resources = setup
    local = _run(instance, resources, {"workers": 1, "corpus_catalog": False})
    assert local["catalog_corpus_files"] == local["files"] and local["catalog_corpus_files_parsed"] == 0
