"""Spec of pipeline.parse_pool: real worker processes, forked or spawned; crashes and hangs cost one file;
bounded work in flight; the start method follows the process's threads; nothing is left behind."""

import gc
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from benchmarks.generate import DOMAIN_DIALECTS, generate_corpus
from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.pipeline import parse_pool, parse_worker
from lineage_pipeline.pipeline.parse_pool import (
    FileTask,
    ForkedProcess,
    ParsePool,
    PoolKeeper,
    guided_chunk_size,
    resolve_start_method,
)
from lineage_pipeline.stores.parse_cache import CacheKey, ParseCache, decode, encode

pytestmark = pytest.mark.integration  # real worker processes

SMALL = "INSERT INTO dw.t{n} (a, b) SELECT x, y + {n} FROM stg.s{n};\n"


def _slow_sql(statements: int = 15_000) -> str:
    """A real file the parser needs seconds for (many statements), to stand in for a hang."""
    return "".join(
        f"INSERT INTO dw.t{i % 7} (a, b) SELECT x + {i}, y FROM stg.s{i % 5} WHERE z > {i};\n" for i in range(statements)
    )


def _corpus(root: Path, small: int = 6, slow_at: int | None = None) -> list[FileTask]:
    tasks = []
    for n in range(small):
        if n == slow_at:
            (root / "slow.sql").write_text(_slow_sql())
            tasks.append(FileTask("slow.sql", "tsql"))
        (root / f"f{n}.sql").write_text(SMALL.format(n=n))
        tasks.append(FileTask(f"f{n}.sql", "tsql"))
    return tasks


def _by_path(results):
    return {r.task.path: decode(r.encoded.payload, r.task.path) for r in results}


@pytest.fixture(params=["fork", "spawn"])
def start_method(request) -> str:
    """Each pool guarantee is checked for both ways of starting a worker (an explicit "fork" forks even
    if an earlier test left a thread behind in this process)."""
    return request.param


def _gone(pid: int) -> bool:
    """No process, not even a zombie, has ``pid`` (a reaped child's pid is free)."""
    return not psutil.pid_exists(pid)


def test_results_equal_in_process_parse(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=20)
    tasks.append(FileTask("../outside.sql", "tsql"))
    with ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=3, start_method=start_method) as pool:
        results = _by_path(pool.parse(tasks))
        assert pool.worker_start_methods() == [start_method] * 2
    assert set(results) == {t.path for t in tasks}
    for n in range(20):
        expected = parse_file_bytes((tmp_path / f"f{n}.sql").read_bytes(), "tsql", f"f{n}.sql")
        assert results[f"f{n}.sql"] == expected
    assert "cannot read file" in results["../outside.sql"].errors[0].message


def test_a_file_that_hangs_the_parser_is_reported_and_the_rest_parsed(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=6, slow_at=2)
    with ParsePool(tmp_path, 10_000_000, workers=1, chunk_size=4, file_timeout_s=0.5, start_method=start_method) as pool:
        results = _by_path(pool.parse(tasks))
    assert set(results) == {t.path for t in tasks}
    (issue,) = results["slow.sql"].errors
    # the per-file limit is CPU time, enforced in the worker (f9370da)
    assert "more than 0.5 s of CPU time" in issue.message and results["slow.sql"].statements == []
    assert all(not results[f"f{n}.sql"].errors and results[f"f{n}.sql"].statements for n in range(6))
    assert pool.stats.timeouts == 1 and pool.stats.crashes == 0
    assert (pool.stats.forked if start_method == "fork" else pool.stats.spawned) == 2  # the first, its replacement


def test_a_worker_killed_mid_parse_costs_that_file_only(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=6, slow_at=3)  # f0 f1 f2 slow f3 f4 f5, one file per chunk, one worker
    results = []
    killed = None
    with ParsePool(tmp_path, 10_000_000, workers=1, chunk_size=1, start_method=start_method) as pool:
        for result in pool.parse(tasks):
            results.append(result)
            if result.task.path == "f2.sql":
                time.sleep(0.3)  # the worker is now well into slow.sql, which takes seconds
                (killed,) = pool.worker_pids()
                os.kill(killed, signal.SIGKILL)
        assert killed not in pool.worker_pids()
        assert _gone(killed)  # reaped, not a zombie
    by_path = _by_path(results)
    assert set(by_path) == {t.path for t in tasks}
    (issue,) = by_path["slow.sql"].errors
    assert "worker process died" in issue.message and f"exit code -{signal.SIGKILL}" in issue.message
    assert all(not by_path[f"f{n}.sql"].errors and by_path[f"f{n}.sql"].statements for n in range(6))
    assert pool.stats.crashes == 1


