"""Parse one domain into the parse results store, in the order the steps run.

1. Check the stores: a damaged parse cache or results file is moved aside and rebuilt, never fatal.
2. First pass: every file of the domain is looked up in the parse cache (content + dialect + parser
   version); the misses are parsed in a worker pool.
3. Catalog, only if a file of the domain has lineage a catalog can change: the tables and views the
   whole corpus defines (first-pass facts, never decoded lineage; other domains' files the cache does
   not hold are parsed now), built once per corpus state and saved in the cache; table-defining files
   that depend on the catalog (a view over ``SELECT *``) are re-resolved while it grows (``ROUNDS``).
4. Resolution: each domain file whose lineage a catalog can change (``SELECT *``, columns without a
   table, INSERT without a column list) is re-parsed with just the catalog entries it depends on,
   cached under their fingerprint (the key's ``context``).
5. Hand-off: each file's chosen result (first pass or resolved) is in the parse results store under
   its key and whether it is final; rows of deleted files are dropped.

Nothing here holds a whole corpus's lineage: lookups stream in batches, parsed results are stored in
batches as they arrive, and the outcome keeps only counts, timings and errors. Limitation: a run of
domain D re-resolves only D's files; when a definition in another domain changes, D's dependent files
follow on D's next run (``lineage ingest`` runs every domain).
"""

import hashlib
import resource
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import DomainManifest, ManifestEntry, build_manifest, load_manifest
from lineage_pipeline.parsing import Catalog
from lineage_pipeline.pipeline.parse_pool import FileResult, FileTask, ParsePool, PoolKeeper, StartMethod
from lineage_pipeline.pipeline.progress import NoProgress, Progress
from lineage_pipeline.settings import knob_default
from lineage_pipeline.stores.parse_cache import TOUCH_AFTER_S, CacheKey, Encoded, ParseCache, Summary
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.sqlite_file import IntegrityReport, batched

ROUNDS = 3
"""Re-resolutions of table-defining files while the catalog still grows (a view over a ``SELECT *`` view)."""
_WRITE_BATCH = 200
_PREVIOUS_BATCH = 200
"""Files whose previous parse is read at once (a payload and a memo, ~1 KB each)."""
PRUNE_EVERY_S = 3600.0
"""A run prunes the cache (a scan of every entry) at most this often; entries live for days."""


@dataclass(frozen=True)
class ParseOptions:
    """How misses are parsed: worker processes, files per chunk, the per-file time limit, how a worker
    starts (``parse_pool.resolve_start_method``), and the keeper whose pool is reused across calls
    (None: ``parse_domain_files`` keeps one pool for the call and closes it at the end)."""

    workers: int = field(default_factory=lambda: knob_default("workers"))
    chunk_size: int = field(default_factory=lambda: knob_default("parse_chunk_size"))
    file_timeout_s: float = field(default_factory=lambda: knob_default("parse_file_timeout_s"))
    start_method: StartMethod = field(default_factory=lambda: knob_default("parse_worker_start"))
    pools: PoolKeeper | None = field(default=None, compare=False)

    def open_pool(self, root: Path, max_file_bytes: int, workers: int) -> AbstractContextManager[ParsePool]:
        assert self.pools is not None, "parse_domain_files gives every call a keeper"
        return self.pools.pool(root, max_file_bytes, workers, self.chunk_size, self.file_timeout_s, self.start_method)


@dataclass(frozen=True)
class FileError:
    """One problem in one file, located for a human: path, statement, line, message."""

    path: str
    statement: int | None
    line: int | None
    message: str


