"""End to end: the real Dagster daemon runs sql_corpus_sensor against a temp DAGSTER_HOME while the test
edits the corpus in bursts; the graph must end up equal to a clean ingest of the final corpus.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from lineage_pipeline.graph.connect import graph_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.sensors.corpus_sensor import read_sensor_cursor
from lineage_pipeline_tests.conftest import VENV_BIN
from lineage_pipeline_tests.graph.test_writer import snapshot

SETTLE_TIMEOUT_S = 420


def sql(domain: str, i: int, source: str = "src") -> str:
    return f"INSERT INTO {domain}.t{i} (a, b)\nSELECT x, y + 1 AS b FROM {source}.s{i};\n"


def write_burst(root: Path, domain: str, count: int, pause: float = 0.0) -> None:
    (root / domain).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / domain / f"load_{i:03}.sql").write_text(sql(domain, i))
        if pause:
            time.sleep(pause)


def graph_files(env) -> set[str]:
    with graph_backend(env.graph_config()) as backend:
        return {row[0] for row in backend.read("MATCH (f:SqlFile) RETURN f.path")}


def wait_for(condition, what: str, daemon: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not condition():
        assert daemon.poll() is None, f"daemon exited {daemon.returncode}:\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}; daemon log:\n{log.read_text()[-4000:]}"
        time.sleep(1)


def wait_until_settled(env, expected_files: set[str], daemon: subprocess.Popen, log: Path) -> None:
    """Poll until no run is in flight, the sensor has nothing pending and the graph holds the final files."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        assert daemon.poll() is None, f"daemon exited {daemon.returncode}:\n{log.read_text()[-4000:]}"
        with DagsterInstance.from_config(str(env.dagster_home)) as instance:
            in_flight = instance.get_runs_count(
                RunsFilter(statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED,
                                     DagsterRunStatus.STARTING, DagsterRunStatus.STARTED])
            )
            cursor = read_sensor_cursor(instance)
        quiet = cursor is not None and not cursor.pending and not cursor.retiring and in_flight == 0
        if quiet and graph_files(env) == expected_files:
            return
        time.sleep(2)
    raise AssertionError(f"not settled in {SETTLE_TIMEOUT_S}s; cursor {cursor}; daemon log:\n{log.read_text()[-4000:]}")


def stop_session(process: subprocess.Popen) -> None:
    """Stop the daemon and everything it started (its code server, run workers): the whole session."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    stragglers = session_processes(process.pid)
    for proc in stragglers:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(stragglers, timeout=15)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def session_processes(session: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == session and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def test_daemon_follows_bursts_of_edits_with_a_handful_of_runs(project_env):
    corpus = project_env.corpus
    shutil.rmtree(corpus)
    corpus.mkdir()
    env = {
        **project_env.env,
        "LINEAGE_DEBOUNCE_WINDOW_SECONDS": "3",
        "LINEAGE_BATCH_SIZE_THRESHOLD": "50",
        "LINEAGE_SENSOR_INTERVAL_SECONDS": "1",
        "LINEAGE_MAX_IN_FLIGHT_RUNS": "4",
    }
    project_env.env = env
    project_env.run("dagster", "sensor", "start", "sql_corpus_sensor", "-m", "lineage_pipeline.definitions")
    log = project_env.root / "daemon.log"
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [str(VENV_BIN / "dagster-daemon"), "run", "-m", "lineage_pipeline.definitions"],
            env=env, cwd=project_env.root, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        write_burst(corpus, "sales", 50, pause=0.01)
        write_burst(corpus, "risk", 40, pause=0.02)
        time.sleep(6)
        write_burst(corpus, "ops", 30, pause=0.05)
        ops = {f"ops/load_{i:03}.sql" for i in range(30)}
        wait_for(lambda: ops <= graph_files(project_env), "the ops burst to reach the graph", daemon, log)
        for i in range(0, 20, 2):  # edits, saved three times each inside the window
            for _ in range(3):
                (corpus / "sales" / f"load_{i:03}.sql").write_text(sql("sales", i, source=f"edited{_}"))
        for i in range(30, 40):
            (corpus / "risk" / f"load_{i:03}.sql").unlink()
        flushed = project_env.run("lineage", "flush", "--wait", "60")
        assert "flush request #1 recorded" in flushed.stdout and "served:" in flushed.stdout, flushed.stdout
        time.sleep(6)
        shutil.rmtree(corpus / "ops")
        expected = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.sql")}
        assert len(expected) == 80
        wait_until_settled(project_env, expected, daemon, log)
    finally:
        stop_session(daemon)
    assert session_processes(daemon.pid) == [], "every process the daemon started is stopped"

    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        runs = instance.get_runs(RunsFilter(tags={"lineage/trigger": "sensor"}))
        partitions = sorted(instance.get_dynamic_partitions("corpus_domain"))
    statuses = [
        (r.tags["dagster/partition"], r.tags["lineage/flush"], r.tags["lineage/batch_size"], r.status.value) for r in runs
    ]
    assert all(status == "SUCCESS" for *_, status in statuses), statuses
    assert 4 <= len(runs) <= 15, statuses  # a handful of batches, not one run per file
    retired = [r for r in runs if r.tags["dagster/partition"] == "ops" and r.tags.get("lineage/retire") == "true"]
    assert len(retired) == 1, statuses
    assert partitions == ["risk", "sales"], "the deleted folder's partition is gone"

    with graph_backend(project_env.graph_config()) as backend:
        followed = snapshot(backend)
        backend.write("MATCH (n) DETACH DELETE n")
    project_env.run("lineage", "ingest")
    with graph_backend(project_env.graph_config()) as backend:
        clean = snapshot(backend)
    assert followed == clean
    assert ("FEEDS", "edited2.s0", "sales.t0", "sales/load_000.sql") in {r[:4] for r in followed[1]}
    assert not any(key.startswith("ops.") for _, key in followed[0])
    stop_server(project_env.data_dir)
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(project_env.root) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == [], leftovers