def test_chunks_shrink_towards_the_end_of_a_list():
    assert [guided_chunk_size(left, 16, 2) for left in (1000, 64, 63, 20, 9, 4, 1)] == [16, 16, 16, 5, 3, 1, 1]
    assert guided_chunk_size(10, 16, 4) == 2 and guided_chunk_size(0, 16, 2) == 1


def test_a_short_list_is_shared_by_the_workers_not_queued_behind_one_slow_file(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=5, slow_at=0)  # slow.sql first, then five small files
    with ParsePool(tmp_path, 10_000_000, workers=2, chunk_size=16, start_method=start_method) as pool:
        order = [r.task.path for r in pool.parse(tasks)]
    assert sorted(order) == sorted(t.path for t in tasks)
    assert order.index("slow.sql") >= 3, "the other worker parsed small files meanwhile, not one 16-file chunk"


def test_tasks_are_pulled_lazily_so_work_in_flight_stays_bounded(tmp_path, start_method):
    (tmp_path / "a.sql").write_text(SMALL.format(n=1))
    pulled = 0
    pulled_at_first_result = None

    def tasks():
        nonlocal pulled
        for _ in range(2000):
            pulled += 1
            yield FileTask("a.sql", "tsql")

    with ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=5, start_method=start_method) as pool:
        count = 0
        for _ in pool.parse(tasks()):
            if pulled_at_first_result is None:
                pulled_at_first_result = pulled
            count += 1
    assert count == 2000
    # two workers x two chunks of five, plus the chunk being assembled
    assert pulled_at_first_result <= 2 * 2 * 5 + 5


def test_a_reusable_pool_is_kept_for_the_same_arguments_and_closed_otherwise(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=3)
    keeper = PoolKeeper()
    with keeper.pool(tmp_path, 1_000_000, 1, 4, 60.0, start_method) as pool:
        assert len(list(pool.parse(tasks))) == 3
        pids = pool.worker_pids()
    with keeper.pool(tmp_path, 1_000_000, 1, 4, 60.0, start_method) as again:
        assert again is pool and again.worker_pids() == pids  # no new start-up for the next domain
        assert len(list(again.parse(tasks))) == 3
    with keeper.pool(tmp_path, 1_000_000, 2, 4, 60.0, start_method) as other:
        assert other is not pool and pool.worker_pids() == []  # replaced: the old workers are stopped
        assert all(_gone(pid) for pid in pids)
    try:
        with keeper.pool(tmp_path, 1_000_000, 2, 4, 60.0, start_method) as failing:
            assert failing is other
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert other.worker_pids() == []
    with keeper.pool(tmp_path, 1_000_000, 2, 4, 60.0, start_method) as fresh:
        assert fresh is not other
        assert len(list(fresh.parse(tasks))) == 3
        fresh_pids = fresh.worker_pids()
    keeper.close()  # its owner closes it (a resource's teardown, the end of a command)
    assert fresh.worker_pids() == [] and all(_gone(pid) for pid in fresh_pids)


def test_a_pool_opened_while_the_kept_one_is_in_use_is_a_pool_of_its_own(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=2)
    with PoolKeeper() as keeper:
        with keeper.pool(tmp_path, 1_000_000, 1, 4, 60.0, start_method) as outer:
            with keeper.pool(tmp_path, 1_000_000, 1, 4, 60.0, start_method) as inner:
                assert inner is not outer
                assert len(list(inner.parse(tasks))) == 2
                inner_pids = inner.worker_pids()
            assert len(list(outer.parse(tasks))) == 2
            outer_pids = outer.worker_pids()
        # one pool is kept, the other stopped: none is left running once the keeper is closed
    assert all(_gone(pid) for pid in inner_pids + outer_pids)


def _generated_tasks(root: Path, files: int) -> list[FileTask]:
    generate_corpus(root, files, seed=0)
    return [
        FileTask(p.relative_to(root).as_posix(), DOMAIN_DIALECTS[p.relative_to(root).parts[0]])
        for p in sorted(root.rglob("*.sql"))
    ]


