"""Bring a domain's subgraph to exactly the lineage of its current files, in batched transactions.

Order matters for readers and for crashes: nodes are written before the relationships that need
them; a changed file's new relationships are written before its old-revision relationships are
removed (its lineage never disappears); and its ``SqlFile.rev`` is set last, so a run that dies
half-way leaves the file looking stale and the next run redoes it. Every statement is idempotent,
which is what makes retrying a write whose outcome is unknown (server killed mid-reply) safe.

Faults: every store call goes through one retry layer (``faults.call_with_retry``: backoff, reconnect,
a total deadline, one-line GraphStoreDown/GraphStoreFull at the end). A batch the store rejects - or
that drops the connection every time it is sent, as a row crashing the server does - is split
progressively to isolate the rows at fault, which go to the dead-letter file while the rest of the
batch is written. Rows whose keys the stores cannot hold (``keys.row_problem``) are dead-lettered
without being sent. A file's rejected rows are in the dead-letter file before its revision is
committed, so a run that cannot record them (e.g. disk full) leaves the file to be redone.
"""

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, Literal

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend, Write, WriteResult, WriteStats
from lineage_pipeline.graph.dead_letter import (
    DeadLetter,
    DeadLetterFile,
    dead_letter_entry,
)
from lineage_pipeline.graph.faults import (
    DEFAULT_RETRY,
    RetryPolicy,
    RowsNotApplied,
    call_with_retry,
    is_statement_error,
    is_transient,
    one_line,
)
from lineage_pipeline.graph.keys import (
    InvalidKeyError,
    RowCheck,
    key_problem,
    row_problem,
)
from lineage_pipeline.graph.rows import RELATIONSHIP_TYPES, FileGraph, table_of

log = logging.getLogger(__name__)

GUARD_MIN_FILES = 5
"""Deleting fewer files than this is never suspicious, whatever the share."""

OrphanPolicy = Literal["remove", "mark"]

_NODE_STATEMENTS = {"SqlFile": ("files", "path"), "Table": ("tables", "key"), "Column": ("columns", "key")}
"""Node label -> (statement that merges it, key property of its rows)."""

PRUNE_CHUNK = 5000
"""Candidate keys per scoped orphan statement (keeps a mass deletion's parameter lists bounded)."""

Candidates = dict[str, set[str]]
"""Orphan label -> keys of the nodes a sync may have left without relationships."""

LOST_CONNECTION_LIMIT = 2
"""A batch that breaks the connection this many times in a row, the store back in between, is treated
as crashing the server and split (one kill -9 from outside during a batch is retried as transient)."""


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
    retries: int = 0
    dead_lettered: list[DeadLetter] = field(default_factory=list)
    orphans: int = 0


def _orphan_endpoints(statement: str, row: dict) -> list[tuple[str, str]]:
    """(label, key) of each endpoint of a ``merge:<TYPE>`` relationship row that a prune may remove."""
    src_label, _, dst_label, _ = cypher.RELATIONSHIP_ENDPOINTS[statement.partition(":")[2]]
    ends = ((src_label, row.get("src")), (dst_label, row.get("dst")))
    return [(label, key) for label, key in ends if label in cypher.ORPHAN_LABELS and key is not None]


def idempotent(name: str) -> str:
    """The statement that redoes a batch of ``name`` safely: a ``create:`` batch that failed or applied
    only some rows may have created relationships already, so it is redone as a MERGE."""
    return f"merge:{name.removeprefix('create:')}" if name.startswith("create:") else name


def creating(
    statements: list[tuple[str, list]], created: Collection[str], *, every_file: bool = False
) -> list[tuple[str, list]]:
    """``statements`` with the relationship rows of ``created`` files (none of their relationships of the
    revision being written exists: their SqlFile node was made by this sync, or the domain's last sync
    completed) moved from ``merge:<TYPE>`` to ``create:<TYPE>``; ``every_file``: every row's file is one
    of them, so no row is looked at."""
    if not (created or every_file):
        return statements
    out: list[tuple[str, list]] = []
    for name, rows in statements:
        if not name.startswith("merge:"):
            out.append((name, rows))
            continue
        if every_file:
            out.append((f"create:{name.removeprefix('merge:')}", rows))
            continue
        new = [row for row in rows if row["file"] in created]
        old = [row for row in rows if row["file"] not in created]
        out += [(n, r) for n, r in ((f"create:{name.removeprefix('merge:')}", new), (name, old)) if r]
    return out


