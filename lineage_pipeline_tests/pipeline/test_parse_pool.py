"""Spec of pipeline.parse_pool: real worker processes; crashes and hangs cost one file; bounded work in flight."""

import os
import signal
import time
from pathlib import Path

import psutil

from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool, reusable_pool
from lineage_pipeline.stores.parse_cache import decode

SMALL = "INSERT INTO dw.t{n} (a, b) SELECT x, y + {n} FROM stg.s{n};\n"


def _slow_sql(statements: int = 15_000) -> str:
    """A real file the parser needs seconds for (many statements), to stand in for a hang."""
    return "".join(f"INSERT INTO dw.t{i % 7} (a, b) SELECT x + {i}, y FROM stg.s{i % 5} WHERE z > {i};\n" for i in range(statements))


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


def test_results_equal_in_process_parse(tmp_path):
    tasks = _corpus(tmp_path, small=20)
    tasks.append(FileTask("../outside.sql", "tsql"))
    with ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=3) as pool:
        results = _by_path(pool.parse(tasks))
    assert set(results) == {t.path for t in tasks}
    for n in range(20):
        expected = parse_file_bytes((tmp_path / f"f{n}.sql").read_bytes(), "tsql", f"f{n}.sql")
        assert results[f"f{n}.sql"] == expected
    assert "cannot read file" in results["../outside.sql"].errors[0].message


def test_a_file_that_hangs_the_parser_is_reported_and_the_rest_parsed(tmp_path):
    tasks = _corpus(tmp_path, small=6, slow_at=2)
    with ParsePool(tmp_path, 10_000_000, workers=1, chunk_size=4, file_timeout_s=0.5) as pool:
        results = _by_path(pool.parse(tasks))
    assert set(results) == {t.path for t in tasks}
    (issue,) = results["slow.sql"].errors
    assert "longer than 0.5 s" in issue.message and results["slow.sql"].statements == []
    assert all(not results[f"f{n}.sql"].errors and results[f"f{n}.sql"].statements for n in range(6))
    assert pool.stats.timeouts == 1 and pool.stats.crashes == 0


def test_a_worker_killed_mid_parse_costs_that_file_only(tmp_path):
    tasks = _corpus(tmp_path, small=6, slow_at=3)  # f0 f1 f2 slow f3 f4 f5, one file per chunk, one worker
    results = []
    killed = None
    with ParsePool(tmp_path, 10_000_000, workers=1, chunk_size=1) as pool:
        for result in pool.parse(tasks):
            results.append(result)
            if result.task.path == "f2.sql":
                time.sleep(0.3)  # the worker is now well into slow.sql, which takes seconds
                (killed,) = pool.worker_pids()
                os.kill(killed, signal.SIGKILL)
        assert killed not in pool.worker_pids()
    by_path = _by_path(results)
    assert set(by_path) == {t.path for t in tasks}
    (issue,) = by_path["slow.sql"].errors
    assert "worker process died" in issue.message and f"exit code -{signal.SIGKILL}" in issue.message
    assert all(not by_path[f"f{n}.sql"].errors and by_path[f"f{n}.sql"].statements for n in range(6))
    assert pool.stats.crashes == 1


def test_tasks_are_pulled_lazily_so_work_in_flight_stays_bounded(tmp_path):
    (tmp_path / "a.sql").write_text(SMALL.format(n=1))
    pulled = 0
    pulled_at_first_result = None

    def tasks():
        nonlocal pulled
        for _ in range(2000):
            pulled += 1
            yield FileTask("a.sql", "tsql")

    with ParsePool(tmp_path, 1_000_000, workers=2, chunk_size=5) as pool:
        count = 0
        for _ in pool.parse(tasks()):
            if pulled_at_first_result is None:
                pulled_at_first_result = pulled
            count += 1
    assert count == 2000
    # two workers x two chunks of five, plus the chunk being assembled
    assert pulled_at_first_result <= 2 * 2 * 5 + 5


def test_a_reusable_pool_is_kept_for_the_same_arguments_and_closed_otherwise(tmp_path):
    tasks = _corpus(tmp_path, small=3)
    with reusable_pool(tmp_path, 1_000_000, 1, 4, 60.0) as pool:
        assert len(list(pool.parse(tasks))) == 3
        pids = pool.worker_pids()
    with reusable_pool(tmp_path, 1_000_000, 1, 4, 60.0) as again:
        assert again is pool and again.worker_pids() == pids  # no new start-up for the next domain
        assert len(list(again.parse(tasks))) == 3
    with reusable_pool(tmp_path, 1_000_000, 2, 4, 60.0) as other:
        assert other is not pool and pool.worker_pids() == []  # replaced: the old workers are stopped
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)
    try:
        with reusable_pool(tmp_path, 1_000_000, 2, 4, 60.0) as failing:
            assert failing is other
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert other.worker_pids() == []
    with reusable_pool(tmp_path, 1_000_000, 2, 4, 60.0) as fresh:
        assert fresh is not other