@dataclass
class ParseOutcome:
    """Counts, timings and errors of one domain's parse (the lineage itself is in the results store)."""

    files: int = 0
    hits: int = 0
    misses: int = 0
    statements: int = 0
    column_edges: int = 0
    errors: list[FileError] = field(default_factory=list)
    warnings: list[FileError] = field(default_factory=list)
    """What a file's lineage is missing or assumed (opaque commands, unresolved columns, ...)."""
    seconds: float = 0.0
    file_ms: list[float] = field(default_factory=list)
    workers: int = 0
    cache_enabled: bool = True
    worker_crashes: int = 0
    worker_timeouts: int = 0
    workers_forked: int = 0
    workers_spawned: int = 0
    """Workers this parse started, by how (a kept pool's workers are not counted again)."""
    peak_rss_bytes: int = 0
    worker_peak_rss_bytes: int = 0
    cache_check: IntegrityReport | None = None
    results_check: IntegrityReport | None = None
    provisional: list[str] = field(default_factory=list)
    """Files whose result is good for this run only (crash, timeout, edited during the run)."""
    results_written: int = 0
    """Rows of the results store this parse wrote (a no-op writes none)."""
    statements_reused: int = 0
    """Statements of the files parsed that were taken from their previous parse, not read again."""

    @property
    def hit_rate(self) -> float:
        return round(self.hits / self.files, 4) if self.files else 0.0

    @property
    def files_per_second(self) -> float:
        return round(self.files / self.seconds, 1) if self.seconds else 0.0

    def percentile_ms(self, q: int) -> float:
        """The ``q``-th percentile of per-file parse time of the files parsed in this run (0 if none)."""
        if not self.file_ms:
            return 0.0
        if len(self.file_ms) == 1:
            return round(self.file_ms[0], 2)
        return round(statistics.quantiles(self.file_ms, n=100, method="inclusive")[q - 1], 2)

    def add_plain(self, files: int, statements: int, column_edges: int) -> None:
        """Count ``files`` without errors or warnings, with these figures summed."""
        self.files += files
        self.statements += statements
        self.column_edges += column_edges

    def add(self, path: str, summary: Summary) -> None:
        self.files += 1
        self.statements += summary.statements
        self.column_edges += summary.column_edges
        self.errors += [FileError(path, i.statement, i.line, i.message) for i in summary.errors]
        self.warnings += [FileError(path, i.statement, i.line, i.message) for i in summary.warnings]

    def replace(self, path: str, old: Summary, new: Summary) -> None:
        """Report ``new`` instead of ``old`` for ``path`` (its catalog-resolved result replaces the first pass)."""
        self.statements += new.statements - old.statements
        self.column_edges += new.column_edges - old.column_edges
        self.errors = [e for e in self.errors if e.path != path]
        self.errors += [FileError(path, i.statement, i.line, i.message) for i in new.errors]
        self.warnings = [e for e in self.warnings if e.path != path]
        self.warnings += [FileError(path, i.statement, i.line, i.message) for i in new.warnings]


@dataclass
class CatalogOutcome:
    """What the catalog pass did for one domain."""

    corpus_files: int = 0
    """Files of the whole corpus the catalog was built from (0: no catalog was needed)."""
    catalog_needed: bool = False
    """A file of the domain has lineage a catalog can change; without one, no catalog is built or read."""
    catalog_reused: bool = False
    """The catalog of this corpus state was saved by an earlier run and reused (no other domain read)."""
    corpus_files_parsed: int = 0
    """First-pass parses of other domains' files this run needed (their cache misses)."""
    catalog_tables: int = 0
    files_resolved: int = 0
    """Files of the domain whose lineage is the catalog-resolved one."""
    resolved_hits: int = 0
    resolved_parsed: int = 0
    """Catalog-resolved parses run now (the domain's files and table-defining files of any domain)."""
    column_edges_added: int = 0
    """Column edges resolution added to the domain's files, compared with their first pass."""
    file_ms: list[float] = field(default_factory=list)
    """Per-file time of every parse this pass ran (first passes of other domains' files and resolutions)."""
    seconds: float = 0.0


class FileRef(NamedTuple):
    """What the catalog pass needs of another domain's file (a ``ManifestEntry`` takes ~5x the memory)."""

    path: str
    sha256: str
    dialect: str


class OtherDomain(NamedTuple):
    """Another domain's files as the catalog pass sees them."""

    domain: str
    files: list[FileRef]


FileEntry = ManifestEntry | FileRef


