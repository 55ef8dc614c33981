"""The ingest service: scan, parse and write one domain, without Dagster.

The three assets, the ``lineage`` command line and the benchmarks call these functions and nothing
else of the pipeline, so each of them ingests the same way. Each step returns a typed report; it is
the caller's to turn it into metadata, metrics or a table. Data flows one way: the scan's manifest is
saved, the parse reads it and fills the parse results store, the write reads the results store.
"""

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lineage_pipeline.corpus.manifest import (
    DomainManifest,
    ManifestFolder,
    build_manifest,
    update_manifest,
)
from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.faults import RetryPolicy, retrying_read
from lineage_pipeline.graph.file_facts import facts_of_rows, refresh_facts
from lineage_pipeline.graph.queries import graph_counts
from lineage_pipeline.graph.rows import FileGraph
from lineage_pipeline.graph.writer import OrphanPolicy, SyncReport
from lineage_pipeline.parsing import PARSER_VERSION, DialectSuggestion
from lineage_pipeline.pipeline.dialect_choice import AutoChoice, dialect_advice, resolve_auto_folders
from lineage_pipeline.pipeline.graph_stage import MissingParseResultError, current_revisions, sync_manifest
from lineage_pipeline.pipeline.parse_stage import (
    CatalogOutcome,
    ParseOptions,
    ParseOutcome,
    other_domain_files,
    parse_domain_files,
)
from lineage_pipeline.pipeline.progress import Progress
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusSpec:
    """The corpus on disk: where it is, which files count, which dialect each folder speaks."""

    root: Path
    extensions: list[str]
    folder_dialects: dict[str, str]
    default_dialect: str
    max_file_bytes: int


@dataclass(frozen=True)
class ScanReport:
    """A domain's fresh manifest, where it was saved, and how the scan got it."""

    manifest: DomainManifest
    manifest_path: Path
    mode: str
    """``full``, ``full (<why not incremental>)`` or ``incremental``."""
    changed_paths_named: int = 0
    content_changed: bool = True
    """Whether a file's path, content or dialect differs from the previous manifest's (or there was none,
    or the corpus root or dialect setup changed): False means the domain's files are as last scanned."""

    @property
    def dialects(self) -> dict[str, int]:
        return dict(Counter(entry.dialect for entry in self.manifest.files))


def scan_domain(
    domain: str, corpus: CorpusSpec, manifests: ManifestFolder, changed_paths: list[str] | None = None, *, walk: bool = True
) -> ScanReport:
    """Scan ``domain`` and save its manifest. With ``changed_paths`` (a sensor's batch) only those and
    files a metadata walk shows changed are re-read; else every file whose stat signature changed.
    ``walk=False``: the manifest ``scan_corpus`` saved for this ingest moments ago is taken as it is (the
    domain is walked once per ingest), unless there is none for this corpus root and dialect setup."""
    previous, why_not = None, "no previous manifest"
    try:
        previous = manifests.load(domain)
    except FileNotFoundError:
        pass
    except ValueError as error:  # unreadable: the scan re-reads every file, as if it had none
        log.warning("ignoring the unreadable previous manifest of domain %r: %s", domain, error)
        why_not = "previous manifest unreadable"
    root = corpus.root.resolve()
    kept = {folder: AutoChoice(*choice) for folder, choice in ((previous and previous.auto_dialects) or {}).items()}
    folder_dialects, auto = resolve_auto_folders(
        root, domain, corpus.extensions, corpus.folder_dialects, corpus.default_dialect, kept
    )
    same_setup = previous is not None and (previous.corpus_root, previous.folder_dialects, previous.default_dialect) == (
        str(root), folder_dialects, corpus.default_dialect
    )
    if not walk and previous is not None and same_setup and not auto:
        return ScanReport(previous, manifests.path(domain), "saved by this ingest's corpus scan", content_changed=False)
    if changed_paths is None or previous is None or Path(previous.corpus_root) != root:
        manifest = build_manifest(root, domain, corpus.extensions, folder_dialects, corpus.default_dialect, previous)
        if changed_paths is None:
            mode = "full"
        else:
            mode = f"full ({why_not})" if previous is None else "full (corpus root changed)"
    else:
        manifest = update_manifest(previous, root, changed_paths, corpus.extensions, folder_dialects, corpus.default_dialect)
        mode = "incremental"
    if auto:
        manifest = manifest.model_copy(
            update={"auto_dialects": {folder: (choice.dialect, choice.basis) for folder, choice in auto.items()}}
        )
    location = manifests.path(domain)
    if manifest != previous:  # a no-op scan writes nothing
        location = manifests.save(manifest)
    # signatures a scan records or drops (a file changed within the racy window) leave the content as it was
    changed = previous is None or not same_setup or (manifest != previous and _contents(previous) != _contents(manifest))
    return ScanReport(manifest, location, mode, len(set(changed_paths or [])), content_changed=changed)