_PARSE_BOTH_WAYS = """
import json, sys
from pathlib import Path
from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool
root, tasks = Path(sys.argv[1]), [FileTask(path, dialect) for path, dialect in json.load(sys.stdin)]
out = {}
for method in ("fork", "spawn"):
    with ParsePool(root, 1_000_000, workers=2, chunk_size=3, start_method=method) as pool:
        out[method] = {r.task.path: r.encoded.payload.hex() for r in pool.parse(tasks)}
        assert pool.worker_start_methods() == [method] * 2, pool.worker_start_methods()
print(json.dumps(out))
"""


def test_forked_and_spawned_workers_give_identical_results(tmp_path):
    # sqlglot words some syntax errors by set order, so both ways run under one hash seed: the forked
    # workers inherit the parent's, the spawned ones the environment's
    tasks = _generated_tasks(tmp_path / "corpus", 40)
    assert {t.dialect for t in tasks} == set(DOMAIN_DIALECTS.values())
    run = subprocess.run(
        [sys.executable, "-c", _PARSE_BOTH_WAYS, str(tmp_path / "corpus")],
        input=json.dumps([(t.path, t.dialect) for t in tasks]), capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
    )
    both = {
        method: {path: decode(bytes.fromhex(payload), path) for path, payload in results.items()}
        for method, results in json.loads(run.stdout).items()
    }
    assert set(both["fork"]) == {t.path for t in tasks}
    assert both["fork"] == both["spawn"]
    assert sum(len(lineage.statements) for lineage in both["fork"].values()) > 40
    assert any(lineage.errors for lineage in both["fork"].values())  # the generator's broken statements


_AUTO_FOLLOWS_THREADS = """
import json, sys, threading, time
from pathlib import Path
from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool, resolve_start_method, thread_count

tasks = [FileTask(path, "tsql") for path in json.loads(sys.argv[2])]
def methods():
    with ParsePool(Path(sys.argv[1]), 1_000_000, workers=1) as pool:  # start_method "auto"
        assert len(list(pool.parse(tasks))) == len(tasks)
        return pool.worker_start_methods()
seen = {"alone": (thread_count(), methods())}
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
seen["with a thread"] = (thread_count(), methods())
stop.set()
other.join()
while thread_count() > 1:  # the OS thread outlives join() briefly
    time.sleep(0.01)
seen["alone again"] = (thread_count(), methods())
print(json.dumps(seen))
"""


def test_auto_forks_when_single_threaded_and_spawns_while_another_thread_runs(tmp_path):
    # in a process of its own: this test process may hold threads earlier tests left behind
    tasks = _corpus(tmp_path, small=3)
    run = subprocess.run(
        [sys.executable, "-c", _AUTO_FOLLOWS_THREADS, str(tmp_path), json.dumps([t.path for t in tasks])],
        capture_output=True, text=True, timeout=300, check=True,
    )
    assert json.loads(run.stdout) == {
        "alone": [1, ["fork"]], "with a thread": [2, ["spawn"]], "alone again": [1, ["fork"]],
    }


def test_an_explicit_fork_is_obeyed_with_a_warning_while_another_thread_runs(tmp_path):
    tasks = _corpus(tmp_path, small=3)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert resolve_start_method("auto") == "spawn"
        with ParsePool(tmp_path, 1_000_000, workers=1, start_method="fork") as pool:
            with pytest.warns(RuntimeWarning, match=r"start_method='fork' in a process running \d+ threads"):
                assert len(list(pool.parse(tasks))) == 3
            assert pool.worker_start_methods() == ["fork"]
    finally:
        stop.set()
        other.join()


def test_auto_spawns_where_the_os_does_not_count_threads(monkeypatch):
    # no /proc (macOS): threads started by C libraries would go unseen, so auto does not fork
    monkeypatch.setattr(parse_pool, "thread_count", lambda: None)
    assert resolve_start_method("auto") == "spawn"
    assert resolve_start_method("fork") == "fork"  # asked for explicitly: obeyed


def test_an_unknown_start_method_is_refused(tmp_path):
    with pytest.raises(ValueError, match="start_method must be one of auto, fork, spawn; got 'forkserver'"):
        ParsePool(tmp_path, 1_000_000, start_method="forkserver")
    with pytest.raises(ValueError, match="forkserver"):
        resolve_start_method("forkserver")


