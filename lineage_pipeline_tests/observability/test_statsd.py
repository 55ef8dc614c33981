"""Spec of the StatsD export: with a StatsD host configured, each recorded figure is sent as a UDP line."""

import socket

from lineage_pipeline.observability.statsd import StatsdClient, client_from_settings
from lineage_pipeline_tests.observability.support import record_in_subprocess


def _listener() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(10)
    return server


def _received(server: socket.socket, count: int) -> list[str]:
    return [server.recvfrom(4096)[0].decode() for _ in range(count)]


def test_recorded_figures_reach_a_real_statsd_socket(tmp_path):
    with _listener() as server:
        port = server.getsockname()[1]
        record_in_subprocess(
            tmp_path / "metrics", "m.record_files(3, 1, 1.5)\nm.record_graph_write(4, 5, 0.25)",
            statsd_host="127.0.0.1", statsd_port=port,
        )
        lines = _received(server, 7)
    assert lines == [
        "lineage.files_processed:3|c",
        "lineage.files_failed:1|c",
        "lineage.files_processed_per_second:2|g",
        "lineage.graph_batch_writes:1|c",
        "lineage.graph_entities_written:4|c",
        "lineage.graph_relationships_written:5|c",
        "lineage.graph_batch_duration:250|ms",
    ]


def test_client_is_only_built_with_a_host_and_never_raises_without_a_daemon():
    assert client_from_settings(None, 8125, "lineage") is None
    client = StatsdClient("no-such-host.invalid", 8125, "")
    client.incr("x")  # an unresolvable host is ignored: metrics must never fail ingestion
    client.close()