def other_domain_files(
    root: Path,
    domain: str,
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
    manifests_dir: Path,
) -> Iterator[OtherDomain]:
    """Every other domain of the corpus as it is on disk now, one at a time, cut to what the catalog pass
    reads: a stat walk against its saved manifest (which, possibly stale, only lets unchanged files skip
    hashing; nothing is saved). Read only when a catalog or an eviction needs it (``_Corpus``)."""
    for other in discover_domains(root, extensions):
        if other == domain:
            continue
        try:
            previous: DomainManifest | None = load_manifest(manifests_dir, other)
        except (FileNotFoundError, ValueError):  # missing or unreadable: scan from scratch
            previous = None
        fresh = build_manifest(root, other, extensions, folder_dialects, default_dialect, previous=previous)
        yield OtherDomain(other, [FileRef(e.path, e.sha256, e.dialect) for e in fresh.files])


def corpus_digest(manifests: Iterable[DomainManifest | OtherDomain], parser_version: str) -> str:
    """Digest of the corpus state a catalog is built from: every file's path, content and dialect, and
    the parser version (equal digests give equal catalogs)."""
    files = sorted((e.path, e.sha256, e.dialect) for m in manifests for e in m.files)
    digest = hashlib.sha256(parser_version.encode())
    for path, sha256, dialect in files:
        digest.update(f"\0{path}\0{sha256}\0{dialect}".encode())
    return digest.hexdigest()


def first_pass_key(entry: FileEntry) -> CacheKey:
    return CacheKey(entry.sha256, entry.dialect)


# -- the parse ---------------------------------------------------------------------------------------


