"""The parse results of each domain's latest parse: what ``parsed_sql`` hands to ``lineage_graph``.

One row per file: the key its lineage was read under (content, dialect, parser version, catalog
context), whether that result is final (a worker crash, a timeout or a file edited during the run
give a result good for this run only), the encoded lineage and its summary (what a parse reports
about the file without decoding it: a first-pass row answers for the file without a cache lookup), and
the parse's statement memo, from which the next parse of an edited version takes its unchanged statements.
Unlike the parse cache this store is never evicted and is written whether or not the cache is
enabled: it holds exactly the domain's current files. A damaged file, or one of an older layout, is
moved aside and rebuilt empty; the next parse fills it again.
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from lineage_pipeline.parsing.models import FileLineage, ParseIssue
from lineage_pipeline.stores.parse_cache import CacheKey, Encoded, Summary, decode, issues_from_json, issues_json
from lineage_pipeline.stores.sqlite_file import IntegrityReport, SqliteFile, batched

SCHEMA_VERSION = "5"
_APP_ID = "lineage_pipeline.parse_results"
_BATCH = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    domain TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    dialect TEXT NOT NULL,
    parser_version TEXT NOT NULL,
    context TEXT NOT NULL,
    final INTEGER NOT NULL,
    statements INTEGER NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    column_edges INTEGER NOT NULL,
    dependencies TEXT NOT NULL,
    PRIMARY KEY (domain, path)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS results_path ON results (path);
CREATE TABLE IF NOT EXISTS payloads (path TEXT PRIMARY KEY, payload BLOB NOT NULL, memo BLOB);
"""
"""A domain's rows lie together and hold no lineage: the steps that read every row of a domain (first
passes, revisions) read ~3x fewer pages than when the payloads and memos sat in the same rows. A row and
its payload are written and deleted in one transaction."""
_RESULT_COLUMNS = (
    "domain, path, sha256, dialect, parser_version, context, final, statements, errors, warnings, column_edges, dependencies"
)


class FirstPasses(NamedTuple):
    """``ParseResults.first_passes``: rows by how much there is to decode."""

    plain: list[tuple[str, str, str, int, int]]
    """(path, sha256, dialect, statements, column_edges) of the rows with no errors, warnings or dependencies."""
    decoded: dict[str, tuple[str, str, Summary]]
    """Path -> (sha256, dialect, summary) of the others."""


@dataclass(frozen=True)
class FileIssues:
    """What a file's stored result says about it, read without decoding its lineage."""

    path: str
    statements: int
    errors: tuple[ParseIssue, ...]
    warnings: tuple[ParseIssue, ...]


class StoredResult(NamedTuple):
    """Which result a file's row holds: its cache key, the parser version, and whether it is final (a
    tuple, like ``CacheKey``: read for every file of a domain by several steps)."""

    key: CacheKey
    parser_version: str
    final: bool


