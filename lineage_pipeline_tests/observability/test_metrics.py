"""Spec of the metrics: every documented name exists, and values aggregate across real processes."""

import subprocess
import sys

from lineage_pipeline.observability import metrics
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import metrics_env, record_in_subprocess, samples

DOCUMENTED = {
    "parse_cache_hit_total", "parse_cache_miss_total", "events_deduplicated_total", "files_processed_total",
    "files_failed_total", "graph_batch_writes_total", "graph_entities_written_total",
    "graph_relationships_written_total", "graph_write_retries_total", "dead_letter_items_total", "batch_size",
    "batch_processing_duration_seconds", "graph_batch_duration_seconds", "file_parse_duration_seconds",
    "files_processed_per_second", "active_workers", "queue_size", "parse_cache_entries",
}


def test_metric_names_are_exactly_the_documented_ones():
    assert metrics.METRIC_NAMES == DOCUMENTED


def test_counters_histograms_and_gauges_aggregate_over_processes(tmp_path):
    env = metrics_env(tmp_path / "data")
    record_in_subprocess(env, (
        "m.record_parse_stage(files=10, failed=2, cache_hits=6, cache_misses=4, file_ms=[5, 50, 500, 5000], seconds=2)\n"
        "m.record_graph_write(entities=30, relationships=70, seconds=0.2)\n"
        "m.record_batch(size=10, seconds=3)\nm.set_queue_size(9)\nm.record_events_deduplicated(4)"
    ))
    record_in_subprocess(env, (
        "m.record_parse_stage(files=5, failed=0, cache_hits=5, cache_misses=0, file_ms=[], seconds=0.5, cache_entries=7)\n"
        "m.record_graph_write(entities=1, relationships=2, seconds=0.01)\nm.record_graph_retry(2)\n"
        "m.record_dead_letter(1)\nm.set_queue_size(3)\nm.set_parse_cache_entries(42)\n"
        "m.record_graph_sync(files_changed=4, retries=1, dead_lettered=2, seconds=1)"
    ))
    values = samples(exposition(tmp_path / "data" / "metrics").decode())
    assert values["files_processed_total"] == 15 and values["files_failed_total"] == 2
    assert values["parse_cache_hit_total"] == 11 and values["parse_cache_miss_total"] == 4
    assert values["file_parse_duration_seconds_count"] == 4
    assert values["file_parse_duration_seconds_bucket{le=0.05}"] == 2  # 5 ms and 50 ms
    assert values["graph_batch_writes_total"] == 2 and values["graph_entities_written_total"] == 31
    assert values["graph_relationships_written_total"] == 72 and values["graph_write_retries_total"] == 3
    assert values["dead_letter_items_total"] == 3 and values["events_deduplicated_total"] == 4
    assert values["batch_size_count"] == 2 and values["batch_size_sum"] == 14
    assert values["batch_processing_duration_seconds_sum"] == 4
    # most recent writer wins for throughput and queue gauges
    assert values["files_processed_per_second"] == 10 and values["queue_size"] == 3
    assert values["parse_cache_entries"] == 42


def test_active_workers_counts_only_live_processes(tmp_path):
    env = metrics_env(tmp_path / "data")
    script = (
        "import sys\nfrom lineage_pipeline.observability import metrics as m\n"
        "with m.active_workers(3):\n    print('busy', flush=True)\n    sys.stdin.readline()\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "busy"
        assert samples(exposition(tmp_path / "data" / "metrics").decode())["active_workers"] == 3
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    assert samples(exposition(tmp_path / "data" / "metrics").decode()).get("active_workers", 0) == 0


def test_every_metric_is_exposed_from_zero_and_statsd_is_off_by_default(tmp_path):
    env = metrics_env(tmp_path / "data")
    result = record_in_subprocess(env, "m.record_files(0, 0)\nprint(m._statsd())")
    assert result.stdout.strip() == "None"
    values = samples(exposition(tmp_path / "data" / "metrics").decode())
    assert values["files_processed_total"] == 0
    exposed = {name for name in values if name in DOCUMENTED or name.removesuffix("_count") in DOCUMENTED}
    assert {n.removesuffix("_count") for n in exposed} >= DOCUMENTED - {"active_workers", "files_processed_per_second", "queue_size", "parse_cache_entries"}
