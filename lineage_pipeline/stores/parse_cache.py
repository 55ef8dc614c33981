"""SQLite cache of parse results keyed by content hash, dialect and parser version (plus a catalog digest).

It is why an unchanged file is never
parsed twice: the same bytes in the same dialect under the same parser give the same lineage, so
the path is not part of the key (it is restored on read). Payloads are zlib-compressed JSON (never
pickle: the file may be foreign). Each entry also keeps the counts and errors of its lineage so a
warm run can report without decoding payloads, and the catalog facts of its lineage (the tables it
defines, the tables a catalog could change it through) so the corpus-wide catalog pass never decodes
a payload either. (What a run hands to the graph step is in ``parse_results``, which is never
evicted.) ``catalogs``
keeps the last corpus-wide schema catalogs (table -> ordered columns, no lineage) under a digest of the
corpus state, so each domain run of one corpus state does not rebuild it. Hit/miss/eviction counters live in the database, so
they add up across processes. Several processes may read and write at once (WAL, busy timeout).
"""

import json
import logging
import random
import sqlite3
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pydantic import TypeAdapter

from lineage_pipeline.parsing import PARSER_VERSION, catalog_dependencies, catalog_entries, needs_catalog
from lineage_pipeline.parsing.models import FileLineage, ParseIssue
from lineage_pipeline.stores.sqlite_file import IntegrityReport, SqliteFile, batched

log = logging.getLogger(__name__)

SCHEMA_VERSION = "6"
"""Layout of this database; a file with another layout is moved aside and rebuilt."""
_APP_ID = "lineage_pipeline.parse_cache"
_LOOKUP_BATCH = 500
_SUMMARY_COLUMNS = "sha256, dialect, context, statements, column_edges, errors, defines, dependencies, warnings"
"""The columns ``_summary`` reads, in its order."""
TOUCH_AFTER_S = 3600.0
"""A hit refreshes its entry's ``last_used_at`` only when that is older than this: the LRU order needs no
finer grain, and rewriting every hit made each run of a large corpus write a row per file."""
CATALOG_SNAPSHOTS = 8
"""Corpus catalogs kept (most recent first): enough for concurrent runs of a few corpus states."""