def parse_domain_files(
    manifest: DomainManifest,
    others: Iterable[DomainManifest | OtherDomain],
    cache: ParseCache,
    results: ParseResults,
    max_file_bytes: int,
    options: ParseOptions | None = None,
    progress: Progress | None = None,
) -> tuple[ParseOutcome, CatalogOutcome]:
    """Bring the results store to one result per file of ``manifest`` (steps 1-5 of the module doc).

    The ``ParseOutcome`` counts the first pass's hits and misses and the final lineage's statements,
    column edges and errors; the ``CatalogOutcome`` describes the catalog pass over ``others``.
    ``progress`` hears of every file parsed.
    """
    options = options or ParseOptions()
    if options.pools is None:
        with PoolKeeper() as pools:
            return parse_domain_files(
                manifest, others, cache, results, max_file_bytes, replace(options, pools=pools), progress
            )
    started = time.perf_counter()
    # 1. stores
    outcome = ParseOutcome(
        cache_enabled=cache.enabled, cache_check=cache.verify_integrity(), results_check=results.verify_integrity()
    )
    cache.prune(every_s=PRUNE_EVERY_S)
    corpus = _Corpus(manifest, others)
    report = CatalogOutcome()
    entries: dict[str, FileEntry] = {e.path: e for e in manifest.files}
    parser = _StoringParser(manifest, cache, results, max_file_bytes, options, corpus, progress or NoProgress())

    # 2. first pass of the domain's files (what each defines is decoded only if a catalog is built)
    stored = _stored_first_passes(entries, manifest.domain, cache, results)
    own = stored.summaries  # every file's summary but the plain ones from the results store
    from_results = set(own) | stored.plain
    unknown = [e for e in manifest.files if e.path not in from_results]
    missed: list[ManifestEntry] = []
    for entry, (_, summary) in zip(unknown, cache.lookup((first_pass_key(e) for e in unknown), defines=False), strict=True):
        if summary is None:
            missed.append(entry)
        else:
            own[entry.path] = summary
    outcome.hits, outcome.misses = len(from_results) + len(unknown) - len(missed), len(missed)
    missed_paths = {e.path for e in missed}
    tasks = [(FileTask(e.path, e.dialect, sha256=e.sha256), first_pass_key(e)) for e in missed]
    # an edited file's last parse: its statements that did not change are taken over, not read again
    # (a disabled cache means a fresh parse of every file the run reads: nothing is taken over then)
    earlier = partial(results.previous, manifest.domain, parser_version=cache.parser_version) if cache.enabled else None
    for result in parser.parse(tasks, "parse", previous=earlier):
        own[result.task.path] = result.encoded.summary
        outcome.file_ms.append(result.ms)
        outcome.statements_reused += result.encoded.reused
    outcome.add_plain(len(stored.plain), stored.statements, stored.column_edges)
    for entry in manifest.files:
        summary = own.get(entry.path)
        if summary is not None:
            outcome.add(entry.path, summary)

    # 3. catalog: only a domain with a file whose lineage a catalog can change needs one
    catalog_started = time.perf_counter()
    resolver = _Resolver(entries, cache, parser, report)
    report.catalog_needed = any(summary.dependencies for summary in own.values())
    catalog = Catalog({})
    if report.catalog_needed:
        others = corpus.others()
        report.corpus_files = len(manifest.files) + sum(len(o.files) for o in others)
        digest = corpus_digest([manifest, *others], cache.parser_version)
        saved = cache.load_catalog(digest)
        if saved is not None:
            catalog = Catalog(saved)
            report.catalog_reused = True
        else:
            looked_up = [FileRef(e.path, e.sha256, e.dialect) for e in manifest.files if e.path not in missed_paths]
            catalog = _build_catalog(manifest, looked_up, own, others, cache, parser, resolver, report)
            # a result of a crashed or hung worker says nothing about its file: do not keep what it left out
            if not (parser.crashes or parser.timeouts):
                cache.save_catalog(digest, catalog)
        report.catalog_tables = len(catalog)

    # 4. resolution of the domain's own files
    subsets = {path: catalog.subset(s.dependencies) for path, s in own.items() if s.dependencies}
    subsets = {path: subset for path, subset in subsets.items() if len(subset)}
    resolved = resolver.resolve(subsets)
    report.files_resolved = len(resolved)
    report.column_edges_added = sum(s.column_edges - own[path].column_edges for path, s in resolved.items())
    for path, summary in resolved.items():
        outcome.replace(path, own[path], summary)
    outcome.errors.sort(key=lambda e: (e.path, e.statement is not None, e.statement or 0))

    # 5. hand-off: a file whose first pass came from its results row and stays its lineage needs nothing
    kept = from_results - set(resolved)
    chosen = {
        e.path: CacheKey(e.sha256, e.dialect, subsets[e.path].fingerprint() if e.path in resolved else "")
        for e in manifest.files
        if e.path not in kept
    }
    _hand_off(manifest, chosen, subsets, cache, results, parser)
    # every file of the manifest has its row now: only more rows than files means some are of files gone
    if results.count(manifest.domain) > len(entries):
        results.retain(manifest.domain, entries)

    outcome.workers = parser.workers
    outcome.worker_crashes, outcome.worker_timeouts = parser.crashes, parser.timeouts
    outcome.workers_forked, outcome.workers_spawned = parser.forked, parser.spawned
    outcome.worker_peak_rss_bytes = parser.worker_peak_rss
    outcome.provisional = sorted(path for path, (_, final) in parser.written.items() if not final)
    outcome.results_written = parser.results_written
    outcome.peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report.seconds = time.perf_counter() - catalog_started
    outcome.seconds = time.perf_counter() - started
    return outcome, report


class _FromResults(NamedTuple):
    """The first passes the results store holds for the domain's files as scanned."""

    summaries: dict[str, Summary]
    """Decoded, of the files with errors, warnings or catalog dependencies."""
    plain: set[str]
    """The other files: only their figures count, summed here (no object per file: ~2 us each at 100k)."""
    statements: int = 0
    column_edges: int = 0