def _contents(manifest: DomainManifest) -> list[tuple[str, str, str]]:
    return [(e.path, e.sha256, e.dialect) for e in manifest.files]


def scan_corpus(domains: list[str], corpus: CorpusSpec, manifests: ManifestFolder) -> Iterator[ScanReport]:
    """Scan every one of ``domains`` once, before their runs and before the no-op check
    (``lineage_is_current``): a run then takes its manifest from here (``scan_domain(walk=False)``), so each
    domain is walked once per ingest. Reports come one domain at a time, so a caller holds no more than
    one domain's manifest. A domain whose scan fails is left out (with a warning): its run scans it and
    fails there, naming the problem."""
    for domain in domains:
        try:
            report = scan_domain(domain, corpus, manifests)
        except (OSError, ValueError) as error:  # CorpusPathError is a ValueError
            log.warning("could not scan domain %r before its run (%s); the run scans it itself", domain, error)
            continue
        yield report


@dataclass(frozen=True)
class ParseReport:
    """What the parse of one domain did: the first pass, the catalog pass, the cache size afterwards."""

    outcome: ParseOutcome
    catalog: CatalogOutcome
    cache_entries: int
    dialect_advice: DialectSuggestion | None = None
    """Set when many statements failed: the dialect that reads a sample of the domain best."""


def parse_domain(
    domain: str,
    corpus: CorpusSpec,
    manifests: ManifestFolder,
    cache: ParseCache,
    results: ParseResults,
    options: ParseOptions,
    *,
    corpus_catalog: bool = True,
    progress: Progress | None = None,
) -> ParseReport:
    """Parse the domain's saved manifest into ``results``, resolving it against the corpus-wide catalog
    (``corpus_catalog``) or this domain's files only; ``progress`` hears of every file parsed."""
    manifest = manifests.load(domain)
    others = (
        other_domain_files(
            corpus.root.resolve(), domain, corpus.extensions, corpus.folder_dialects, corpus.default_dialect,
            manifests.directory,
        )
        if corpus_catalog
        else ()
    )
    outcome, catalog = parse_domain_files(manifest, others, cache, results, corpus.max_file_bytes, options, progress)
    failed = sum(1 for error in outcome.errors if error.statement is not None)
    advice = dialect_advice(corpus.root.resolve(), manifest, outcome.statements, failed)
    return ParseReport(outcome, catalog, cache.entry_count(), advice)


@dataclass(frozen=True)
class WriteOptions:
    """How a domain is written: rows per transaction, deletion guard, retries, orphans, pipelining."""

    batch_size: int
    max_delete_fraction: float
    retry: RetryPolicy
    orphan_policy: OrphanPolicy
    pipelined: bool
    force_delete: bool = False


@dataclass
class WriteReport:
    """What the write of one domain did, and the graph's size afterwards."""

    sync: SyncReport
    location: str
    seconds: float
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)