_RESOLVED_INDEX = "CREATE INDEX IF NOT EXISTS entries_resolved ON entries (context) WHERE context != ''"
"""Counts the catalog-resolved entries (``_counts``); also made on first use in a cache file created before it."""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS stats (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO stats VALUES ('hits', 0), ('misses', 0), ('evictions', 0);
CREATE TABLE IF NOT EXISTS entries (
    sha256 TEXT NOT NULL,
    dialect TEXT NOT NULL,
    parser_version TEXT NOT NULL,
    context TEXT NOT NULL,
    payload BLOB NOT NULL,
    statements INTEGER NOT NULL,
    column_edges INTEGER NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    defines TEXT NOT NULL,
    dependencies TEXT NOT NULL,
    reusable INTEGER NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL NOT NULL,
    PRIMARY KEY (sha256, dialect, parser_version, context)
);
CREATE INDEX IF NOT EXISTS entries_last_used ON entries (last_used_at);
{_RESOLVED_INDEX};
CREATE TABLE IF NOT EXISTS catalogs (digest TEXT PRIMARY KEY, tables TEXT NOT NULL, created_at REAL NOT NULL);
"""


class CacheKey(NamedTuple):
    """What a parse result depends on: content, dialect and ``context`` (catalog digest, '' for none).
    A tuple: a domain's keys are built by the ten thousand per step (~3x faster than a frozen dataclass)."""

    sha256: str
    dialect: str
    context: str = ""


class Summary(NamedTuple):
    """The figures a run reports about one file without decoding its lineage, plus its catalog facts:
    ``defines`` = (table, columns) pairs it contributes to a catalog (no columns: it defines the table
    from a query whose columns only a catalog can tell, e.g. ``CREATE VIEW v AS SELECT * FROM t``),
    ``dependencies`` = the tables whose catalog entries can change its lineage (empty when none can).
    A tuple: every run reads one per file of the domain."""

    statements: int
    column_edges: int
    errors: tuple[ParseIssue, ...]
    defines: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dependencies: tuple[str, ...] = ()
    warnings: tuple[ParseIssue, ...] = ()

    @staticmethod
    def of(lineage: FileLineage) -> "Summary":
        return Summary(
            statements=len(lineage.statements),
            column_edges=sum(len(s.columns) for s in lineage.statements),
            errors=tuple(lineage.errors),
            defines=_defines(lineage),
            dependencies=tuple(sorted(catalog_dependencies(lineage))) if needs_catalog(lineage) else (),
            warnings=(*_file_warnings(lineage), *lineage.warnings),
        )


def _file_warnings(lineage: FileLineage) -> list[ParseIssue]:
    """What a user should know about a file that is not an error: it holds no SQL, or is not UTF-8."""
    warnings = []
    if not lineage.statements and not lineage.errors:
        warnings.append(ParseIssue(message="no SQL statements (empty or comments only)"))
    if lineage.encoding and lineage.encoding not in ("utf-8", "ascii"):
        warnings.append(ParseIssue(message=f"not UTF-8; decoded as {lineage.encoding}"))
    return warnings


def _defines(lineage: FileLineage) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``catalog_entries`` plus, with no columns, single-target definitions whose columns are not known yet."""
    known = catalog_entries(lineage)
    pending = {
        statement.targets[0]: ()
        for statement in lineage.statements
        if len(statement.targets) == 1 and not statement.defined_columns
        and (statement.kind.startswith("CREATE") or statement.kind == "SELECT INTO")
        and statement.targets[0] not in known
    }
    return tuple({**pending, **known}.items())


@dataclass(frozen=True)
class Encoded:
    """A parse result ready to store: compressed payload plus its summary.

    ``reusable=False`` marks a result that says nothing final about the content (its worker crashed or
    timed out, or the file changed after the scan): it goes to this run's parse results, never to the cache.
    ``memo``: the parse's statement memo (``parsing.reuse``), kept with the file's parse result so the
    next parse of an edited version reuses its unchanged statements; the cache does not keep it.
    ``reused``: how many statements this parse took from the file's previous one (reported, not stored).
    """

    payload: bytes
    summary: Summary
    reusable: bool = True
    memo: bytes | None = None
    reused: int = 0


def encode(lineage: FileLineage, reusable: bool = True, memo: bytes | None = None, reused: int = 0) -> Encoded:
    """Compact, path-free serialized form of ``lineage`` (workers call this so the parent only stores bytes)."""
    body = lineage.model_dump_json(exclude={"path"}, exclude_defaults=True).encode()
    return Encoded(zlib.compress(body, 6), Summary.of(lineage), reusable, memo, reused)


def decode(payload: bytes, path: str) -> FileLineage:
    """The lineage in ``payload``, labelled with ``path``; raises ValueError if the payload is not one."""
    try:
        body = zlib.decompress(payload).strip()
        if body[:1] != b"{" or body[-1:] != b"}":
            raise ValueError("not a JSON object")
        # the path goes into the JSON, so pydantic validates the bytes directly (no dict of dicts first)
        named = b'{"path":' + json.dumps(path).encode() + (b"}" if body == b"{}" else b"," + body[1:])
        return FileLineage.model_validate_json(named)
    except (zlib.error, ValueError, TypeError) as error:
        raise ValueError(f"undecodable parse-cache payload: {error}") from error


@dataclass(frozen=True)
class CacheStats:
    """Counters since the last clear, and what the cache holds now."""

    hits: int
    misses: int
    hit_rate: float
    entries: int
    bytes: int
    evictions: int

    def as_dict(self) -> dict[str, int | float]:
        return {k: getattr(self, k) for k in ("hits", "misses", "hit_rate", "entries", "bytes", "evictions")}


class ParseCache:
    """Parse results on disk with LRU eviction beyond ``max_entries`` and expiry after ``ttl_seconds`` unused.

    ``enabled=False`` means the cache is not used at all: ``lookup`` misses and counts nothing, and
    ``put_encoded`` stores nothing (a run's results reach the graph step through ``parse_results``).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_entries: int,
        ttl_seconds: float,
        parser_version: str = PARSER_VERSION,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ):
        if max_entries < 1 or ttl_seconds <= 0:
            raise ValueError(f"parse cache needs max_entries >= 1 and ttl > 0, got {max_entries} and {ttl_seconds}")
        self.path = Path(path)
        self.parser_version = parser_version
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.enabled = enabled
        self.clock = clock
        self.file = SqliteFile(self.path, label="parse cache", app_id=_APP_ID, schema_version=SCHEMA_VERSION, schema=_SCHEMA)
        self.file.ensure()
        self._counts: tuple[int, int] | None = None
        """Upper bound of (first-pass, resolved) entries after this process's writes; None: count again."""

    # -- integrity ------------------------------------------------------------------------------

    def verify_integrity(self, sample_size: int = 10, *, full: bool = False) -> IntegrityReport:
        """SQLite integrity check, layout check and decoding of ``sample_size`` random payloads, skipped
        for a file in a state a run vouched for (``sqlite_file``) unless ``full``.

        A corrupt, truncated or foreign file is moved aside (``<name>.corrupt-<time>``) and an empty
        cache is created in its place, with a warning; this never raises for a bad file.
        """
        return self.file.repair(lambda: self._problem(sample_size), full=full)

    def close(self) -> None:
        """Close this thread's connection, vouching for the file if only this process changed it."""
        self.file.close()

    def _problem(self, sample_size: int) -> str | None:
        found = self.file.problem()
        if found is not None:
            return found
        try:
            with closing(self.file.connect()) as db:
                low, high = db.execute("SELECT min(rowid), max(rowid) FROM entries").fetchone()
                # rowid seeks, not OFFSET: an OFFSET walks (and reads the payloads of) every row before it
                for start in sorted(random.randint(low, high) for _ in range(sample_size)) if low is not None else ():
                    row = db.execute("SELECT payload FROM entries WHERE rowid >= ? ORDER BY rowid LIMIT 1", (start,)).fetchone()
                    if row is not None:
                        decode(row[0], "sample")
        except sqlite3.DatabaseError as error:
            return f"unreadable database: {error}"
        except ValueError as error:
            return str(error)
        return None

    # -- reads ----------------------------------------------------------------------------------

    def lookup(
        self, keys: Iterable[CacheKey], count: bool = True, *, defines: bool = True
    ) -> Iterator[tuple[CacheKey, Summary | None]]:
        """For each key, its cached summary (a hit, marked used now) or None (a miss), counted in the stats
        unless ``count`` is False (the catalog pass: the stats describe each domain's own files). Without
        ``defines`` a summary's ``defines`` is left empty (not decoded: only a catalog build reads it).

        Streams in batches so memory does not grow with the number of keys. When disabled, every key
        misses and nothing is counted.
        """
        for batch in batched(keys, _LOOKUP_BATCH):
            if not self.enabled:
                yield from ((key, None) for key in batch)
                continue
            now = self.clock()
            fresh_after = now - self.ttl_seconds
            with self.file.transaction() as db:
                rows = self._servable(db, batch, f"{_SUMMARY_COLUMNS}, last_used_at", fresh_after)
                by_key = {CacheKey(r[0], r[1], r[2]): r for r in rows}
                found = []
                stale = []
                for key in batch:
                    row = by_key.get(key)
                    found.append((key, None if row is None else _summary(row, defines=defines)))
                    if row is not None and row[-1] < now - TOUCH_AFTER_S:
                        stale.append(key)
                hits = [k for k, s in found if s is not None]
                db.executemany(
                    "UPDATE entries SET last_used_at=? WHERE sha256=? AND dialect=? AND parser_version=? AND context=?",
                    [(now, k.sha256, k.dialect, self.parser_version, k.context) for k in stale],
                )
                if count:
                    _bump(db, hits=len(hits), misses=len(found) - len(hits))
            yield from found

    def _servable(self, db: sqlite3.Connection, batch: list[CacheKey], columns: str, fresh_after: float) -> list[tuple]:
        """``columns`` of the entries a lookup may serve for the hashes of ``batch``: this parser version,
        used since ``fresh_after``, reusable (callers match dialect and context)."""
        marks = ",".join("?" * len(batch))
        return db.execute(
            f"SELECT {columns} FROM entries WHERE parser_version=? AND last_used_at>=? AND reusable=1 AND sha256 IN ({marks})",
            (self.parser_version, fresh_after, *(k.sha256 for k in batch)),
        ).fetchall()

    def get_many(
        self, keys: Iterable[tuple[str, str, str]], contexts: Mapping[str, str] | None = None
    ) -> dict[tuple[str, str, str], FileLineage]:
        """Stored lineage for each ``(sha256, dialect, path)`` that has an entry; misses are left out.
        ``contexts`` (path -> catalog context) picks a catalog-resolved entry; a path not in it reads the
        first-pass entry (context ''). Ignores TTL and does not count in the hit/miss stats.
        """
        found: dict[tuple[str, str, str], FileLineage] = {}
        contexts = contexts or {}
        db = self.file.db()
        for sha256, dialect, path in keys:
            row = db.execute(
                "SELECT payload FROM entries WHERE sha256=? AND dialect=? AND parser_version=? AND context=?",
                (sha256, dialect, self.parser_version, contexts.get(path, "")),
            ).fetchone()
            if row is not None:
                found[(sha256, dialect, path)] = decode(row[0], path)
        return found

    def encoded(self, keys: Iterable[CacheKey]) -> Iterator[tuple[CacheKey, Encoded]]:
        """The stored result of each of ``keys`` that has an entry, payload still encoded, in batches (no
        decoding, no stats)."""
        db = self.file.db()
        for batch in batched(keys, _LOOKUP_BATCH):
            marks = ",".join("?" * len(batch))
            rows = {
                CacheKey(row[0], row[1], row[2]): Encoded(row[9], _summary(row))
                for row in db.execute(
                    f"SELECT {_SUMMARY_COLUMNS}, payload FROM entries "
                    f"WHERE parser_version=? AND reusable=1 AND sha256 IN ({marks})",
                    (self.parser_version, *(k.sha256 for k in batch)),
                )
            }
            yield from ((key, rows[key]) for key in batch if key in rows)

    def load_catalog(self, digest: str) -> dict[str, tuple[str, ...]] | None:
        """The catalog saved under ``digest`` (table -> ordered columns), None if there is none.

        Read whether or not the cache is ``enabled``: a catalog is a fact of one corpus state, not a
        reused parse result, so baseline runs build it at most once per corpus state too."""
        db = self.file.db()
        row = db.execute("SELECT tables FROM catalogs WHERE digest=?", (digest,)).fetchone()
        return None if row is None else {table: tuple(columns) for table, columns in json.loads(row[0])}

    def save_catalog(self, digest: str, tables: Mapping[str, Iterable[str]]) -> None:
        """Keep ``tables`` under ``digest``; only the ``CATALOG_SNAPSHOTS`` most recent catalogs stay."""
        body = json.dumps(sorted((table, list(columns)) for table, columns in tables.items()))
        with self.file.transaction() as db:
            db.execute("INSERT OR REPLACE INTO catalogs VALUES (?, ?, ?)", (digest, body, self.clock()))
            db.execute(
                "DELETE FROM catalogs WHERE digest NOT IN "
                "(SELECT digest FROM catalogs ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                (CATALOG_SNAPSHOTS,),
            )

    def get(self, sha256: str, dialect: str, path: str) -> FileLineage | None:
        """The stored lineage of this content, labelled with ``path``; None if absent."""
        return self.get_many([(sha256, dialect, path)]).get((sha256, dialect, path))

    # -- writes ---------------------------------------------------------------------------------

    def put_encoded(self, items: Iterable[tuple[CacheKey, Encoded]], live: Collection[tuple[str, str]] | None = None) -> int:
        """Store the reusable ones of ``items``, then evict beyond ``max_entries`` (see ``_evict``); nothing
        when disabled. ``live`` is the (sha256, dialect) of every file of the corpus now: evicted last."""
        if not self.enabled:
            return 0
        now = self.clock()
        rows = [
            (
                key.sha256, key.dialect, self.parser_version, key.context, enc.payload,
                enc.summary.statements, enc.summary.column_edges, issues_json(enc.summary.errors),
                issues_json(enc.summary.warnings), json.dumps(enc.summary.defines), json.dumps(enc.summary.dependencies),
                int(enc.reusable), now, now,
            )
            for key, enc in items
            if enc.reusable
        ]
        with self.file.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            # counting the entries reads the whole table: once, then this process adds what it wrote (an
            # upper bound, a replaced row counts twice); another process's writes wait for a later count
            if self._counts is None:
                self._counts = _counts(db)
            first = sum(1 for row in rows if row[3] == "")
            self._counts = (self._counts[0] + first, self._counts[1] + len(rows) - first)
            if max(self._counts) > self.max_entries:
                self._evict(db, live)
                self._counts = None
        return len(rows)

    def put_many(self, items: Iterable[tuple[str, str, FileLineage]]) -> int:
        """Store ``(sha256, dialect, lineage)`` triples; returns how many."""
        return self.put_encoded((CacheKey(s, d), encode(lin)) for s, d, lin in items)

    def _evict(self, db: sqlite3.Connection, live: Collection[tuple[str, str]] | None = None) -> None:
        """First-pass entries (context '') and catalog-resolved ones are bounded by ``max_entries`` each.

        Resolved entries are at most one per catalog-dependent file, so counting them against the
        first-pass bound would evict results a corpus of up to ``max_entries`` files still needs and
        make the next pass parse them again. Within each kind, content not in ``live`` goes first, then
        the least recently used; a first-pass entry takes its resolved entries with it (without it
        the file is parsed again anyway).
        """
        first_count, resolved_count = _counts(db)
        first_excess = first_count - self.max_entries
        resolved_excess = resolved_count - self.max_entries
        if first_excess <= 0 and resolved_excess <= 0:
            return
        order = "ORDER BY last_used_at, rowid"
        if live is not None:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS live (sha256 TEXT, dialect TEXT, PRIMARY KEY (sha256, dialect))")
            db.execute("DELETE FROM live")
            db.executemany("INSERT OR IGNORE INTO live VALUES (?, ?)", live)
            order = ("ORDER BY EXISTS (SELECT 1 FROM live WHERE live.sha256 = entries.sha256 "
                     "AND live.dialect = entries.dialect), last_used_at, rowid")
        deleted = 0
        if first_excess > 0:
            victims = db.execute(
                f"SELECT sha256, dialect, parser_version FROM entries WHERE context = '' {order} LIMIT ?",
                (first_excess,),
            ).fetchall()
            for victim in victims:
                deleted += db.execute(
                    "DELETE FROM entries WHERE sha256=? AND dialect=? AND parser_version=?", victim,
                ).rowcount
        resolved_excess = db.execute("SELECT COUNT(*) FROM entries WHERE context != ''").fetchone()[0] - self.max_entries
        if resolved_excess > 0:
            deleted += db.execute(
                f"DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE context != '' {order} LIMIT ?)",
                (resolved_excess,),
            ).rowcount
        _bump(db, evictions=deleted)

    def prune(self, evict: bool = True, *, every_s: float = 0.0) -> int:
        """Drop entries unused for longer than the TTL or written by another parser version, then (with
        ``evict``) evict beyond ``max_entries``; returns how many entries went. With ``every_s``, nothing
        is done if the last prune was less than that long ago (it reads every entry)."""
        now = self.clock()
        with self.file.transaction() as db:
            if not _due(db, "pruned_at", now, every_s):
                return 0
            before = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            db.execute(
                "DELETE FROM entries WHERE last_used_at < ? OR parser_version != ?",
                (now - self.ttl_seconds, self.parser_version),
            )
            if evict:
                self._evict(db)
            return before - db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def due(self, task: str, every_s: float) -> bool:
        """Whether ``task`` (a name of the caller's) was last done ``every_s`` or more ago, or never; if so,
        it counts as done now. Kept in the cache file, so every process of the project shares it."""
        with self.file.transaction() as db:
            return _due(db, task, self.clock(), every_s)

    def count_hits(self, hits: int) -> None:
        """Count ``hits`` files whose cached result the caller took from elsewhere (``ParseResults.first_passes``)."""
        if self.enabled and hits:
            with self.file.transaction() as db:
                _bump(db, hits=hits)

    def clear(self) -> None:
        """Remove every entry and reset the counters."""
        with self.file.transaction() as db:
            db.execute("DELETE FROM entries")
            db.execute("DELETE FROM catalogs")
            db.execute("UPDATE stats SET value=0")
        with closing(self.file.connect()) as db:
            db.execute("VACUUM")

    def entry_count(self) -> int:
        """Entries in the cache now (an index count; ``get_stats`` also sums every payload's size)."""
        return int(self.file.db().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def get_stats(self) -> CacheStats:
        """Hits, misses, hit rate, entries, payload bytes and evictions since the last ``clear``."""
        db = self.file.db()
        counters = dict(db.execute("SELECT name, value FROM stats"))
        entries, size = db.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM entries").fetchone()
        hits, misses = counters.get("hits", 0), counters.get("misses", 0)
        rate = round(hits / (hits + misses), 4) if hits + misses else 0.0
        return CacheStats(hits, misses, rate, entries, size, counters.get("evictions", 0))


def _counts(db: sqlite3.Connection) -> tuple[int, int]:
    """(first-pass entries, catalog-resolved entries) in the cache now, counted over two narrow indexes:
    grouping the table by context read every payload page (~0.06 s per process at 150k entries)."""
    db.execute(_RESOLVED_INDEX)
    total = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    resolved = db.execute("SELECT COUNT(*) FROM entries WHERE context != ''").fetchone()[0]
    return total - resolved, resolved


def _due(db: sqlite3.Connection, task: str, now: float, every_s: float) -> bool:
    last = db.execute("SELECT value FROM stats WHERE name=?", (task,)).fetchone()
    if every_s and last is not None and now - last[0] < every_s:
        return False
    db.execute("INSERT OR REPLACE INTO stats VALUES (?, ?)", (task, int(now)))
    return True


def _bump(db: sqlite3.Connection, **counts: int) -> None:
    db.executemany(
        "UPDATE stats SET value = value + ? WHERE name = ?", [(n, name) for name, n in counts.items() if n]
    )


def _summary(row: tuple, *, defines: bool = True) -> Summary:
    """A ``Summary`` from ``(.., .., .., statements, column_edges, errors, defines, dependencies, warnings)``
    (``defines`` left empty unless asked for)."""
    tables = tuple((table, tuple(columns)) for table, columns in json.loads(row[6])) if defines else ()
    dependencies = () if row[7] == "[]" else tuple(json.loads(row[7]))
    return Summary(row[3], row[4], issues_from_json(row[5]), tables, dependencies, issues_from_json(row[8]))


_ISSUES = TypeAdapter(list[ParseIssue])


def issues_json(issues: Iterable[ParseIssue]) -> str:
    """Issues as compact JSON (``[]`` when none)."""
    return json.dumps([i.model_dump(exclude_defaults=True) for i in issues]) if issues else "[]"


def issues_from_json(text: str) -> tuple[ParseIssue, ...]:
    """The issues ``issues_json`` wrote."""
    return () if text == "[]" else tuple(_ISSUES.validate_json(text))
