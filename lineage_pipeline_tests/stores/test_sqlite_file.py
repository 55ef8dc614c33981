"""Specification of ``stores.sqlite_file``: a full check is skipped only for a state a process vouched for."""

import sqlite3
from pathlib import Path

import pytest

from lineage_pipeline.stores.sqlite_file import SqliteFile
from lineage_pipeline_tests.small_fs import fill, mounted_tmpfs

_SCHEMA = "CREATE TABLE IF NOT EXISTS items (k TEXT PRIMARY KEY, v BLOB NOT NULL);"


def _file(path: Path) -> SqliteFile:
    store = SqliteFile(path, label="test store", app_id="test", schema_version="1", schema=_SCHEMA)
    store.ensure()
    return store


class _CountingCheck:
    """The file's real full check, counting how often it ran."""

    def __init__(self, store: SqliteFile):
        self.store, self.runs = store, 0

    def __call__(self) -> str | None:
        self.runs += 1
        return self.store.problem()


def _write(store: SqliteFile, rows: int, start: int = 0) -> None:
    with store.transaction() as db:
        db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?)", [(f"k{i}", b"x" * 200) for i in range(start, start + rows)])


def _checked(path: Path) -> SqliteFile:
    """A file as a run finds it after its own full check (the check passing)."""
    store = _file(path)
    assert store.repair(store.problem).problem is None
    return store


def _full_checks_of_the_next_run(path: Path) -> int:
    """How many full checks a new process's ``repair`` of ``path`` runs (0: it trusted the stamp)."""
    later = _file(path)
    check = _CountingCheck(later)
    later.repair(check)
    return check.runs


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


def test_a_file_changed_only_by_the_process_that_checked_it_and_closed_is_not_checked_again(path):
    first = _file(path)
    check = _CountingCheck(first)
    assert first.repair(check).problem is None and check.runs == 1
    _write(first, 500)
    first.repair(check)  # the same process, after its own writes
    assert check.runs == 1
    first.close()

    later = _file(path)
    later_check = _CountingCheck(later)
    assert later.repair(later_check).problem is None
    assert later_check.runs == 0
    assert later.db().execute("SELECT count(*) FROM items").fetchone() == (500,)


def test_another_connection_closing_last_leaves_the_stamp_valid(path):
    first = _checked(path)
    _write(first, 50)
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM items").fetchall() == [(50,)]  # read to the end: no open snapshot
    first.close()
    reader.close()  # the last connection: with an empty WAL it changes nothing
    assert _full_checks_of_the_next_run(path) == 0


def test_a_write_by_anyone_else_makes_the_next_repair_check_every_page(path):
    first = _checked(path)
    _write(first, 10)
    with sqlite3.connect(path) as foreign:
        foreign.execute("INSERT INTO items VALUES ('foreign', x'00')")
    _write(first, 10, start=10)  # its own write after the foreign one does not re-establish trust
    first.close()
    assert _full_checks_of_the_next_run(path) == 1


def test_a_process_that_never_closed_the_file_leaves_it_to_be_checked(path):
    _write(_checked(path), 10)  # then killed: no close
    assert _full_checks_of_the_next_run(path) == 1


def test_damage_after_the_stamp_is_found_and_the_file_rebuilt(path):
    first = _checked(path)
    _write(first, 2000)
    first.close()
    size = path.stat().st_size
    with open(path, "r+b") as handle:  # same size, pages in the middle overwritten
        handle.seek(size // 2)
        handle.write(b"\xff" * 8192)
    assert path.stat().st_size == size
    later = _file(path)
    report = later.repair(later.problem)
    assert report.problem is not None and report.moved_to is not None and report.moved_to.exists()
    assert later.db().execute("SELECT count(*) FROM items").fetchone() == (0,)
    again = _CountingCheck(later)
    later.repair(again)  # the rebuilt file is vouched for
    assert again.runs == 0


def test_an_unreadable_or_missing_stamp_vouches_for_nothing(path):
    first = _checked(path)
    first.close()
    first.stamp_path.write_text("not json")
    assert _full_checks_of_the_next_run(path) == 1
    first.stamp_path.unlink()
    assert _full_checks_of_the_next_run(path) == 1


def test_full_always_checks(path):
    _checked(path).close()
    later = _file(path)
    check = _CountingCheck(later)
    later.repair(check, full=True)
    assert check.runs == 1


def test_a_vouched_for_file_of_an_older_layout_is_moved_aside_without_a_full_check(path):
    """Newer code (another schema version) opening a file an older version checked and stamped: the
    stamp vouches for its pages, not for its layout."""
    old = _checked(path)
    _write(old, 50)
    old.close()
    newer = SqliteFile(path, label="test store", app_id="test", schema_version="2", schema=_SCHEMA)
    newer.ensure()
    check = _CountingCheck(newer)
    report = newer.repair(check)
    assert check.runs == 0, "the pages are still vouched for"
    assert report.problem is not None and "old layout" in report.problem and report.moved_to is not None
    assert newer.db().execute("SELECT count(*) FROM items").fetchone() == (0,)
    assert newer.layout_problem(newer.db()) is None


@pytest.mark.integration
def test_a_full_disk_is_reported_naming_the_store_its_file_and_the_space_left(tmp_path):
    """On main the command's last line was ``Error: disk I/O error``: neither what nor where."""
    with mounted_tmpfs(tmp_path / "small-fs", 2) as mount_point:
        store = _file(mount_point / "store.sqlite")
        store.db().execute("SELECT count(*) FROM items").fetchone()  # open, its WAL made while there is room
        fill(mount_point)
        for rows in (20_000, 5):  # the larger spills SQLite's cache mid-write, and SQLite rolls back itself
            with pytest.raises(sqlite3.OperationalError) as failed:
                _write(store, rows)
            message = str(failed.value)
            assert message.startswith(f"test store {mount_point / 'store.sqlite'}: "), message
            assert "KB free on its filesystem" in message
        with pytest.raises(sqlite3.OperationalError, match=r"^test store .*new\.sqlite: .*KB free"):
            _file(mount_point / "new.sqlite")  # creating a store where there is no room
