"""What every SQLite file of the project shares: one connection per thread, write transactions, a
cross-process file lock, and the batching loop its queries use.

The parse cache, the parse results, the warehouse facts and the sensor state each hold a ``SqliteFile``;
none opens connections or takes locks its own way.

A full check reads every page, so a run does not repeat it on a file it can vouch for: one whose
signature (size, mtime, ctime and inode of the file and its WAL) is the one recorded when it was last
checked, or when a process that had checked it closed it with every change since made by itself
(``<name>.verified``). Any other writer, a damaged or replaced file, or a process killed before it
closed the file leaves the signature unvouched, and the next ``repair`` checks every page again.
"""

import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_S = 60.0

_DISK_ERRORS = ("disk I/O error", "database or disk is full", "unable to open database file")
"""SQLite's messages for a file it cannot write or open; they name no file."""

Signature = tuple[tuple[int, int, int, int], tuple[int, int, int] | None]
"""(size, mtime_ns, ctime_ns, inode) of the database file, (size, mtime_ns, inode) of its WAL (None: no
WAL or an empty one). ctime cannot be set from user space, so an edit that restores size and mtime still
shows; the WAL's is left out because SQLite re-owns the WAL when a connection opens it (ctime changes),
and its frames carry checksums of their own."""


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


@dataclass(frozen=True)
class IntegrityReport:
    """Outcome of a check of a SQLite file: ``problem`` is None when it was sound, else where it was moved."""

    path: Path
    problem: str | None = None
    moved_to: Path | None = None