def write_domain(
    domain: str,
    manifests: ManifestFolder,
    results: ParseResults,
    backend: GraphBackend,
    options: WriteOptions,
    *,
    dead_letters: DeadLetterFile | None = None,
    run_id: str = "local",
    count_graph: bool = True,
    progress: Progress | None = None,
    warehouse_facts: WarehouseFacts | None = None,
    retire: bool = False,
) -> WriteReport:
    """Bring the domain's subgraph to its saved manifest from ``results``; rejected rows go to ``dead_letters``;
    ``progress`` hears of every file written. With ``warehouse_facts``, the facts of the files written or
    deleted follow the graph (the code location's warehouse assets come from them).
    ``retire``: the run retires the domain (its folder is gone), see ``graph_stage.sync_manifest``."""
    started = time.perf_counter()
    manifest = manifests.load(domain)
    # marked stale before the write: a write or refresh failing half way leaves the whole domain to be read
    facts_current = warehouse_facts is not None and warehouse_facts.begin_write(domain)
    # kept as JSON until the refresh: a file's facts take ~7 KB as objects, ~1 KB as JSON (20k-file domains)
    written_facts: dict[str, str] = {}

    def keep_facts(graphs: list[FileGraph]) -> None:
        written_facts.update((graph.path, facts_of_rows(graph, domain).model_dump_json()) for graph in graphs)

    sync = sync_manifest(
        manifest,
        results,
        backend,
        batch_size=options.batch_size,
        max_delete_fraction=options.max_delete_fraction,
        force=options.force_delete,
        retry=options.retry,
        orphan_policy=options.orphan_policy,
        dead_letters=dead_letters,
        run_id=run_id,
        pipelined=options.pipelined,
        progress=progress,
        retire=retire,
        on_rows=None if warehouse_facts is None else keep_facts,
    )
    if warehouse_facts is not None:
        for entry in sync.dead_lettered:  # the graph lacks rows of these files: their facts are read back
            written_facts.pop(entry.file or "", None)
        refresh_facts(
            warehouse_facts, backend, domain, sync.files_written, sync.files_deleted,
            whole=not facts_current, retired=not manifest.files, corpus_root=manifest.corpus_root, policy=options.retry,
            written_facts=written_facts,
        )
    report = WriteReport(sync, backend.location, time.perf_counter() - started)
    if count_graph:
        report.nodes, report.relationships = graph_counts(backend)
    return report


def lineage_is_current(
    manifest: DomainManifest,
    results: ParseResults,
    backend: GraphBackend,
    retry: RetryPolicy,
    *,
    warehouse_facts: WarehouseFacts | None = None,
) -> bool:
    """Whether the results store and the graph hold ``manifest`` exactly: every file has a final result of
    this parser version for its content, and the graph holds exactly those revisions with no interrupted
    sync; with ``warehouse_facts``, the domain's facts follow its graph too (a run that failed after its
    graph write leaves them stale). With a scan that found the domain's files as last scanned
    (``ScanReport.content_changed`` False), ingesting the domain would change nothing; only that for every
    domain of a corpus lets a caller skip the corpus (the catalog spans domains), or see
    ``lineage_stands_alone``."""
    if warehouse_facts is not None and not warehouse_facts.is_current(manifest.domain):
        return False
    try:
        stored = results.stored(manifest.domain)
        if any(not row.final or row.parser_version != PARSER_VERSION for row in stored.values()):
            return False
        current = current_revisions(manifest, results, stored=stored)
    except (MissingParseResultError, sqlite3.DatabaseError):  # a damaged store: the run repairs it
        return False
    ((dirty, paths, revisions),) = retrying_read(backend, cypher.SYNC_STATE, {"domain": manifest.domain}, retry)
    return not dirty and dict(zip(paths, revisions, strict=True)) == current


def lineage_stands_alone(domain: str, results: ParseResults) -> bool:
    """Whether no file of ``domain`` has a lineage the corpus catalog can change (``ParseResults.depends_on_catalog``).
    A domain whose scan found its files as last scanned, that is ``lineage_is_current`` and stands alone,
    stays current whatever the files of other domains define: an ingest in which other domains changed
    need not run it. A domain that depends on the catalog runs whenever any domain does, since a changed
    definition anywhere can change its lineage. A damaged store stands for nothing: the run repairs it."""
    try:
        return not results.depends_on_catalog(domain)
    except sqlite3.DatabaseError:
        return False


@dataclass
class IngestCheck:
    """What an ingest asks of each domain after its corpus scan (``scan_corpus``), each answer worked out
    once: is the domain current (the scan found its files as last scanned, and ``lineage_is_current``), and
    may it be left alone while other domains change (current, and ``lineage_stands_alone``)."""

    content_changed: Mapping[str, bool]
    """``ScanReport.content_changed`` by domain; a domain the scan left out is not current."""
    manifests: ManifestFolder
    results: ParseResults
    backend: GraphBackend
    retry: RetryPolicy
    warehouse_facts: WarehouseFacts | None = None
    _current: dict[str, bool] = field(default_factory=dict)

    def is_current(self, domain: str) -> bool:
        if domain not in self._current:
            self._current[domain] = self.content_changed.get(domain) is False and lineage_is_current(
                self.manifests.load(domain), self.results, self.backend, self.retry, warehouse_facts=self.warehouse_facts
            )
        return self._current[domain]

    def left_alone(self, domain: str) -> bool:
        return self.is_current(domain) and lineage_stands_alone(domain, self.results)
