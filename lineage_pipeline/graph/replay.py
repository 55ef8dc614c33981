"""Re-apply dead-lettered rows once their cause is fixed (``lineage replay-failed``).

Entries are applied one row per transaction, in statement order (nodes before the relationships
that need them); those that succeed leave the file, those that still fail stay with the new error.
Entries of files rewritten or deleted since were already dropped by that sync, so nothing stale
comes back.
"""

from dataclasses import dataclass, field

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend, WriteStats
from lineage_pipeline.graph.dead_letter import DeadLetter, DeadLetterFile
from lineage_pipeline.graph.faults import DEFAULT_RETRY, RetryPolicy, is_statement_error
from lineage_pipeline.graph.writer import GraphWriter, OrphanPolicy

_ORDER = {name: index for index, name in enumerate(cypher.STATEMENTS)}


class UnknownStatementError(ValueError):
    """A dead-letter entry names a statement this version does not have."""


@dataclass
class ReplayReport:
    """Entries applied and entries that still fail (with their new error)."""

    applied: list[DeadLetter] = field(default_factory=list)
    still_failing: list[DeadLetter] = field(default_factory=list)
    stats: WriteStats = field(default_factory=WriteStats)


def replay_failed(
    backend: GraphBackend,
    dead_letters: DeadLetterFile,
    retry: RetryPolicy = DEFAULT_RETRY,
    orphan_policy: OrphanPolicy = "remove",
    domain: str | None = None,
) -> ReplayReport:
    """Apply pending entries (of ``domain``, or all), then prune orphans; the file keeps only failures."""
    report = ReplayReport()
    writer = GraphWriter(backend, batch_size=1, retry=retry, orphan_policy=orphan_policy)
    with dead_letters.exclusive() as (entries, keep):
        unknown = sorted({e.statement for e in entries if e.statement not in cypher.STATEMENTS})
        if unknown:  # raising inside leaves the file as it was
            raise UnknownStatementError(f"{dead_letters.path} names unknown statement(s): {', '.join(unknown)}")
        replayed_domains = sorted({e.domain for e in entries if domain is None or e.domain == domain})
        for replayed in replayed_domains:  # a replay killed before its prune leaves these to be pruned next sync
            writer.mark_sync(replayed, True, report.stats)
        for entry in sorted(entries, key=lambda e: _ORDER[e.statement]):
            if domain is not None and entry.domain != domain:
                keep.append(entry)
                continue
            try:
                writer.write_batch(entry.statement, [entry.row], report.stats)
            except Exception as error:
                if is_statement_error(error):
                    raise
                failed = entry.model_copy(update={"error": f"{type(error).__name__}: {error}"})
                keep.append(failed)
                report.still_failing.append(failed)
            else:
                report.applied.append(entry)
        if report.applied:
            writer.prune_orphans(report.stats)
        for replayed in replayed_domains:
            writer.mark_sync(replayed, False, report.stats)
    return report
