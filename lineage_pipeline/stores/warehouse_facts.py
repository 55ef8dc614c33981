"""Each SQL file's part of the warehouse, as the graph holds it: what the code location's warehouse
assets are built from (``assets.warehouse``).

One row per file: its path, its domain, and its facts as JSON (the tables it writes with the statements
that write them, the tables it reads, its FEEDS pairs, columns and column derivations, which of its
tables are views). A graph write replaces the rows of the files it wrote and drops those of the files it
deleted, so keeping the store current costs what changed, not the size of the graph.

``kept_views``: tables the graph still holds as views after every file that said so went (the graph
keeps a table a view until its node goes; the files that only read it may have been read before it
became one). A domain is ``current`` once its rows were refreshed after its last graph write; a write
marks it stale first, so a write or refresh that fails half way leaves the domain to a full refresh
next time. A damaged file is moved aside and rebuilt empty: every domain is then stale and is
refreshed whole at its next write.
"""

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lineage_pipeline.stores.sqlite_file import IntegrityReport, SqliteFile, batched

SCHEMA_VERSION = "1"
_APP_ID = "lineage_pipeline.warehouse_facts"
_BATCH = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    path TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    facts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_domain ON facts (domain);
CREATE TABLE IF NOT EXISTS domains (
    domain TEXT PRIMARY KEY,
    current INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kept_views (
    key TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS properties (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class FileFacts(BaseModel):
    """One file's warehouse facts, grouped by table (a table's key is written once per file, not once per
    column: most of a row is column names and column lineage)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    domain: str
    dialect: str | None = None
    writes: dict[str, list[tuple[int, int, str]]] = {}
    """Table -> the statements that write it: (statement index, line, kind); empty: written without sites."""
    reads: list[str] = []
    feeds: dict[str, list[str]] = {}
    """Table -> the tables it is written from (FEEDS)."""
    columns: dict[str, list[str]] = {}
    """Table -> its column names (HAS_COLUMN)."""
    derives: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    """Table -> column -> its sources: (source table, source column, transform) (DERIVES)."""
    views: list[str] = []
    """The tables it touches whose node is a view."""

    @property
    def tables(self) -> set[str]:
        """Every table the file touches (a table it derives columns from counts through those columns)."""
        return {*self.writes, *self.reads, *self.feeds, *(s for sources in self.feeds.values() for s in sources),
                *self.columns}


class WarehouseFacts:
    """Per-file warehouse facts in a SQLite file shared by the graph writes and the code location."""

    def __init__(self, path: Path, *, create: bool = True):
        """``create=False``: only read a file that exists (the code location must not make one)."""
        self.file = SqliteFile(path, label="warehouse facts", app_id=_APP_ID, schema_version=SCHEMA_VERSION, schema=_SCHEMA)
        self.path = self.file.path
        if create:
            self.file.ensure()

    def verify_integrity(self, *, full: bool = False) -> IntegrityReport:
        """Integrity and layout check (skipped for a vouched-for state unless ``full``, see ``sqlite_file``);
        a damaged or foreign file is moved aside and rebuilt empty (never raises)."""
        return self.file.repair(self.problem, full=full)

    def close(self) -> None:
        """Close this thread's connection, vouching for the file if only this process changed it."""
        self.file.close()

    def problem(self) -> str | None:
        """Why the file cannot be used, or None (no repair: the code location only reads)."""
        return self.file.problem()

    def begin_write(self, domain: str) -> bool:
        """Before the graph of ``domain`` changes: repair a damaged file, then mark the domain stale until
        ``put`` marks it current again. Returns whether its rows were current, i.e. whether reading the
        files the write changes will be enough (else every file of the domain is read)."""
        self.verify_integrity()
        with self.file.transaction() as db:
            row = db.execute("SELECT current FROM domains WHERE domain=?", (domain,)).fetchone()
            db.execute("INSERT OR REPLACE INTO domains VALUES (?, 0)", (domain,))
        return bool(row and row[0])

    def is_current(self, domain: str) -> bool:
        """Whether the rows of ``domain`` follow its graph: a write's ``put`` completed, and no write began
        since (``begin_write``). False for a domain never written, and for a damaged file."""
        try:
            row = self.file.db().execute("SELECT current FROM domains WHERE domain=?", (domain,)).fetchone()
        except sqlite3.DatabaseError:
            return False
        return bool(row and row[0])

    def put(
        self, domain: str, facts: Iterable[FileFacts], *, deleted: Iterable[str] = (), whole: bool = False,
        corpus_root: str | None = None,
    ) -> int:
        """Replace the rows of ``facts``' paths (files of ``domain``), drop those of ``deleted`` (``whole``: every
        other row of ``domain``), then mark ``domain`` current; returns the rows written. Written in
        batches: a failure leaves the domain stale, never marked current with rows missing. A table a
        row touches and does not say is a view is no kept view any more (its node went and came back)."""
        written: set[str] = set()
        for batch in batched(facts, _BATCH):
            with self.file.transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO facts VALUES (?, ?, ?)", [(f.path, domain, f.model_dump_json()) for f in batch]
                )
                # kept views are rare: a delete per table a batch touches (~10 a file) mostly finds none
                if db.execute("SELECT 1 FROM kept_views LIMIT 1").fetchone() is not None:
                    plain = {key for f in batch for key in f.tables.difference(f.views)}
                    db.executemany("DELETE FROM kept_views WHERE key=?", [(key,) for key in sorted(plain)])
            written.update(f.path for f in batch)
        self.delete(deleted)
        if whole:
            self.delete(self.paths(domain) - written)
        with self.file.transaction() as db:
            db.execute("INSERT OR REPLACE INTO properties VALUES ('refreshed_at', ?)", (datetime.now(UTC).isoformat(),))
            if corpus_root is not None:
                db.execute("INSERT OR REPLACE INTO properties VALUES ('corpus_root', ?)", (corpus_root,))
            db.execute("INSERT OR REPLACE INTO domains VALUES (?, 1)", (domain,))
        return len(written)

    def delete(self, paths: Iterable[str]) -> int:
        """Drop the rows of ``paths`` (deleted files); returns how many there were."""
        count = 0
        for batch in batched(paths, _BATCH):
            with self.file.transaction() as db:
                count += db.executemany("DELETE FROM facts WHERE path=?", [(path,) for path in batch]).rowcount
        return count

    def drop_domain(self, domain: str) -> None:
        """Forget ``domain``: its rows and its marker (a retired domain has no files left)."""
        with self.file.transaction() as db:
            db.execute("DELETE FROM facts WHERE domain=?", (domain,))
            db.execute("DELETE FROM domains WHERE domain=?", (domain,))

    def paths(self, domain: str) -> set[str]:
        """The paths with a row in ``domain``."""
        return {path for (path,) in self.file.db().execute("SELECT path FROM facts WHERE domain=?", (domain,))}

    def views_of(self, paths: Iterable[str]) -> set[str]:
        """The tables the rows of ``paths`` say are views."""
        views: set[str] = set()
        db = self.file.db()
        for batch in batched(paths, _BATCH):
            marks = ",".join("?" * len(batch))
            views.update(value for (value,) in db.execute(
                f"SELECT DISTINCT v.value FROM facts, json_each(facts.facts, '$.views') AS v WHERE facts.path IN ({marks})",
                batch,
            ))
        return views

    def keep_views(self, tables: Iterable[str]) -> None:
        """``tables`` stay views (the graph says so) though no file that says so is left."""
        with self.file.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO kept_views VALUES (?)", [(key,) for key in tables])

    def kept_views(self) -> set[str]:
        return {key for (key,) in self.file.db().execute("SELECT key FROM kept_views")}

    def rows(self) -> Iterator[FileFacts]:
        """Every row, by path."""
        for (text,) in self.file.db().execute("SELECT facts FROM facts ORDER BY path"):
            yield FileFacts.model_validate_json(text)

    def properties(self) -> dict[str, str]:
        """``corpus_root`` (absolute, of the last refresh that named one: makes the files' relative paths
        into code references) and ``refreshed_at`` (ISO time of the last refresh), once written."""
        return dict(self.file.db().execute("SELECT name, value FROM properties"))