def test_a_spawned_worker_dying_at_start_up_is_replaced_and_no_file_is_blamed(tmp_path, monkeypatch):
    # ``python -m`` puts the working directory first on sys.path: this package shadows the real one for
    # the first two worker interpreters, which exit before READY, then hands over to the real package
    shadow = tmp_path / "cwd" / "lineage_pipeline"
    shadow.mkdir(parents=True)
    real = Path(parse_worker.__file__).parents[1]
    (shadow / "__init__.py").write_text(
        "import os, pathlib\n"
        "_deaths = pathlib.Path(__file__).parents[1] / 'deaths'\n"
        "_n = len(_deaths.read_text()) if _deaths.exists() else 0\n"
        "if _n < 2:\n"
        "    _deaths.write_text('x' * (_n + 1))\n"
        "    os._exit(3)\n"
        f"__path__[:] = [{str(real)!r}]\n"
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tasks = _corpus(corpus, small=4)
    monkeypatch.chdir(tmp_path / "cwd")
    with ParsePool(corpus, 1_000_000, workers=1, chunk_size=2, start_method="spawn") as pool:
        results = _by_path(pool.parse(tasks))
        pids = pool.worker_pids()
    assert (tmp_path / "cwd" / "deaths").read_text() == "xx"
    assert set(results) == {t.path for t in tasks}
    assert all(not r.errors and r.statements for r in results.values())
    assert pool.stats.spawned == 3 and pool.stats.crashes == 0
    assert all(_gone(pid) for pid in pids)


def test_a_forked_worker_failing_at_start_up_is_replaced_and_reports_why(tmp_path, monkeypatch, capfd):
    # a fault injected into the forked child (it runs the parent's parse_worker.serve): the first two
    # children raise before READY; the real start-up death is the spawned test above
    served = parse_worker.serve
    deaths = tmp_path / "deaths"

    def serve_after_two_failures(conn, root, max_file_bytes, warm=(), cpu_limit_s=None):
        count = len(deaths.read_text()) if deaths.exists() else 0
        if count < 2:
            deaths.write_text("x" * (count + 1))
            raise RuntimeError("no parsing today")
        served(conn, root, max_file_bytes, warm, cpu_limit_s)

    monkeypatch.setattr(parse_worker, "serve", serve_after_two_failures)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tasks = _corpus(corpus, small=4)
    with ParsePool(corpus, 1_000_000, workers=1, chunk_size=2, start_method="fork") as pool:
        results = _by_path(pool.parse(tasks))
    assert all(not r.errors and r.statements for r in results.values()) and len(results) == 4
    assert pool.stats.forked == 3 and pool.stats.crashes == 0
    err = capfd.readouterr().err
    assert err.count("RuntimeError: no parsing today") == 2 and "parse worker" in err


def test_forked_workers_exit_cleanly_and_leave_no_process_behind(tmp_path):
    tasks = _corpus(tmp_path, small=6)
    pool = ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=2, start_method="fork")
    assert len(list(pool.parse(tasks))) == 6
    processes = [w.process for w in pool._workers]
    assert all(isinstance(p, ForkedProcess) and p.poll() is None for p in processes)
    children = {c.pid for c in psutil.Process().children()}
    assert {p.pid for p in processes} <= children
    pool.close()
    assert [p.returncode for p in processes] == [0, 0]  # stopped by the pool's request, exit code 0
    assert all(_gone(p.pid) for p in processes)
    assert not {p.pid for p in processes} & {c.pid for c in psutil.Process().children(recursive=True)}


def test_forked_process_handle_waits_kills_and_reaps(tmp_path):
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    assert ForkedProcess(pid).wait(10) == 7 and _gone(pid)
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    hung = ForkedProcess(pid)
    with pytest.raises(Exception, match="timed out"):
        hung.wait(0.05)
    assert hung.poll() is None
    hung.kill()
    assert hung.wait(10) == -signal.SIGKILL and _gone(pid)
    hung.kill()  # already reaped: a no-op, never a signal to a recycled pid


