"""The sensor's local state (SQLite): the full last-seen manifest, a change journal and flush requests.

The Dagster cursor only carries the pending batch and the store ``generation`` it reflects; the
journal lets a tick whose cursor was not saved replay the changes the store already recorded.
"""

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lineage_pipeline.corpus.files import domain_of
from lineage_pipeline.sensors.changes import ChangeSet, Seen

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
    """Last-seen file state of one corpus; every write is one transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (uuid.uuid4().hex,))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('flush_requests', '0')")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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