def _stored_first_passes(
    entries: Mapping[str, FileEntry], domain: str, cache: ParseCache, results: ParseResults
) -> _FromResults:
    """The first-pass summaries the results store holds for the domain's files (``entries``) as scanned:
    the cache's for the same key, without a lookup per file (an unchanged file of a 100k corpus cost ~8 us).
    Not with the cache disabled (nothing is reused then), nor when the domain's cache entries are due for
    their hourly touch (``TOUCH_AFTER_S``): that run looks them all up, which keeps them from expiring."""
    if not cache.enabled or cache.due(f"touched_at:{domain}", TOUCH_AFTER_S):
        return _FromResults({}, set())
    first = results.first_passes(domain, cache.parser_version)

    def as_scanned(path: str, sha256: str, dialect: str) -> bool:
        entry = entries.get(path)
        return entry is not None and entry.sha256 == sha256 and entry.dialect == dialect

    summaries = {
        path: summary for path, (sha256, dialect, summary) in first.decoded.items() if as_scanned(path, sha256, dialect)
    }
    plain, statements, column_edges = set(), 0, 0
    for path, sha256, dialect, file_statements, file_column_edges in first.plain:
        if as_scanned(path, sha256, dialect):
            plain.add(path)
            statements += file_statements
            column_edges += file_column_edges
    cache.count_hits(len(summaries) + len(plain))
    return _FromResults(summaries, plain, statements, column_edges)


class _Corpus(Collection[tuple[str, str]]):
    """The other domains, read only when asked for (the catalog, or an eviction), and as a collection the
    (sha256, dialect) of every file of the corpus: what the cache evicts last."""

    def __init__(self, manifest: DomainManifest, others: Iterable[DomainManifest | OtherDomain]):
        self._manifest, self._source = manifest, others
        self._others: list[DomainManifest | OtherDomain] | None = None
        self._live: set[tuple[str, str]] | None = None

    def others(self) -> list[DomainManifest | OtherDomain]:
        if self._others is None:
            self._others = [other for other in self._source if other.domain != self._manifest.domain]
        return self._others

    def _keys(self) -> set[tuple[str, str]]:
        if self._live is None:
            self._live = {(e.sha256, e.dialect) for m in (self._manifest, *self.others()) for e in m.files}
        return self._live

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def _hand_off(
    manifest: DomainManifest,
    chosen: dict[str, CacheKey],
    subsets: dict[str, Catalog],
    cache: ParseCache,
    results: ParseResults,
    parser: "_StoringParser",
) -> None:
    """Make the results row of each file of ``chosen`` (the files not known to hold their key already) hold
    its chosen key: written by this run's parses already, kept from an earlier run (same key, parser
    version, final), copied from the cache, or parsed again when the cache no longer holds it (evicted
    during this run, or disabled)."""
    candidates = list(chosen)
    few = len(candidates) < len(manifest.files)
    stored = results.stored(manifest.domain, candidates) if few else results.stored(manifest.domain)
    todo = []
    for path in candidates:
        key = chosen[path]
        written = parser.written.get(path)
        if written is not None and written[0] == key:
            continue
        row = stored.get(path)
        if written is None and row is not None and row.key == key and row.final and row.parser_version == cache.parser_version:
            continue
        todo.append(path)
    if not todo:
        return
    copied = set()
    if cache.enabled:
        wanted = {chosen[path]: path for path in todo}
        copies = [(wanted[key], key, encoded, True) for key, encoded in cache.encoded(wanted)]
        parser.results_written += results.put(manifest.domain, cache.parser_version, copies)
        copied = {path for path, _, _, _ in copies}
    entries: dict[str, FileEntry] = {e.path: e for e in manifest.files}
    reparse = []
    for path in todo:
        if path in copied:
            continue
        entry, subset = entries[path], subsets.get(path)
        tables = None if not chosen[path].context or subset is None else {name: subset[name] for name in subset}
        reparse.append((FileTask(path, entry.dialect, tables, entry.sha256), chosen[path]))
    for _ in parser.parse(reparse, "parse again (evicted)"):
        pass


class _WithPrevious(Sized, Iterable[FileTask]):
    """``tasks`` given each file's previous parse, read a batch at a time as they are taken. Sized, like
    the list it wraps, so the pool's chunks still shrink towards the end."""

    def __init__(self, tasks: list[FileTask], previous: Callable[[list[str]], Mapping[str, tuple[bytes, bytes]]]):
        self.tasks, self.previous = tasks, previous

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[FileTask]:
        for batch in batched(self.tasks, _PREVIOUS_BATCH):
            found = self.previous([task.path for task in batch])
            yield from (replace(task, previous=found.get(task.path)) for task in batch)