def test_the_parents_sqlite_connections_work_after_forked_workers_exit(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tasks = _corpus(corpus, small=8)
    cache = ParseCache(tmp_path / "cache.sqlite", max_entries=10_000, ttl_seconds=86400.0)
    before = parse_file_bytes(SMALL.format(n=99).encode(), "tsql", "before.sql")
    cache.put_many([("0" * 64, "tsql", before)])
    own = sqlite3.connect(tmp_path / "own.sqlite")  # a connection the parent holds open across the forks
    own.execute("PRAGMA journal_mode=WAL")
    own.execute("CREATE TABLE t (n INTEGER)")
    own.execute("INSERT INTO t VALUES (1)")
    own.commit()
    with ParsePool(corpus, 10_000_000, workers=2, chunk_size=2, start_method="fork") as pool:
        results = list(pool.parse(tasks))
        os.kill(pool.worker_pids()[0], signal.SIGKILL)  # one child dies abruptly, the other is stopped
        pids = pool.worker_pids()
    assert all(_gone(pid) for pid in pids)
    own.execute("INSERT INTO t VALUES (2)")
    own.commit()
    assert own.execute("SELECT n FROM t ORDER BY n").fetchall() == [(1,), (2,)]
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    own.close()
    with sqlite3.connect(tmp_path / "own.sqlite") as again:
        assert again.execute("SELECT count(*) FROM t").fetchone() == (2,)
    cache.put_encoded([(CacheKey(f"{n + 1:064x}", "tsql"), r.encoded) for n, r in enumerate(results)])
    assert cache.get("0" * 64, "tsql", "before.sql") == decode(encode(before).payload, "before.sql")
    for n, result in enumerate(results):
        assert cache.get(f"{n + 1:064x}", "tsql", result.task.path) == decode(result.encoded.payload, result.task.path)
    assert ParseCache(tmp_path / "cache.sqlite", max_entries=10_000, ttl_seconds=86400.0).verify_integrity().problem is None



@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_forked_worker_dies_of_a_signal_the_parent_handles(tmp_path, signum):
    # the parent's handler only takes note; a child still running it would shrug the signal off and
    # finish the slow file, and SIGINT's default Python handler would end it with a traceback instead
    noted = []
    previous = signal.signal(signum, lambda *_: noted.append(signum))
    try:
        tasks = _corpus(tmp_path, small=3, slow_at=1)  # f0 slow f1 f2, one file per chunk
        results = []
        with ParsePool(tmp_path, 10_000_000, workers=1, chunk_size=1, start_method="fork") as pool:
            for result in pool.parse(tasks):
                results.append(result)
                if result.task.path == "f0.sql":
                    time.sleep(0.3)
                    os.kill(pool.worker_pids()[0], signum)
    finally:
        signal.signal(signum, previous)
    by_path = _by_path(results)
    (issue,) = by_path["slow.sql"].errors
    assert f"exit code -{int(signum)}" in issue.message
    assert all(not by_path[f"f{n}.sql"].errors for n in range(3)) and noted == []


class _Finalised:
    """Garbage in a reference cycle that writes the pid of the process finalising it."""

    def __init__(self, log: Path):
        self.log, self.cycle = log, self

    def __del__(self):
        with open(self.log, "a") as out:
            out.write(f"{os.getpid()}\n")


def test_a_forked_workers_garbage_collection_never_finalises_the_parents_objects(tmp_path, monkeypatch):
    # the child runs a full collection before serving (parsing may trigger one at any time); the parent's
    # uncollected garbage must still be finalised once, by the parent
    served = parse_worker.serve

    def collect_then_serve(conn, root, max_file_bytes, warm=(), cpu_limit_s=None):
        gc.collect()
        served(conn, root, max_file_bytes, warm, cpu_limit_s)

    monkeypatch.setattr(parse_worker, "serve", collect_then_serve)
    log = tmp_path / "finalised.log"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tasks = _corpus(corpus, small=2)
    gc.disable()
    try:
        _Finalised(log)  # unreachable at once, freed only by a collection
        with ParsePool(corpus, 1_000_000, workers=2, start_method="fork") as pool:
            assert len(list(pool.parse(tasks))) == 2
    finally:
        gc.enable()
    assert not log.exists()
    gc.collect()
    assert log.read_text() == f"{os.getpid()}\n"


def test_workers_started_early_are_warmed_up_then_used_and_reported_by_the_next_parse(tmp_path, start_method):
    tasks = _corpus(tmp_path, small=4)
    with ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=2, start_method=start_method) as pool:
        pool.start(["tsql", "snowflake", "no-such-dialect"])  # a dialect that fails to warm up is skipped
        early = pool.worker_pids()
        assert len(early) == 2 and not any(_gone(pid) for pid in early)
        results = _by_path(pool.parse(tasks))
        assert pool.worker_pids() == early, "the parse used the workers started early"
        method_count = pool.stats.forked if start_method == "fork" else pool.stats.spawned
        assert method_count == 2, "started by start(), reported by the parse that used them"
        list(pool.parse(tasks[:1]))
        assert (pool.stats.forked, pool.stats.spawned) == (0, 0), "reported once"
    assert len(results) == 4 and all(r.statements and not r.errors for r in results.values())