class ParseResults:
    """Per-domain, per-path parse results in a SQLite file shared by the steps and runs of a project."""

    def __init__(self, path: Path):
        self.file = SqliteFile(path, label="parse results", app_id=_APP_ID, schema_version=SCHEMA_VERSION, schema=_SCHEMA)
        self.path = self.file.path
        self.file.ensure()

    def verify_integrity(self, *, full: bool = False) -> IntegrityReport:
        """Integrity and layout check (skipped for a vouched-for state unless ``full``, see ``sqlite_file``);
        a damaged or foreign file is moved aside and rebuilt empty (never raises)."""
        return self.file.repair(self.file.problem, full=full)

    def close(self) -> None:
        """Close this thread's connection, vouching for the file if only this process changed it."""
        self.file.close()

    def stored(self, domain: str, paths: Iterable[str] | None = None) -> dict[str, StoredResult]:
        """Path -> what the domain's row holds, for every file of ``domain`` (or those of ``paths`` it has)."""
        columns = "path, sha256, dialect, context, parser_version, final"
        db = self.file.db()
        if paths is None:
            rows: Iterable[tuple] = db.execute(f"SELECT {columns} FROM results WHERE domain=?", (domain,))
        else:
            rows = [
                row
                for batch in batched(paths, _BATCH)
                for row in db.execute(
                    f"SELECT {columns} FROM results WHERE domain=? AND path IN ({','.join('?' * len(batch))})",
                    (domain, *batch),
                )
            ]
        return {path: StoredResult(CacheKey(sha, dialect, context), version, bool(final))
                for path, sha, dialect, context, version, final in rows}

    def revision_keys(self, domain: str) -> Iterator[tuple[str, str, str, str, str, bool]]:
        """``(path, sha256, dialect, context, parser_version, final)`` of every row of ``domain``: ``stored``
        as plain tuples, for a step that reads every row only to derive one value from each."""
        rows = self.file.db().execute(
            "SELECT path, sha256, dialect, context, parser_version, final FROM results WHERE domain=?", (domain,)
        )
        return ((path, sha, dialect, context, version, bool(final)) for path, sha, dialect, context, version, final in rows)

    def put(self, domain: str, parser_version: str, items: Iterable[tuple[str, CacheKey, Encoded, bool]]) -> int:
        """Store ``(path, key, encoded, final)`` as each path's result, replacing what it held."""
        count = 0
        for batch in batched(items, _BATCH):
            with self.file.transaction() as db:
                db.executemany(
                    f"INSERT OR REPLACE INTO results ({_RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (domain, path, key.sha256, key.dialect, parser_version, key.context, int(final),
                         encoded.summary.statements, issues_json(encoded.summary.errors),
                         issues_json(encoded.summary.warnings), encoded.summary.column_edges,
                         json.dumps(encoded.summary.dependencies))
                        for path, key, encoded, final in batch
                    ],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO payloads VALUES (?, ?, ?)",
                    [(path, encoded.payload, encoded.memo) for path, _, encoded, _ in batch],
                )
            count += len(batch)
        return count

    def previous(self, domain: str, paths: Iterable[str], parser_version: str) -> dict[str, tuple[bytes, bytes]]:
        """Path -> (payload, memo) of the rows of ``paths`` that hold a first pass of ``parser_version`` with a
        memo: what a parse of the file's new content can take unchanged statements from."""
        db = self.file.db()
        found: dict[str, tuple[bytes, bytes]] = {}
        for batch in batched(paths, _BATCH):
            rows = db.execute(
                f"SELECT r.path, p.payload, p.memo FROM results AS r JOIN payloads AS p ON p.path = r.path "
                f"WHERE r.domain=? AND r.context='' AND r.parser_version=? AND p.memo IS NOT NULL "
                f"AND r.path IN ({','.join('?' * len(batch))})",
                (domain, parser_version, *batch),
            )
            found.update((path, (payload, memo)) for path, payload, memo in rows)
        return found

    def first_passes(self, domain: str, parser_version: str) -> FirstPasses:
        """The rows of ``domain`` holding a final first-pass result (no catalog context) of ``parser_version``:
        the summary the parse cache holds for that content and dialect, read in one pass over the domain
        instead of a lookup per file. Summaries come without ``defines``; rows with no errors, warnings
        or catalog dependencies (most of them) come as plain figures, not decoded."""
        rows = self.file.db().execute(
            "SELECT path, sha256, dialect, statements, column_edges, errors, dependencies, warnings FROM results "
            "WHERE domain=? AND context='' AND final=1 AND parser_version=?",
            (domain, parser_version),
        )
        first = FirstPasses([], {})
        for path, sha256, dialect, statements, column_edges, errors, dependencies, warnings in rows:
            if errors == "[]" and dependencies == "[]" and warnings == "[]":
                first.plain.append((path, sha256, dialect, statements, column_edges))
            else:
                first.decoded[path] = (sha256, dialect, Summary(
                    statements, column_edges, issues_from_json(errors), (),
                    () if dependencies == "[]" else tuple(json.loads(dependencies)), issues_from_json(warnings),
                ))
        return first

    def issues(self, domain: str) -> Iterator[FileIssues]:
        """Statements, errors and warnings of every file of ``domain``, by path, without decoding lineage."""
        rows = self.file.db().execute(
            "SELECT path, statements, errors, warnings FROM results WHERE domain=? ORDER BY path", (domain,)
        )
        for path, statements, errors, warnings in rows:
            yield FileIssues(path, statements, issues_from_json(errors), issues_from_json(warnings))

    def count(self, domain: str) -> int:
        """How many rows ``domain`` has (an index count: no row is read)."""
        return self.file.db().execute("SELECT COUNT(*) FROM results WHERE domain=?", (domain,)).fetchone()[0]

    def depends_on_catalog(self, domain: str) -> bool:
        """Whether a row of ``domain`` holds a lineage a catalog can change: one resolved against a catalog,
        or a first pass with catalog dependencies (a ``SELECT *`` or an unqualified column of a table the
        file does not define)."""
        row = self.file.db().execute(
            "SELECT 1 FROM results WHERE domain=? AND (context != '' OR dependencies != '[]') LIMIT 1", (domain,)
        ).fetchone()
        return row is not None

    def retain(self, domain: str, paths: Iterable[str]) -> int:
        """Drop the rows of ``domain`` whose path is not in ``paths`` (deleted files); returns how many."""
        keep = set(paths)
        rows = self.file.db().execute("SELECT path FROM results WHERE domain=?", (domain,))
        gone = [path for (path,) in rows if path not in keep]
        for batch in batched(gone, _BATCH):
            with self.file.transaction() as db:
                db.executemany("DELETE FROM results WHERE path=?", [(path,) for path in batch])
                db.executemany("DELETE FROM payloads WHERE path=?", [(path,) for path in batch])
        return len(gone)

    def read(self, paths: Iterable[str]) -> Iterator[FileLineage]:
        """The stored lineage of each of ``paths`` that has a row, in batches (never the whole domain at once)."""
        db = self.file.db()
        for batch in batched(paths, _BATCH):
            marks = ",".join("?" * len(batch))
            rows = dict(db.execute(f"SELECT path, payload FROM payloads WHERE path IN ({marks})", batch).fetchall())
            yield from (decode(rows[path], path) for path in batch if path in rows)

    def read_many(self, paths: Iterable[str]) -> Mapping[str, FileLineage]:
        """``read`` as a mapping path -> lineage."""
        return {lineage.path: lineage for lineage in self.read(paths)}