class _StoringParser:
    """Parses tasks in a pool and stores each result as it arrives, in batches: reusable ones in the
    parse cache, the domain's own files' in the results store (``written``: path -> (key, final))."""

    def __init__(
        self,
        manifest: DomainManifest,
        cache: ParseCache,
        results: ParseResults,
        max_file_bytes: int,
        options: ParseOptions,
        live: Collection[tuple[str, str]] | None,
        progress: Progress,
    ):
        self.root, self.domain = Path(manifest.corpus_root), manifest.domain
        self.progress = progress
        self.own = {e.path for e in manifest.files}
        self.cache, self.results, self.max_file_bytes = cache, results, max_file_bytes
        self.options, self.live = options, live
        self.workers = self.crashes = self.timeouts = self.worker_peak_rss = self.forked = self.spawned = 0
        self.results_written = 0
        self.written: dict[str, tuple[CacheKey, bool]] = {}

    def parse(
        self,
        items: list[tuple[FileTask, CacheKey]],
        step: str,
        previous: Callable[[list[str]], Mapping[str, tuple[bytes, bytes]]] | None = None,
    ) -> Iterator[FileResult]:
        """Parse ``items`` and yield each result once it is parsed; all are stored when the generator ends.
        ``previous(paths)``: the last parse of those files (``ParseResults.previous``), read for each batch of
        tasks as the pool takes it, so what a mass edit holds of earlier parses stays bounded."""
        if not items:
            return
        self.progress.begin(step, len(items))
        if not self.workers:
            # sized by the first batch: a pool re-sized later would lose the kept workers
            self.workers = min(self.options.workers, len(items))
        keys = {task.path: key for task, key in items}
        cached: list[tuple[CacheKey, Encoded]] = []
        handed: list[tuple[str, CacheKey, Encoded, bool]] = []
        with self.options.open_pool(self.root, self.max_file_bytes, self.workers) as pool:
            tasks = [task for task, _ in items]
            for result in pool.parse(tasks if previous is None else _WithPrevious(tasks, previous)):
                key, final = keys[result.task.path], result.encoded.reusable
                cached.append((key, result.encoded))
                if result.task.path in self.own:
                    handed.append((result.task.path, key, result.encoded, final))
                    self.written[result.task.path] = (key, final)
                if len(cached) >= _WRITE_BATCH:
                    self._store(cached, handed)
                    cached, handed = [], []
                self.progress.advance()
                yield result
            self._store(cached, handed)
            self.progress.end()
            self.crashes += pool.stats.crashes
            self.timeouts += pool.stats.timeouts
            self.forked += pool.stats.forked
            self.spawned += pool.stats.spawned
            self.worker_peak_rss = max(self.worker_peak_rss, pool.stats.worker_peak_rss)

    def _store(self, cached: list[tuple[CacheKey, Encoded]], handed: list[tuple[str, CacheKey, Encoded, bool]]) -> None:
        self.cache.put_encoded(cached, self.live)
        self.results_written += self.results.put(self.domain, self.cache.parser_version, handed)


def _build_catalog(
    manifest: DomainManifest,
    looked_up: list[FileRef],
    own: dict[str, Summary],
    others: list[DomainManifest | OtherDomain],
    cache: ParseCache,
    parser: "_StoringParser",
    resolver: "_Resolver",
    report: CatalogOutcome,
) -> Catalog:
    """The catalog of the corpus from every file's first-pass facts: the domain's files parsed now, those it
    looked up (decoded again, with what they define), and the other domains' (cached, else parsed now)."""
    facts = _CatalogFacts()
    decoded_without_defines = {ref.path for ref in looked_up}
    for path, summary in own.items():
        if path not in decoded_without_defines:
            facts.note(path, summary)
    also = _missing_first_passes([OtherDomain(manifest.domain, looked_up), *others], cache, facts)
    report.corpus_files_parsed = sum(1 for e in also if e.path not in own)
    tasks = [(FileTask(e.path, e.dialect, sha256=e.sha256), first_pass_key(e)) for e in also]
    for result in parser.parse(tasks, "parse (catalog)"):
        facts.note(result.task.path, result.encoded.summary)
        report.file_ms.append(result.ms)
    # only files the rounds may re-resolve are kept, so memory does not grow with the corpus
    resolver.entries.update((e.path, e) for o in others for e in o.files if e.path in facts.dependent_definers)
    return _resolve_rounds(facts, resolver)


