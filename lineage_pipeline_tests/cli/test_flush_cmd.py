"""Spec of ``lineage flush`` run as a user would: the request reaches the sensor's next tick."""

import dagster as dg

from lineage_pipeline.sensors.batching import BatchPolicy
from lineage_pipeline.sensors.corpus_sensor import CorpusSensorConfig, build_corpus_sensor
from lineage_pipeline.sensors.state_store import default_state_path


def test_flush_request_makes_the_next_tick_emit_the_pending_batch(project_env):
    config = CorpusSensorConfig(
        corpus_root=project_env.corpus,
        extensions=[".sql"],
        state_path=default_state_path(project_env.data_dir),
        policy=BatchPolicy(debounce_window_seconds=3600, batch_size_threshold=1000, max_in_flight_runs=10),
    )
    sensor = build_corpus_sensor(config, clock=lambda: 1000.0)
    with dg.DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        first = sensor(dg.build_sensor_context(instance=instance))
        assert first.run_requests == [] and "waiting" in first.skip_reason.skip_message

        result = project_env.run("lineage", "flush")
        assert "flush request #1 recorded; sql_corpus_sensor has not ticked yet" in result.stdout

        second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    domains = {request.partition_key for request in second.run_requests}
    assert domains == {"_root", "core", "reporting", "risk", "staging"}
    assert {request.tags["lineage/flush"] for request in second.run_requests} == {"manual"}


def test_wait_times_out_with_a_hint_when_no_sensor_runs(project_env):
    result = project_env.run("lineage", "flush", "--wait", "1", check=False)
    assert result.returncode == 1
    assert "flush request #1 not served within 1s: is sql_corpus_sensor running" in result.stderr