def _add_candidates(candidates: Candidates, label: str, keys: Iterable[str]) -> None:
    """Add ``label`` nodes to the prune candidates, each column with its table: a table may hang on its
    columns' HAS_COLUMN edges only."""
    if label not in candidates:
        return
    keys = list(keys)
    candidates[label].update(keys)
    if label == "Column":
        candidates["Table"].update(table_of(key) for key in keys)


def split_sizes(batch_size: int) -> list[int]:
    """Chunk sizes a failing batch is split into, largest first: 100 -> [50, 10, 1], 1000 -> [500, 100, 10, 1]."""
    sizes = {batch_size // 2}
    step = batch_size // 10
    while step >= 1:
        sizes.add(step)
        step //= 10
    return sorted((s for s in sizes | {1} if 1 <= s < batch_size), reverse=True)


_ENDPOINTS = itemgetter("src", "dst")


def file_statements(graphs: Sequence[FileGraph], held: Collection[str] | None = None) -> list[tuple[str, list]]:
    """(statement name, rows) that replace the files' lineage, in the order they must be applied.

    ``held``: the paths the graph holds a SqlFile node for (None: unknown). A file it does not hold has
    no old relationships to remove: a SqlFile node is merged before its file's first relationship and
    deleted after its last one.
    """
    if not graphs:
        return []
    tables = {key: row for g in graphs for key, row in g.tables.items() if row["kind"] != "view"}
    tables.update({key: row for g in graphs for key, row in g.tables.items() if row["kind"] == "view"})
    columns = {key: row for g in graphs for key, row in g.columns.items()}
    statements = [
        ("files", [g.file for g in graphs]),
        ("tables", sorted(tables.values(), key=lambda r: r["key"])),
        ("columns", sorted(columns.values(), key=lambda r: r["key"])),
    ]
    for rel_type in RELATIONSHIP_TYPES:
        # sorted by endpoints so concurrent Neo4j transactions lock nodes in the same order
        rows = sorted([row for g in graphs for row in g.relationships[rel_type]], key=_ENDPOINTS)
        statements.append((f"merge:{rel_type}", rows))
    revisions = [{"path": g.path, "rev": g.rev} for g in graphs if held is None or g.path in held]
    if revisions:
        statements += [(f"stale:{rel_type}", revisions) for rel_type in RELATIONSHIP_TYPES]
    statements.append(("commit", [g.file for g in graphs]))
    return statements


def _phases(statements: list[tuple[str, list]]) -> list[list[tuple[str, list]]]:
    """``statements`` cut where the store must have applied everything before (new relationships before
    old ones are removed, all of them before the revision commit), so a write stream never runs ahead
    across a cut: a batch redone after a failure cannot land after the statements meant to follow it."""

    def phase(statement: tuple[str, list]) -> str:
        name = statement[0]
        if name == "files":  # alone: which files it created decides how their relationships are written
            return "files"
        return "stale" if name.startswith("stale:") else "commit" if name == "commit" else "merge"

    return [list(group) for _, group in groupby(statements, key=phase)]


@dataclass
class PreparedFiles:
    """What ``GraphWriter.write_prepared`` writes for a chunk of files: their statements in order, rows
    breaking a key rule taken out (``refused``: statement, row, problem), and the node rows by label and
    key (``_heal`` re-merges an endpoint from them)."""

    statements: list[tuple[str, list]]
    refused: list[tuple[str, Any, str]]
    node_rows: dict[str, dict[str, dict]]


def _screen(check: RowCheck, name: str, rows: Sequence) -> tuple[list, list[tuple[str, Any, str]]]:
    """``rows`` of statement ``name`` that pass ``check``, and (name, row, problem) of those that do not."""
    admitted, refused = [], []
    for row in rows:
        problem = check(name, row)
        if problem is None:
            admitted.append(row)
        else:
            refused.append((name, row, problem))
    return admitted, refused


def _batches(rows: Sequence, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class GraphWriter:
    """Writes FileGraph rows to a backend with one transaction per batch of ``batch_size`` rows; ``pipelined``:
    a file's statements go through the store's write stream (``write_streamed``), else one write at a time."""

    def __init__(
        self,
        backend: GraphBackend,
        batch_size: int = 1000,
        retry: RetryPolicy = DEFAULT_RETRY,
        orphan_policy: OrphanPolicy = "remove",
        dead_letters: DeadLetterFile | None = None,
        run_id: str = "local",
        sleep: Callable[[float], None] = time.sleep,
        overlap_files: int = 500,
        pipelined: bool = True,
        row_check: RowCheck = row_problem,
    ):
        if orphan_policy not in ("remove", "mark"):
            raise ValueError(f"orphan_policy must be 'remove' or 'mark', got {orphan_policy!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.backend = backend
        self.batch_size = batch_size
        self.retry = retry
        self.orphan_policy = orphan_policy
        self.dead_letters = dead_letters
        self.run_id = run_id
        self.overlap_files = overlap_files
        self.pipelined = pipelined
        self.row_check = row_check
        self._sleep = sleep
        self._domain = ""
        self._rejected: list[DeadLetter] = []
        self._recorded = 0
        """How many of ``_rejected`` are already in the dead-letter file."""
        self._rejected_nodes: set[tuple[str, Any]] = set()
        """(label, key) of the node rows rejected this sync."""
        self._node_rows: dict[str, dict[str, dict]] = {}
        self._removed: Candidates | None = None
        """Endpoints of the relationships this sync removed (None: it prunes the whole graph)."""
        self._held: set[str] | None = None
        self._created: set[str] = set()
        """Paths whose SqlFile node this ``write_files`` call created (``cypher.MERGE_FILES``)."""
        self._clean_start = False
        """The domain's sync marker was clean when this sync began: no relationship of any revision it
        writes exists yet (a completed sync removed every edge of another revision than the file's), so
        a changed file's relationships are created beside the old ones, whose stale removal follows."""
        self.retries = 0

    # -- transport -------------------------------------------------------------------------

    def _on_retry(self, error: BaseException, delay: float) -> None:
        self.retries += 1
        log.warning("graph store %s: %s; retry in %.2fs", self.backend.location, one_line(error), delay)

    def _retrying(self, operation: Callable[[], Any], lost_connection_limit: int = 0) -> Any:
        return call_with_retry(
            operation, self.retry, self.backend.recover, self._on_retry, self._sleep,
            location=self.backend.location, lost_connection_limit=lost_connection_limit,
        )

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """A read, retried like writes."""
        return self._retrying(lambda: self.backend.read(query, params))

    def write_batch(self, name: str, rows: list, stats: WriteStats) -> None:
        """One transaction of statement ``name`` (retried if transient); raises if the store rejects it,
        if a row breaks a key rule (InvalidKeyError, nothing sent) or if the batch keeps dropping the
        connection (ConnectionLostOnBatch)."""
        for row in rows:  # replay and healing send rows that did not come through write_files' check
            problem = self.row_check(name, row)
            if problem is not None:
                raise InvalidKeyError(problem)
        query, params = cypher.batch_write(name, rows)
        if name != idempotent(name):
            try:  # once only: a retry after an unanswered CREATE could create its relationships twice
                result = self.backend.write(query, params)
            except Exception as error:
                if not is_transient(error):
                    raise  # a rejection: the caller splits the batch and redoes it as a MERGE
                self._on_retry(error, 0.0)
                self.write_batch(idempotent(name), rows, stats)
                return
        else:
            result = self._retrying(lambda: self.backend.write(query, params), LOST_CONNECTION_LIMIT)
        stats.add(result.stats)
        self._note_removed(name, result)
        if result.applied is not None and result.applied < len(rows):
            raise RowsNotApplied(
                f"{name}: {len(rows) - result.applied} of {len(rows)} row(s) found no node to attach to "
                "(a node they need is missing)"
            )

    def _write_isolating(self, name: str, rows: list, stats: WriteStats, sizes: list[int]) -> None:
        """Write ``rows``; if the store rejects them, retry smaller chunks and dead-letter rows failing alone."""
        try:
            self.write_batch(name, rows, stats)
            return
        except Exception as error:
            if is_statement_error(error):
                raise
            name = idempotent(name)  # what a failed or short CREATE batch applied stays applied
            if len(rows) == 1:
                if isinstance(error, RowsNotApplied) and self._heal(name, rows[0], stats):
                    return
                self._reject(name, rows[0], error)
                return
            log.warning("graph store rejected a batch of %d %s rows (%s); splitting it", len(rows), name, error)
        smaller = [s for s in sizes if s < len(rows)]
        for chunk in _batches(rows, smaller[0]):
            self._write_isolating(name, chunk, stats, smaller)

    def _heal(self, name: str, row: dict, stats: WriteStats) -> bool:
        """Re-merge the endpoints of a relationship row that found one missing, then retry it once.

        Another domain's sync may have pruned a node this sync merged moments ago (it had no edges yet);
        re-merging it from this sync's own rows closes that race. A node the store rejects stays missing.
        """
        if not name.startswith("merge:"):
            return False
        src_label, _, dst_label, _ = cypher.RELATIONSHIP_ENDPOINTS[name.removeprefix("merge:")]
        try:
            for label, key in ((src_label, row["src"]), (dst_label, row["dst"])):
                if (label, key) in self._rejected_nodes:
                    return False  # the store refused (or crashed on) that node this sync: re-sending it cannot help
                node = self._node_rows.get(label, {}).get(key)
                if node is not None:
                    self.write_batch(_NODE_STATEMENTS[label][0], [node], stats)
            self.write_batch(name, [row], stats)
        except Exception as error:
            if is_statement_error(error):
                raise
            return False
        return True

    def _reject(self, name: str, row: Any, error: BaseException) -> None:
        self._rejected.append(dead_letter_entry(name, row, error, self.run_id, self._domain))
        for label, (statement, key) in _NODE_STATEMENTS.items():
            if statement == name and isinstance(row, dict):
                self._rejected_nodes.add((label, row.get(key)))
        log.error("graph store rejected a row of %s: %s", name, one_line(error))

    def admit(self, name: str, rows: Sequence) -> list:
        """``rows`` without those breaking a key rule, which are dead-lettered here, never sent: the
        embedded FalkorDB crashes on some keys (``keys``), taking every innocent row in flight with it."""
        admitted, refused = _screen(self.row_check, name, rows)
        for _, row, problem in refused:
            self._reject(name, row, InvalidKeyError(problem))
        return admitted

    def write_rows(self, name: str, rows: Sequence, stats: WriteStats) -> None:
        """All ``rows`` of statement ``name``, ``batch_size`` per transaction, rejected rows isolated."""
        sizes = split_sizes(self.batch_size)
        for batch in _batches(rows, self.batch_size):
            self._write_isolating(name, batch, stats, sizes)

    def write_streamed(self, statements: Sequence[tuple[str, Sequence]], stats: WriteStats) -> None:
        """Every batch of ``statements``, in order, through the store's write stream (the next batch is
        encoded while the store runs this one); a batch that fails or applies fewer rows than it has is
        redone on its own by ``write_rows``' path: retried, split, its bad rows dead-lettered.

        Should the stream itself raise (a store that cannot even hand out a connection), the batches it
        sent are redone the same way and the rest streamed again, so no store call escapes the retry
        layer; at least one batch goes through that layer per break, so a store that stays down ends the
        sync with its GraphStoreDown."""
        queue: deque[tuple[str, list]] = deque(
            (name, batch) for name, rows in statements for batch in _batches(rows, self.batch_size)
        )
        sizes = split_sizes(self.batch_size)
        while queue:
            sent: deque[tuple[str, list]] = deque()

            def writes(sent: deque[tuple[str, list]] = sent) -> Iterator[Write]:
                while queue:
                    name, batch = queue.popleft()
                    sent.append((name, batch))
                    yield cypher.batch_write(name, batch)

            try:
                for outcome in self.backend.write_stream(writes()):
                    name, rows = sent.popleft()
                    self._stream_outcome(name, rows, outcome, stats, sizes)
            except Exception as error:
                if not is_transient(error):
                    raise
                self._on_retry(error, 0.0)
                redo = list(sent) or ([queue.popleft()] if queue else [])
                for name, rows in redo:
                    self._write_isolating(idempotent(name), rows, stats, sizes)

    def _stream_outcome(
        self, name: str, rows: list, outcome: WriteResult | Exception, stats: WriteStats, sizes: list[int]
    ) -> None:
        if isinstance(outcome, WriteResult):
            stats.add(outcome.stats)  # what a short batch applied stays applied; the redo is idempotent
            self._note_removed(name, outcome)
            if outcome.applied is None or outcome.applied >= len(rows):
                return
        elif is_transient(outcome):
            self._on_retry(outcome, 0.0)  # the redo below retries it with backoff and reconnects
        elif is_statement_error(outcome):
            raise outcome
        self._write_isolating(idempotent(name), rows, stats, sizes)

    def _note_removed(self, name: str, result: WriteResult) -> None:
        """Keep the paths whose SqlFile node a ``files`` batch created, and the endpoints a relationship
        removal returned (``stale:``/``unlink:``): they are what the scoped prune checks."""
        if name == "files" and result.records and isinstance(result.records[0][0], list):
            self._created.update(path for path in result.records[0][0] if path is not None)
            return
        removal, _, rel_type = name.partition(":")
        if self._removed is None or removal not in ("stale", "unlink") or not result.records:
            return
        src_label, _, dst_label, _ = cypher.RELATIONSHIP_ENDPOINTS[rel_type]
        sources, targets = result.records[0]
        for label, keys in ((src_label, sources), (dst_label, targets)):
            _add_candidates(self._removed, label, keys)

    # -- sync steps ------------------------------------------------------------------------

    def sync_state(self, domain: str) -> tuple[dict[str, str], bool]:
        """Path -> committed revision of every file the graph holds for ``domain``, and whether an earlier
        write to it may have left orphans (its sync did not reach a completed prune), in one read."""
        ((dirty, paths, revisions),) = self.read(cypher.SYNC_STATE, {"domain": domain})
        return dict(zip(paths, revisions, strict=True)), bool(dirty)

    def mark_sync(self, domain: str, dirty: bool, stats: WriteStats) -> None:
        """Flag ``domain`` dirty before writing (a crash then forces the next sync to prune) or clean after."""
        problem = key_problem(domain)
        if problem is not None:  # the domain is a SyncState key: the same rules as any node key
            raise InvalidKeyError(f"domain name: {problem}")
        query = cypher.MARK_SYNC_DIRTY if dirty else cypher.MARK_SYNC_CLEAN
        stats.add(self._retrying(lambda: self.backend.write(query, {"domain": domain})).stats)

    def prepare(self, graphs: Sequence[FileGraph]) -> PreparedFiles:
        """The statements that replace the lineage of ``graphs``' files, each row key-checked; changes nothing
        of the writer, so the next chunk is prepared in a thread while this one is written."""
        statements: list[tuple[str, list]] = []
        refused: list[tuple[str, Any, str]] = []
        for name, rows in file_statements(graphs, self._held):
            admitted, refused_here = _screen(self.row_check, name, rows)
            statements.append((name, admitted))
            refused += refused_here
        by_name = dict(statements)
        node_rows = {
            label: {row[key]: row for row in by_name.get(name, [])} for label, (name, key) in _NODE_STATEMENTS.items()
        }
        return PreparedFiles(statements, refused, node_rows)

    def write_files(self, graphs: Sequence[FileGraph], stats: WriteStats) -> None:
        """Replace the lineage of each file with the rows given (new edges first, then stale removal)."""
        self.write_prepared(self.prepare(graphs), stats)

    def write_prepared(self, prepared: PreparedFiles, stats: WriteStats) -> None:
        """``write_files`` of a ``prepare`` result: refused rows are dead-lettered, the rest written."""
        for name, row, problem in prepared.refused:
            self._reject(name, row, InvalidKeyError(problem))
        statements = prepared.statements
        self._node_rows = prepared.node_rows
        self._created = set()
        for phase in _phases(statements):
            # after a clean start every file's relationships are created (``_clean_start``), else those
            # of the files whose SqlFile node this write created
            phase = creating(phase, self._created, every_file=self._clean_start)
            if phase[0][0] == "commit":
                self.record_rejected()  # before the commit: a file whose rejected rows are not recorded stays uncommitted
            if not self.pipelined:
                for name, rows in phase:
                    self.write_rows(name, rows, stats)
            else:
                self.write_streamed(phase, stats)
        if self._removed is not None and any(self._removed.values()):
            self._drop_written_endpoints(statements, self._removed)

    @staticmethod
    def _drop_written_endpoints(statements: list[tuple[str, list]], candidates: Candidates) -> None:
        """A candidate this sync wrote a relationship to keeps it (a rejected one is added back by
        ``_add_rejected_endpoints``), so the prune checks only the nodes a file stopped naming."""
        for name, rows in statements:
            for row in rows if name.startswith(("merge:", "create:")) else ():
                for label, key in _orphan_endpoints(name, row):
                    candidates[label].discard(key)

    def _write_changed(self, paths: list[str], graphs_for: Callable[[list[str]], list[FileGraph]], stats: WriteStats) -> None:
        """Chunks of ``overlap_files`` files (0: all at once), chunk N+1's rows built, turned into statements
        and key-checked (``prepare``) in a thread while chunk N is written; chunking keeps a large domain's
        rows from all being in memory at once, and each chunk keeps the per-file write order."""
        size = self.overlap_files
        if not size or len(paths) <= size:
            self.write_files(graphs_for(paths), stats)
            return
        chunks = [paths[start : start + size] for start in range(0, len(paths), size)]

        def prepared(chunk: list[str]) -> PreparedFiles:
            return self.prepare(graphs_for(chunk))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-rows") as pool:
            pending = pool.submit(prepared, chunks[0])
            for following in [*chunks[1:], None]:
                ready = pending.result()
                if following is not None:
                    pending = pool.submit(prepared, following)
                self.write_prepared(ready, stats)

    def delete_files(self, paths: Sequence[str], stats: WriteStats) -> None:
        """Remove every relationship that came from ``paths`` and their SqlFile nodes."""
        if not paths:
            return
        for rel_type in RELATIONSHIP_TYPES:
            self.write_rows(f"unlink:{rel_type}", self.admit(f"unlink:{rel_type}", paths), stats)
        self.write_rows("delete_files", self.admit("delete_files", paths), stats)

    def record_rejected(self) -> None:
        """Append the rows rejected since the last call to the dead-letter file (all or none of them)."""
        if self.dead_letters is not None and len(self._rejected) > self._recorded:
            self.dead_letters.append(self._rejected[self._recorded :])
        self._recorded = len(self._rejected)

    def _add_rejected_endpoints(self, candidates: Candidates) -> None:
        """Every node row comes with a relationship row of the same file (``rows.build_file_graph``), so a
        node this sync merged can be left orphaned only by its relationship rows being rejected: the
        endpoints of those rows (and a column's table) are the merged nodes a full prune could find."""
        for letter in self._rejected:
            if letter.statement.startswith("merge:") and isinstance(letter.row, dict):
                for label, key in _orphan_endpoints(letter.statement, letter.row):
                    if key_problem(key) is None:  # a key no store can hold was never sent: no node to prune
                        _add_candidates(candidates, label, [key])

    def _record_rejected_after_failure(self) -> None:
        """Record what was rejected before a failure, never lost; if even that fails (e.g. disk full),
        the failure being handled is the one to report: log this one. The files those rows belong to
        are uncommitted (rows are recorded before each commit), so the next run redoes them."""
        try:
            self.record_rejected()
        except OSError as error:
            unrecorded = len(self._rejected) - self._recorded
            log.error("cannot record %d rejected row(s) in the dead-letter file: %s", unrecorded, one_line(error))

    def prune_orphans(self, stats: WriteStats, candidates: Candidates | None = None) -> int:
        """Remove (or mark) Column and Table nodes no file refers to: all of them, or only ``candidates``.

        Reads first, so no orphans = no write. Columns go first: a table may lose its last edge with them.
        """
        found = 0
        unmarked_only = self.orphan_policy == "mark"
        for label in cypher.ORPHAN_LABELS:
            if candidates is None:
                count_query = cypher.count_orphans(label, unmarked_only)
                found += self._prune(count_query, self._orphan_write(label, False), None, stats)
                continue
            keys = sorted(candidates.get(label, ()))
            for batch in _batches(keys, PRUNE_CHUNK):
                count_query = cypher.count_orphans_among(label, unmarked_only)
                found += self._prune(count_query, self._orphan_write(label, True), {"keys": batch}, stats)
        return found

    def _orphan_write(self, label: str, scoped: bool) -> str:
        if self.orphan_policy == "remove":
            return cypher.delete_orphans_among(label) if scoped else cypher.delete_orphans(label)
        return cypher.mark_orphans_among(label) if scoped else cypher.mark_orphans(label)

    def _prune(self, count_query: str, write_query: str, params: dict | None, stats: WriteStats) -> int:
        count = int(self.read(count_query, params)[0][0])
        if count:
            stats.add(self._retrying(lambda: self.backend.write(write_query, params)).stats)
        return count

    def sync_domain(
        self,
        domain: str,
        current: Mapping[str, str] | Callable[[], Mapping[str, str]],
        graphs_for: Callable[[list[str]], list[FileGraph]],
        max_delete_fraction: float = 0.5,
        force: bool = False,
    ) -> SyncReport:
        """Make the graph hold exactly the files in ``current`` (path -> rev) for ``domain``; given as a
        function, it is called while the graph's state of the domain is read (the two cost about the same
        at 20k files: one waits on the store, the other reads the results store).

        ``graphs_for(paths)`` builds the rows of the files that need writing; unchanged files cost a
        revision comparison only, and a sync with nothing to do costs one read and writes nothing.
        A sync that writes marks the domain dirty first and clean once its orphan prune is done, so
        orphans left by a run killed in between are pruned by the next sync even when no file changed.
        A sync starting clean prunes only the endpoints of the relationships it removed (the removal
        statements return them) and of rows the store rejected; one starting dirty prunes the whole
        graph, since the killed run's candidates are unknown.
        """
        report = SyncReport(domain=domain)
        self._domain, self._rejected, self._recorded, self.retries = domain, [], 0, 0
        self._rejected_nodes = set()
        if callable(current):
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-state") as pool:
                state = pool.submit(self.sync_state, domain)
                current = current()
                stored, dirty = state.result()
        else:
            stored, dirty = self.sync_state(domain)
        changed = sorted(path for path, rev in current.items() if stored.get(path) != rev)
        deleted = sorted(path for path in stored if path not in current)
        report.files_unchanged = len(current) - len(changed)
        suspicious = len(deleted) >= GUARD_MIN_FILES and len(deleted) > max_delete_fraction * len(stored)
        if suspicious and not force:
            raise DeletionGuardError(
                f"refusing to delete {len(deleted)} of {len(stored)} files of domain {domain!r} from the graph "
                f"(more than {max_delete_fraction:.0%}); check the corpus path, or force the sync"
            )
        if not (changed or deleted or dirty):
            return report
        if self.dead_letters is not None:
            # the rows of a file being rewritten or deleted are superseded by this sync
            self.dead_letters.discard_files(changed + deleted)
        try:
            self._removed = None if dirty else {label: set() for label in cypher.ORPHAN_LABELS}
            self._held, self._clean_start = set(stored), not dirty
            self.mark_sync(domain, True, report.stats)
            self._write_changed(changed, graphs_for, report.stats)
            self.delete_files(deleted, report.stats)
            if self._removed is not None:
                self._add_rejected_endpoints(self._removed)
            report.orphans = self.prune_orphans(report.stats, self._removed)
            self.mark_sync(domain, False, report.stats)
        except BaseException:
            self._record_rejected_after_failure()
            raise
        else:
            self.record_rejected()
        finally:
            self._removed, self._held, self._clean_start = None, None, False
            report.dead_lettered, report.retries = list(self._rejected), self.retries
        report.files_written, report.files_deleted = changed, deleted
        return report

    def retire_domain(self, domain: str) -> SyncReport:
        """Remove everything of ``domain`` from the graph: its files with their relationships, the nodes
        that leaves orphaned (orphan policy), its dead-letter entries and finally its sync marker.

        Safe to re-run after a failure at any point: until the marker is gone the domain still shows
        in ``consistency.unexpected_domains``, and a marker left dirty makes the re-run prune the whole
        graph. The deletion guard does not apply: retiring is the explicit request to delete it all.
        """
        report = self.sync_domain(domain, {}, lambda paths: [], force=True)
        if self.dead_letters is not None:
            self.dead_letters.discard_domain(domain)
        report.stats.add(self._retrying(lambda: self.backend.write(cypher.DELETE_SYNC_STATE, {"domain": domain})).stats)
        return report
