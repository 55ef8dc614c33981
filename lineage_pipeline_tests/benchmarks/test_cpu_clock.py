"""Spec of the CPU clock: CPU seconds of a stretch of work, split into this process, its children and the graph server."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.cpu_clock import CpuClock, CpuSeconds, usable_cores
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import server_status, stop_server

_SPIN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n{after}"


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _child(seconds: float, after: str = "", stdout=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _SPIN.format(seconds=seconds, after=after)], stdout=stdout)


def test_work_in_this_process_counts_as_the_pass_process_only():
    clock = CpuClock()
    _spin(0.3)
    cpu = clock.read()
    assert cpu.pass_process >= 0.3
    assert cpu.parse_workers < 0.05 and cpu.graph_server == 0.0
    assert cpu.total == pytest.approx(cpu.pass_process + cpu.parse_workers + cpu.graph_server)


@pytest.mark.integration  # child processes / a real graph server
def test_a_child_counts_whether_it_has_exited_or_is_still_running():
    clock = CpuClock()
    _child(0.3).wait(timeout=60)
    running = _child(0.3, after="time.sleep(60)")
    try:
        deadline = time.monotonic() + 30
        while clock.read().parse_workers < 0.55 and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu = clock.read()
    finally:
        running.kill()
        running.wait()
    # the reaped child's spin and the live one's, and not much more (interpreter start-ups)
    assert 0.55 <= cpu.parse_workers < 1.5
    assert cpu.pass_process < 0.5


@pytest.mark.integration  # child processes / a real graph server
def test_a_child_running_before_the_start_counts_only_from_the_start():
    early = _child(0.4, after="print('spun', flush=True)\ntime.sleep(60)", stdout=subprocess.PIPE)
    try:
        assert early.stdout.readline().strip() == b"spun"  # its 0.4 s are spent before the clock starts
        clock = CpuClock()
        time.sleep(0.2)
        assert clock.read().parse_workers < 0.1
    finally:
        early.kill()
        early.wait()


@pytest.fixture
def graph_server(tmp_path: Path):
    """A real embedded FalkorDB server and its pid."""
    data_dir = tmp_path / "graph-data"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="test"))
    yield backend, server_status(data_dir).pid
    backend.close()
    stop_server(data_dir)


@pytest.mark.integration  # child processes / a real graph server
def test_the_graph_server_counts_by_pid_and_a_restarted_one_from_its_start(graph_server):
    backend, pid = graph_server
    clock = CpuClock(pid)
    rows = [{"key": f"s.t{i}", "name": f"t{i}"} for i in range(20000)]
    backend.write("UNWIND $rows AS r MERGE (t:Table {key: r.key}) SET t.name = r.name", {"rows": rows})
    cpu = clock.read(pid)
    assert cpu.graph_server > 0.01
    assert cpu.graph_server < cpu.total  # the client's encoding is this process's
    assert clock.read(None).graph_server == 0.0  # no server at the end: nothing, never a stale difference
    # a server other than the one at the start (restarted) counts whole, not as a difference of two processes
    restarted = CpuClock(None).read(pid).graph_server
    assert restarted >= cpu.graph_server


def test_seconds_round_to_milliseconds_and_cores_are_at_least_one():
    cpu = CpuSeconds(pass_process=0.12345, parse_workers=1.0, graph_server=0.5)
    assert cpu.as_dict() == {"pass_process": 0.123, "parse_workers": 1.0, "graph_server": 0.5}
    assert cpu.total == pytest.approx(1.62345)
    assert usable_cores() >= 1
