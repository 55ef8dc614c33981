"""Spec of ``lineage metrics serve|show|reset`` run as a user would (real processes, real HTTP scrape)."""

import subprocess
import time
import urllib.request

from dagster import AssetKey, DagsterInstance

from lineage_pipeline_tests.conftest import VENV_BIN
from lineage_pipeline_tests.observability.support import free_port, record_in_subprocess, samples


def _scrape(url: str, deadline_s: float = 30) -> str:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_counters_from_two_processes_are_summed_in_one_http_scrape(project_env):
    directory = project_env.data_dir / "metrics"  # the settings' effective_metrics_dir
    record_in_subprocess(
        directory, "m.record_files(3, 1)\nm.record_parse_cache(hits=5, misses=2)\nm.record_file_parse_durations([0.01])"
    )
    record_in_subprocess(
        directory, "m.record_files(4, 0)\nm.record_parse_cache(hits=1, misses=0)\nm.record_file_parse_durations([0.5, 2])"
    )
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "lineage"), "metrics", "serve", "--port", str(port), "--address", "127.0.0.1"],
        env=project_env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        values = samples(_scrape(f"http://127.0.0.1:{port}/metrics"))
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert f"Serving metrics from {project_env.data_dir / 'metrics'}" in stderr
    assert values["files_processed_total"] == 7 and values["files_failed_total"] == 1
    assert values["parse_cache_hit_total"] == 6 and values["parse_cache_miss_total"] == 2
    assert values["file_parse_duration_seconds_count"] == 3


def test_show_prints_the_aggregate_and_reset_clears_it(project_env):
    directory = project_env.data_dir / "metrics"
    empty = project_env.run("lineage", "metrics", "show")
    assert empty.stdout == "" and f"no metrics recorded in {directory}" in empty.stderr
    assert not directory.exists(), "showing metrics writes nothing"
    record_in_subprocess(directory, "m.record_graph_retry(2)")
    record_in_subprocess(directory, "m.record_graph_retry(3)")
    files = sorted(directory.iterdir())
    assert samples(project_env.run("lineage", "metrics", "show").stdout)["graph_write_retries_total"] == 5
    assert sorted(directory.iterdir()) == files, "showing metrics adds no file of its own"
    assert project_env.run("lineage", "metrics", "reset", "--yes").stdout == f"Removed {len(files)} metric file(s)\n"
    assert "graph_write_retries_total" not in samples(project_env.run("lineage", "metrics", "show").stdout)


def test_commands_that_record_nothing_work_with_the_metrics_disk_full(project_env):
    from lineage_pipeline_tests.observability.test_store import full_filesystem_at

    with full_filesystem_at(project_env.root / "full") as full:
        project_env.env["LINEAGE_METRICS_DIR"] = str(full / "metrics")
        for args in (["config", "show"], ["graph", "status"], ["metrics", "show"], ["cache", "stats"]):
            result = project_env.run("lineage", *args, check=False)
            assert result.returncode == 0, f"lineage {' '.join(args)} exited {result.returncode}: {result.stderr}"
        assert not (full / "metrics").exists()


def _lineage_graph_metadata(project_env) -> list[dict]:
    """Metadata of every lineage_graph materialization on the test's Dagster instance."""
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        records = instance.fetch_materializations(AssetKey("lineage_graph"), limit=1000).records
        return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records]


def test_an_ingest_shows_up_in_the_metrics(project_env):
    files = len(list(project_env.corpus.rglob("*.sql")))
    project_env.run("lineage", "ingest")
    cold = samples(project_env.run("lineage", "metrics", "show").stdout)
    assert cold["files_processed_total"] == files
    # the first domain's corpus-wide catalog pass parses every file; later domains find theirs cached
    assert cold["parse_cache_miss_total"] > 0 and cold["parse_cache_hit_total"] + cold["parse_cache_miss_total"] == files
    assert cold["files_failed_total"] == 2  # the demo corpus's binary file and its broken statement
    assert cold["file_parse_duration_seconds_count"] > files  # every file once, plus catalog-resolved re-parses
    graph = _lineage_graph_metadata(project_env)
    assert cold["graph_batch_writes_total"] == sum(m["transactions"] for m in graph) > 0
    assert cold["graph_relationships_written_total"] == sum(m["relationships_created"] for m in graph) > 0
    assert cold["graph_entities_written_total"] == sum(m["nodes_created"] for m in graph) > 0
    assert (cold["batch_size_count"], cold["batch_size_sum"]) == (len(graph), files)
    project_env.run("lineage", "ingest", "--rerun")
    warm = samples(project_env.run("lineage", "metrics", "show").stdout)
    assert warm["parse_cache_hit_total"] == cold["parse_cache_hit_total"] + files
    assert warm["files_processed_total"] == 2 * files
    assert warm["file_parse_duration_seconds_count"] == cold["file_parse_duration_seconds_count"]