class SqliteFile:
    """A SQLite database file in WAL mode used by several threads and processes at once.

    Each thread (and each forked child) gets its own autocommit connection, kept open: opening and
    closing one per call costs ~1 ms, and a connection may cross neither threads nor a fork. With a
    ``schema``, the file's ``meta`` table names the application and layout it was made by, so a foreign
    or older file is told apart from ours (``layout_problem``) and rebuilt (``repair``).
    """

    def __init__(
        self,
        path: Path,
        *,
        label: str = "database",
        app_id: str = "",
        schema_version: str = "",
        schema: str = "",
        synchronous: str = "NORMAL",
    ):
        self.path = Path(path)
        self.label = label
        self.app_id, self.schema_version, self.schema = app_id, schema_version, schema
        self.tables = {"meta", *re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema)}
        self.synchronous = synchronous
        self._local = threading.local()
        self._vouched: tuple[int, Signature] | None = None
        """(pid, signature) of the state this process checked and has changed only itself since."""

    def ensure(self) -> None:
        """Create the file with its layout if it does not exist or is empty. An existing file is only
        checked by ``repair``: writing our layout into a foreign database would make it look like ours."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.exclusive(), self.naming_itself():
            if not self.path.exists() or self.path.stat().st_size == 0:
                self.create()

    @contextmanager
    def naming_itself(self) -> Iterator[None]:
        """Re-raise SQLite's disk errors naming this file and the free space beside it (same class, so
        every handler still matches): "disk I/O error" alone says neither what nor where."""
        try:
            yield
        except sqlite3.OperationalError as error:
            if not str(error).startswith(_DISK_ERRORS):
                raise
            try:
                free = f"; {shutil.disk_usage(self.path.parent).free // 1024} KB free on its filesystem"
            except OSError:
                free = ""
            # from None: the message holds the original whole, and a report naming the innermost cause
            # (a failed run's line) must find this one
            raise sqlite3.OperationalError(f"{self.label} {self.path}: {error}{free}") from None

    def create(self) -> None:
        """WAL mode, the schema, and the ``meta`` rows naming application and layout."""
        with closing(self.connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(self.schema)
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?)", (self.app_id,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (self.schema_version,))

    def layout_problem(self, db: sqlite3.Connection) -> str | None:
        """Why the database behind ``db`` is not one of ours in the current layout, or None."""
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not self.tables <= tables:
            return f"not a {self.label} (tables: {', '.join(sorted(tables)) or 'none'})"
        meta = dict(db.execute("SELECT name, value FROM meta"))
        if meta.get("app") != self.app_id or meta.get("schema_version") != self.schema_version:
            return f"foreign or old layout (app={meta.get('app')!r}, schema_version={meta.get('schema_version')!r})"
        return None

    def _layout_now(self) -> str | None:
        try:
            with closing(self.connect()) as db:
                return self.layout_problem(db)
        except sqlite3.DatabaseError as error:
            return f"unreadable database: {error}"

    def problem(self) -> str | None:
        """Why the file is not usable (damaged pages, another layout), or None; reads every page once
        (``quick_check``: ``integrity_check`` also cross-checks each index, ~3x longer)."""
        try:
            with closing(self.connect()) as db:
                result = db.execute("PRAGMA quick_check").fetchall()
                if result != [("ok",)]:
                    return "integrity check failed: " + "; ".join(str(r[0]) for r in result[:3])
                return self.layout_problem(db)
        except sqlite3.DatabaseError as error:
            return f"unreadable database: {error}"

    def repair(self, problem: Callable[[], str | None], *, full: bool = False) -> IntegrityReport:
        """Run ``problem`` under the file lock, unless the file is in a state this or an earlier process
        vouched for (module doc) and ``full`` is not asked (then only its layout is checked: the code
        reading it may be newer than the code that vouched); a file it finds unusable is moved aside
        (``<name>.corrupt-<time>``) and rebuilt empty with a warning. Never raises for a bad file."""
        with self.exclusive():
            current = self.signature()
            if not full and current is not None and current in (self._vouched_signature(), self._stamped()):
                # a vouched-for file may still be of another layout: this code may be newer than its writer
                found = self._layout_now()
                if found is None:
                    self._vouch(current, stamp=False)
                    return IntegrityReport(self.path)
            else:
                found = problem()
                if found is None:
                    self._vouch(self.signature())
                    return IntegrityReport(self.path)
            moved_to = self.move_aside(int(time.time() * 1000))
            log.warning("%s %s is unusable (%s); moved to %s and rebuilt empty", self.label, self.path, found, moved_to)
            self.create()
            self._vouch(self.signature())
            return IntegrityReport(self.path, found, moved_to)

    # -- vouching (module doc) ------------------------------------------------------------------

    def signature(self) -> Signature | None:
        """The file's and its WAL's stat signature; None if the file is missing."""
        try:
            main = os.stat(self.path)
        except FileNotFoundError:
            return None
        try:
            wal = os.stat(f"{self.path}-wal")
            wal_sig = (wal.st_size, wal.st_mtime_ns, wal.st_ino) if wal.st_size else None
        except FileNotFoundError:
            wal_sig = None
        return (main.st_size, main.st_mtime_ns, main.st_ctime_ns, main.st_ino), wal_sig

    @property
    def stamp_path(self) -> Path:
        return self.path.with_name(self.path.name + ".verified")

    def _vouched_signature(self) -> Signature | None:
        vouched = self._vouched
        return vouched[1] if vouched is not None and vouched[0] == os.getpid() else None

    def _stamped(self) -> Signature | None:
        """The signature recorded in the stamp file; None if missing or unreadable (then it vouches for nothing)."""
        try:
            main, wal = json.loads(self.stamp_path.read_text())
            return tuple(main), (tuple(wal) if wal is not None else None)
        except (OSError, ValueError, TypeError):
            return None

    def _vouch(self, signature: Signature | None, *, stamp: bool = True) -> None:
        self._vouched = None if signature is None else (os.getpid(), signature)
        if stamp and signature is not None:
            scratch = self.stamp_path.with_name(self.stamp_path.name + f".{os.getpid()}.tmp")
            try:
                scratch.write_text(json.dumps(signature))
                scratch.replace(self.stamp_path)
            except OSError:  # a full disk: the next run checks the file again, nothing worse
                scratch.unlink(missing_ok=True)

    def _unvouch_stamp(self) -> None:
        self._vouched = None
        self.stamp_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close this thread's connection; if every change since the file was checked was this process's,
        record the state it leaves as vouched for, so the next process need not check it again."""
        intact = self._vouched_signature() is not None and self._vouched_signature() == self.signature()
        local = self._local
        if getattr(local, "pid", None) == os.getpid():
            if intact:
                # an empty WAL: whichever connection closes last then has nothing to copy into the file
                # and leaves it as stamped (a checkpoint on close would change it)
                try:
                    local.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.DatabaseError:
                    intact = False
            local.db.close()
        self._local = threading.local()
        if intact:
            self._vouch(self.signature())

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
        with self.naming_itself():
            yield from self._transaction()

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db()
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue on the busy timeout
        # instead of failing on a read-to-write lock upgrade
        db.execute("BEGIN IMMEDIATE")
        vouched = self._vouched_signature()
        ours = vouched is not None and vouched == self.signature()  # nobody else wrote since the last vouch
        try:
            yield db
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself on some errors (a full disk mid-write)
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if vouched is not None:
            self._vouch(self.signature() if ours else None, stamp=False)

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
        self._unvouch_stamp()
        return moved_to