@dataclass
class _CatalogFacts:
    """What the catalog is built from: each table-defining file's definitions, and the dependencies of
    those whose definitions a catalog can change (a view over ``SELECT *``)."""

    defines: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    dependent_definers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def note(self, path: str, summary: Summary) -> None:
        if summary.defines:
            self.defines[path] = dict(summary.defines)
            if summary.dependencies:
                self.dependent_definers[path] = summary.dependencies


def _missing_first_passes(
    others: list[DomainManifest | OtherDomain], cache: ParseCache, facts: _CatalogFacts
) -> list[FileEntry]:
    """Note the cached first-pass facts of the ``others`` domains' files; return the files with none."""
    missing: list[FileEntry] = []
    for other in others:
        files: Sequence[FileEntry] = other.files
        keys = (first_pass_key(e) for e in files)
        for entry, (_, summary) in zip(files, cache.lookup(keys, count=False), strict=True):
            if summary is None:
                missing.append(entry)
            else:
                facts.note(entry.path, summary)
    return missing


def _resolve_rounds(facts: _CatalogFacts, resolver: "_Resolver") -> Catalog:
    """The corpus catalog from every file's first-pass facts, with table-defining files that depend on a
    catalog re-resolved while it grows (``ROUNDS`` at most)."""
    catalog = _catalog(facts.defines)
    used: dict[str, str] = {}
    for _ in range(ROUNDS):
        todo = {}
        for path, dependencies in facts.dependent_definers.items():
            subset = catalog.subset(dependencies)
            if len(subset) and used.get(path) != subset.fingerprint():
                todo[path], used[path] = subset, subset.fingerprint()
        if not todo:
            break
        for path, summary in resolver.resolve(todo).items():
            if summary.defines:
                facts.defines[path] = dict(summary.defines)
        rebuilt = _catalog(facts.defines)
        if rebuilt.fingerprint() == catalog.fingerprint():
            break
        catalog = rebuilt
    return catalog


def _catalog(defines: dict[str, dict[str, tuple[str, ...]]]) -> Catalog:
    """Later paths win, as in ``build_catalog`` over files in path order; a definition whose columns
    are not known yet is no entry."""
    tables: dict[str, tuple[str, ...]] = {}
    for path in sorted(defines):
        tables.update((table, columns) for table, columns in defines[path].items() if columns)
    return Catalog(tables)


class _Resolver:
    """Cached catalog-resolved summaries: a hit under (content, dialect, subset fingerprint), else a
    parse in the pool with that subset, stored under the same key."""

    def __init__(self, entries: dict[str, FileEntry], cache: ParseCache, parser: _StoringParser, report: CatalogOutcome):
        self.entries, self.cache, self.parser, self.report = dict(entries), cache, parser, report

    def resolve(self, subsets: dict[str, Catalog]) -> dict[str, Summary]:
        keys = {
            path: CacheKey(self.entries[path].sha256, self.entries[path].dialect, subset.fingerprint())
            for path, subset in subsets.items()
        }
        found: dict[str, Summary] = {}
        missed = []
        for path, (_, summary) in zip(keys, self.cache.lookup(keys.values(), count=False), strict=True):
            if summary is None:
                tables = {name: subsets[path][name] for name in subsets[path]}
                entry = self.entries[path]
                missed.append((FileTask(path, entry.dialect, tables, entry.sha256), keys[path]))
            else:
                found[path] = summary
        self.report.resolved_hits += len(found)
        self.report.resolved_parsed += len(missed)
        for result in self.parser.parse(missed, "resolve with catalog"):
            found[result.task.path] = result.encoded.summary
            self.report.file_ms.append(result.ms)
        return found
