"""The sensor's local state (SQLite): the full last-seen manifest, a change journal and flush requests.

The Dagster cursor only carries the pending batch and the store ``generation`` it reflects; the
journal lets a tick whose cursor was not saved replay the changes the store already recorded.
"""

import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lineage_pipeline.corpus.files import domain_of
from lineage_pipeline.sensors.changes import ChangeSet, Seen
from lineage_pipeline.stores.sqlite_file import SqliteFile

log = logging.getLogger(__name__)

JOURNAL_GENERATIONS = 1000
"""Generations of changed paths kept for replay; a cursor older than that triggers full rescans."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (generation INTEGER NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_generation ON journal (generation);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_state_path(data_dir: Path) -> Path:
    """Where the sensor keeps its state for a project data directory."""
    return data_dir / "sensor" / "corpus_state.sqlite"


class StateStore:
    """Last-seen file state of one corpus; every write is one transaction.

    A damaged or foreign file is moved aside (``<name>.corrupt-<time>``) and rebuilt empty with a new
    epoch, like the parse cache: the sensor's cursor then no longer matches and its next tick rescans.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = SqliteFile(path)
        self.moved_to: Path | None = None
        """Where a damaged state file was moved by this open, if it was."""
        with self.file.exclusive():
            try:
                self._open()
            except sqlite3.DatabaseError as error:
                self.moved_to = self.file.move_aside(int(time.time() * 1000))
                log.warning("sensor state %s is unusable (%s); moved to %s and rebuilt", path, error, self.moved_to)
                self._open()
        self._db = self.file.db()

    def _open(self) -> None:
        db = self.file.db()
        if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise sqlite3.DatabaseError("integrity check failed")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        with self.file.transaction():
            db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (uuid.uuid4().hex,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('flush_requests', '0')")
        for key in ("epoch", "generation", "flush_requests"):
            value = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if value is None or (key != "epoch" and not str(value[0]).isdigit()):
                raise sqlite3.DatabaseError(f"meta {key!r} is missing or not a number")

    def close(self) -> None:
        self._db.close()
        self.file.forget_connections()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.file.transaction():
            yield

    def _meta(self, key: str) -> str:
        return self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    @property
    def epoch(self) -> str:
        """Random id of this store: a store rebuilt from scratch never matches an old cursor."""
        return self._meta("epoch")

    @property
    def generation(self) -> int:
        """Incremented by every commit that recorded a change."""
        return int(self._meta("generation"))

    def load(self) -> dict[str, Seen]:
        """The whole last-seen manifest."""
        return {row[0]: Seen(*row[1:]) for row in self._db.execute("SELECT * FROM seen")}

    def domains(self) -> set[str]:
        """Domains that hold at least one seen file."""
        return {domain_of(row[0]) for row in self._db.execute("SELECT path FROM seen")}

    def commit(self, changes: ChangeSet) -> int:
        """Record the upserts and removals of ``changes``; journal its changed paths. Returns the generation."""
        with self._transaction():
            generation = int(self._meta("generation"))
            self._db.executemany(
                "INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?)",
                [(path, *seen) for path, seen in changes.upserts.items()],
            )
            self._db.executemany("DELETE FROM seen WHERE path = ?", [(p,) for p in changes.removals])
            changed = changes.changed_paths
            if changed:
                generation += 1
                self._db.executemany("INSERT INTO journal VALUES (?, ?)", [(generation, p) for p in changed])
                self._db.execute("DELETE FROM journal WHERE generation <= ?", (generation - JOURNAL_GENERATIONS,))
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))
        return generation

    def changes_since(self, generation: int) -> list[str] | None:
        """Paths changed after ``generation``; None when the journal no longer reaches back that far."""
        current = self.generation
        if generation >= current:
            return []
        if generation < current - JOURNAL_GENERATIONS + 1:
            return None
        rows = self._db.execute("SELECT DISTINCT path FROM journal WHERE generation > ? ORDER BY path", (generation,))
        return [row[0] for row in rows]

    def request_flush(self) -> int:
        """Ask the sensor to emit its pending batch at its next tick; returns the request number."""
        with self._transaction():
            number = int(self._meta("flush_requests")) + 1
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'flush_requests'", (str(number),))
        return number

    @property
    def flush_requests(self) -> int:
        """How many flushes were ever requested (the sensor's cursor records how many it served)."""
        return int(self._meta("flush_requests"))
