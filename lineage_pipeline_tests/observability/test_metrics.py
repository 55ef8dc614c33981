"""Spec of the metrics: every documented name exists, values aggregate across real processes, and
configuring them is an explicit call (no settings, no files, no environment at import)."""

import os
import subprocess
import sys

from lineage_pipeline.observability.metrics import METRIC_NAMES, NoMetrics, PipelineMetrics, configure_metrics
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import record_in_subprocess, recording_process, samples

DOCUMENTED = {
    "parse_cache_hit_total", "parse_cache_miss_total", "events_deduplicated_total", "files_processed_total",
    "files_failed_total", "graph_batch_writes_total", "graph_entities_written_total",
    "graph_relationships_written_total", "graph_write_retries_total", "dead_letter_items_total", "batch_size",
    "batch_processing_duration_seconds", "graph_batch_duration_seconds", "file_parse_duration_seconds",
    "files_processed_per_second", "active_workers", "queue_size", "parse_cache_entries",
}
RECORDING_METHODS = [
    "record_parse_cache", "record_file_parse_durations", "record_files", "record_parse_stage",
    "record_events_deduplicated", "set_queue_size", "set_parse_cache_entries", "record_batch",
    "record_graph_write", "record_graph_sync", "record_graph_retry", "record_dead_letter", "active_workers",
]


def test_metric_names_are_exactly_the_documented_ones():
    assert METRIC_NAMES == DOCUMENTED


def test_importing_observability_reads_no_settings_and_touches_no_file(tmp_path):
    script = (
        "import os, sys\n"
        "import lineage_pipeline.observability.metrics, lineage_pipeline.observability.server\n"
        "import lineage_pipeline.observability.instrumented_backend, lineage_pipeline.observability.statsd\n"
        "import lineage_pipeline.observability.store\n"
        "print(sorted(m for m in sys.modules if m in ('lineage_pipeline.settings', 'yaml', 'pydantic_settings')))\n"
        "print(sorted(k for k in os.environ if 'MULTIPROC' in k.upper()))\n"
    )
    env = {k: v for k, v in os.environ.items() if "MULTIPROC" not in k.upper()}
    env["LINEAGE_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "[]"]
    assert list(tmp_path.iterdir()) == []


def test_configuring_twice_in_one_process_adds_up_in_the_same_files(tmp_path):
    directory = tmp_path / "metrics"
    first, second = configure_metrics(directory), configure_metrics(directory)  # no duplicate-registration error
    first.record_files(2, 1)
    second.record_files(3, 0)
    second.record_graph_retry(4)
    other = configure_metrics(tmp_path / "other")
    other.record_files(100, 0)
    values = samples(exposition(directory).decode())
    assert values["files_processed_total"] == 5 and values["files_failed_total"] == 1
    assert values["graph_write_retries_total"] == 4
    assert samples(exposition(tmp_path / "other").decode())["files_processed_total"] == 100


def test_no_metrics_has_every_method_and_records_nothing(tmp_path):
    disabled = NoMetrics()
    assert isinstance(disabled, PipelineMetrics) and not disabled.enabled
    for name in RECORDING_METHODS:
        assert callable(getattr(disabled, name)) and callable(getattr(PipelineMetrics, name))
    disabled.record_parse_stage(files=1, failed=0, cache_hits=1, cache_misses=0, file_ms=[1], seconds=1, cache_entries=3)
    disabled.record_graph_sync(1, 1, 1, 1.0)
    disabled.set_queue_size(3)
    with disabled.active_workers(2):
        pass
    assert disabled.directory is None


def test_counters_histograms_and_gauges_aggregate_over_processes(tmp_path):
    directory = tmp_path / "metrics"
    record_in_subprocess(directory, (
        "m.record_parse_stage(files=10, failed=2, cache_hits=6, cache_misses=4, file_ms=[5, 50, 500, 5000], seconds=2)\n"
        "m.record_graph_write(entities=30, relationships=70, seconds=0.2)\n"
        "m.record_batch(size=10, seconds=3)\nm.set_queue_size(9)\nm.record_events_deduplicated(4)"
    ))
    record_in_subprocess(directory, (
        "m.record_parse_stage(files=5, failed=0, cache_hits=5, cache_misses=0, file_ms=[], seconds=0.5, cache_entries=7)\n"
        "m.record_graph_write(entities=1, relationships=2, seconds=0.01)\nm.record_graph_retry(2)\n"
        "m.record_dead_letter(1)\nm.set_queue_size(3)\nm.set_parse_cache_entries(42)\n"
        "m.record_graph_sync(files_changed=4, retries=1, dead_lettered=2, seconds=1)"
    ))
    values = samples(exposition(directory).decode())
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
    directory = tmp_path / "metrics"
    worker = recording_process(directory, "with m.active_workers(3):\n    print('busy', flush=True)\n    sys.stdin.readline()\n")
    try:
        assert worker.stdout.readline().strip() == "busy"
        assert samples(exposition(directory).decode())["active_workers"] == 3
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    assert samples(exposition(directory).decode()).get("active_workers", 0) == 0


def test_a_forked_child_records_in_its_own_files(tmp_path):
    directory = tmp_path / "metrics"
    record_in_subprocess(directory, (
        "import os\nm.record_files(1, 0)\npid = os.fork()\n"
        "if pid == 0:\n    m.record_files(10, 0)\n    os._exit(0)\n"
        "os.waitpid(pid, 0)\nm.record_files(100, 0)\n"
    ))
    assert samples(exposition(directory).decode())["files_processed_total"] == 111
    assert len(list(directory.glob("counter_*.db"))) == 2


def test_every_metric_is_exposed_from_zero_and_statsd_is_off_by_default(tmp_path):
    directory = tmp_path / "metrics"
    result = record_in_subprocess(directory, "m.record_files(0, 0)\nprint(m.statsd)")
    assert result.stdout.strip() == "None"
    values = samples(exposition(directory).decode())
    assert values["files_processed_total"] == 0
    exposed = {name for name in values if name in DOCUMENTED or name.removesuffix("_count") in DOCUMENTED}
    gauges_unset = {"active_workers", "files_processed_per_second", "queue_size", "parse_cache_entries"}
    assert {n.removesuffix("_count") for n in exposed} >= DOCUMENTED - gauges_unset


def test_exposition_of_a_missing_directory_is_empty_and_creates_nothing(tmp_path):
    assert exposition(tmp_path / "never") == b""
    assert not (tmp_path / "never").exists()
