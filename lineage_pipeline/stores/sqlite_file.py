"""What every SQLite file of the project shares: one connection per thread, write transactions, a
cross-process file lock, and the batching loop its queries use.

The parse cache, the parse results and the sensor state each hold a ``SqliteFile``; none opens
connections or takes locks its own way.
"""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_S = 60.0


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing), held for the block, across processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SqliteFile:
    """A SQLite database file in WAL mode used by several threads and processes at once.

    Each thread (and each forked child) gets its own autocommit connection, kept open: opening and
    closing one per call costs ~1 ms, and a connection may cross neither threads nor a fork.
    """

    def __init__(self, path: Path, *, synchronous: str = "NORMAL"):
        self.path = Path(path)
        self.synchronous = synchronous
        self._local = threading.local()

    def connect(self) -> sqlite3.Connection:
        """A new connection of its own (the caller closes it)."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.execute(f"PRAGMA synchronous={self.synchronous}")
        return db

    def db(self) -> sqlite3.Connection:
        """This thread's kept connection."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.db = self.connect()
            local.pid = os.getpid()
        return local.db

    def forget_connections(self) -> None:
        """Drop the kept connections (the file they point at was moved aside or replaced)."""
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread's connection, committed at the end of the block."""
        db = self.db()
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue on the busy timeout
        # instead of failing on a read-to-write lock upgrade
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Serialize layout checks and rebuilds across processes (the database itself may be unusable)."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            yield

    def move_aside(self, stamp: int) -> Path:
        """Move the database and its WAL files to ``<name>.corrupt-<stamp>``; returns the new path."""
        moved_to = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(self.path) + suffix)
            if part.exists():
                os.replace(part, Path(str(moved_to) + suffix))
        self.forget_connections()
        return moved_to
