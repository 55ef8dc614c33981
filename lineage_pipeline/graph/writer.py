"""Bring a domain's subgraph to exactly the lineage of its current files, in batched transactions.

Order matters for readers and for crashes: a changed file's new relationships are written before its
old-revision relationships are removed (its lineage never disappears), and its ``SqlFile.rev`` is set
last, so a run that dies half-way leaves the file looking stale and the next run redoes it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend, WriteStats
from lineage_pipeline.graph.rows import RELATIONSHIP_TYPES, FileGraph


GUARD_MIN_FILES = 5
"""Deleting fewer files than this is never suspicious, whatever the share."""


class DeletionGuardError(RuntimeError):
    """A sync would delete a suspicious share of a domain's files (e.g. a wrong corpus path)."""


@dataclass
class SyncReport:
    """What one domain sync did."""

    domain: str
    files_written: list[str] = field(default_factory=list)
    files_deleted: list[str] = field(default_factory=list)
    files_unchanged: int = 0
    stats: WriteStats = field(default_factory=WriteStats)


def _batches(rows: Sequence, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class GraphWriter:
    """Writes FileGraph rows to a backend with one transaction per batch of ``batch_size`` rows."""

    def __init__(self, backend: GraphBackend, batch_size: int = 1000):
        self.backend = backend
        self.batch_size = batch_size

    def _write_rows(self, query: str, rows: Sequence, stats: WriteStats, key: str = "rows") -> None:
        for batch in _batches(rows, self.batch_size):
            stats.add(self.backend.write(query, {key: batch}))

    def file_revisions(self, domain: str) -> dict[str, str | None]:
        """Path -> committed revision of every file the graph holds for ``domain``."""
        return {path: rev for path, rev in self.backend.read(cypher.FILE_REVISIONS, {"domain": domain})}

    def write_files(self, graphs: Sequence[FileGraph], stats: WriteStats) -> None:
        """Replace the lineage of each file with the rows given (new edges first, then stale removal)."""
        if not graphs:
            return
        self._write_rows(cypher.MERGE_FILES, [g.file for g in graphs], stats)
        tables = {key: row for g in graphs for key, row in g.tables.items() if row["kind"] != "view"}
        tables.update({key: row for g in graphs for key, row in g.tables.items() if row["kind"] == "view"})
        self._write_rows(cypher.MERGE_TABLES, sorted(tables.values(), key=lambda r: r["key"]), stats)
        columns = {key: row for g in graphs for key, row in g.columns.items()}
        self._write_rows(cypher.MERGE_COLUMNS, sorted(columns.values(), key=lambda r: r["key"]), stats)
        for rel_type in RELATIONSHIP_TYPES:
            rows = sorted((row for g in graphs for row in g.relationships[rel_type]), key=lambda r: (r["src"], r["dst"]))
            self._write_rows(cypher.merge_relationships(rel_type), rows, stats)
        revisions = [{"path": g.path, "rev": g.rev} for g in graphs]
        for rel_type in RELATIONSHIP_TYPES:
            self._write_rows(cypher.delete_stale_relationships(rel_type), revisions, stats)
        self._write_rows(cypher.COMMIT_FILES, [g.file for g in graphs], stats)

    def delete_files(self, paths: Sequence[str], stats: WriteStats) -> None:
        """Remove every relationship that came from ``paths`` and their SqlFile nodes."""
        if not paths:
            return
        for rel_type in RELATIONSHIP_TYPES:
            self._write_rows(cypher.delete_file_relationships(rel_type), paths, stats, key="paths")
        self._write_rows(cypher.DELETE_FILES, paths, stats, key="paths")

    def prune_orphans(self, stats: WriteStats) -> None:
        """Remove Column and Table nodes no file refers to any more."""
        stats.add(self.backend.write(cypher.DELETE_ORPHAN_COLUMNS))
        stats.add(self.backend.write(cypher.DELETE_ORPHAN_TABLES))

    def sync_domain(
        self,
        domain: str,
        current: dict[str, str],
        graphs_for: Callable[[list[str]], list[FileGraph]],
        max_delete_fraction: float = 0.5,
        force: bool = False,
    ) -> SyncReport:
        """Make the graph hold exactly the files in ``current`` (path -> rev) for ``domain``.

        ``graphs_for(paths)`` builds the rows of the files that need writing; unchanged files cost a
        revision comparison only, and a sync with nothing to do writes nothing.
        """
        report = SyncReport(domain=domain)
        stored = self.file_revisions(domain)
        changed = sorted(path for path, rev in current.items() if stored.get(path) != rev)
        deleted = sorted(path for path in stored if path not in current)
        report.files_unchanged = len(current) - len(changed)
        suspicious = len(deleted) >= GUARD_MIN_FILES and len(deleted) > max_delete_fraction * len(stored)
        if suspicious and not force:
            raise DeletionGuardError(
                f"refusing to delete {len(deleted)} of {len(stored)} files of domain {domain!r} from the graph "
                f"(more than {max_delete_fraction:.0%}); check the corpus path, or force the sync"
            )
        self.write_files(graphs_for(changed), report.stats)
        self.delete_files(deleted, report.stats)
        if changed or deleted:
            self.prune_orphans(report.stats)
        report.files_written, report.files_deleted = changed, deleted
        return report
