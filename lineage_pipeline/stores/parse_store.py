"""SQLite store of parse results keyed by content hash, dialect and parser version.

It is how ``parsed_sql`` hands its results to ``lineage_graph`` and why an unchanged file is never
parsed twice: the same bytes in the same dialect under the same parser give the same lineage, so
the path is not part of the key (it is restored on read).
"""

import sqlite3
import time
import zlib
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.parsing.models import FileLineage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parse_results (
    sha256 TEXT NOT NULL,
    dialect TEXT NOT NULL,
    parser_version TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL NOT NULL,
    PRIMARY KEY (sha256, dialect, parser_version)
)
"""


class ParseStore:
    """Parse results on disk; safe for several processes (WAL, busy timeout)."""

    def __init__(self, path: Path, parser_version: str = PARSER_VERSION):
        self.path = path
        self.parser_version = parser_version
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, sha256: str, dialect: str, path: str) -> FileLineage | None:
        """The stored lineage of this content, re-labelled with ``path``; None if absent."""
        return self.get_many([(sha256, dialect, path)]).get((sha256, dialect, path))

    def get_many(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], FileLineage]:
        """Stored lineage for each ``(sha256, dialect, path)`` that has a result; misses are left out."""
        found: dict[tuple[str, str, str], FileLineage] = {}
        now = time.time()
        with closing(self._connect()) as db, db:
            for sha256, dialect, path in keys:
                row = db.execute(
                    "SELECT payload FROM parse_results WHERE sha256=? AND dialect=? AND parser_version=?",
                    (sha256, dialect, self.parser_version),
                ).fetchone()
                if row is None:
                    continue
                lineage = FileLineage.model_validate_json(zlib.decompress(row[0]))
                found[(sha256, dialect, path)] = lineage.model_copy(update={"path": path})
                db.execute(
                    "UPDATE parse_results SET last_used_at=? WHERE sha256=? AND dialect=? AND parser_version=?",
                    (now, sha256, dialect, self.parser_version),
                )
        return found

    def put_many(self, items: Iterable[tuple[str, str, FileLineage]]) -> int:
        """Store ``(sha256, dialect, lineage)`` triples; returns how many."""
        now = time.time()
        rows = [
            (sha256, dialect, self.parser_version, zlib.compress(lineage.model_dump_json().encode()), now, now)
            for sha256, dialect, lineage in items
        ]
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO parse_results VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)
