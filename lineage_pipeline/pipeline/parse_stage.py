"""Parse a domain's manifest into the parse cache: cached content is reused, the rest is parsed in a pool.

Nothing here holds a whole corpus's lineage: cache lookups stream in batches, parsed results go to
the cache in batches as they arrive, and the outcome keeps only counts, timings and errors.
"""

import resource
import statistics
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from lineage_pipeline.corpus.manifest import DomainManifest, ManifestEntry
from lineage_pipeline.pipeline.parse_pool import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_FILE_TIMEOUT_S,
    FileResult,
    FileTask,
    ParsePool,
    StartMethod,
    default_workers,
    reusable_pool,
)
from lineage_pipeline.stores.parse_cache import CacheKey, Encoded, IntegrityReport, ParseCache, Summary

_WRITE_BATCH = 200

ONCE_MARK = "~once"


def once_context(context: str) -> str:
    """The context a result good for this run only is stored under (a crashed or hung worker's error
    record, lineage of content that changed after the scan): a file's graph revision includes its
    context, so a later reusable result of the same content is written over it, never taken as the same."""
    return f"{context}{ONCE_MARK}"


@dataclass(frozen=True)
class FileError:
    """One problem in one file, located for a human: path, statement, line, message."""

    path: str
    statement: int | None
    line: int | None
    message: str


@dataclass(frozen=True)
class ParseOptions:
    """How misses are parsed: worker processes, files per chunk, the per-file time limit, and how a
    worker starts (``parse_pool.resolve_start_method``)."""

    workers: int = field(default_factory=default_workers)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    file_timeout_s: float = DEFAULT_FILE_TIMEOUT_S
    start_method: StartMethod = "auto"


@dataclass
class ParseOutcome:
    """Counts, timings and errors of one domain's parse (not the lineage itself: that is in the cache)."""

    files: int = 0
    hits: int = 0
    misses: int = 0
    statements: int = 0
    column_edges: int = 0
    errors: list[FileError] = field(default_factory=list)
    seconds: float = 0.0
    file_ms: list[float] = field(default_factory=list)
    workers: int = 0
    cache_enabled: bool = True
    worker_crashes: int = 0
    worker_timeouts: int = 0
    workers_forked: int = 0
    workers_spawned: int = 0
    """Workers this parse started, by how (a reused pool's workers are not counted again)."""
    peak_rss_bytes: int = 0
    worker_peak_rss_bytes: int = 0
    cache_check: IntegrityReport | None = None
    once_contexts: dict[str, str] = field(default_factory=dict)
    """Files whose result is good for this run only, by the context it is stored under (``once_context``)."""

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

    def _add(self, path: str, summary: Summary) -> None:
        self.files += 1
        self.statements += summary.statements
        self.column_edges += summary.column_edges
        self.errors += [FileError(path, i.statement, i.line, i.message) for i in summary.errors]

    def replace(self, path: str, old: Summary, new: Summary) -> None:
        """Report ``new`` instead of ``old`` for ``path`` (its catalog-resolved result replaces the first pass)."""
        self.statements += new.statements - old.statements
        self.column_edges += new.column_edges - old.column_edges
        self.errors = [e for e in self.errors if e.path != path]
        self.errors += [FileError(path, i.statement, i.line, i.message) for i in new.errors]
        self.errors.sort(key=lambda e: (e.path, e.statement is not None, e.statement or 0))


class CachingParser:
    """Parses tasks in a pool opened on first use (``reusable_pool``) and stores every result in the
    cache under the task's key, in batches; pool figures add up over calls. Use as a context manager.
    ``live`` (the corpus's (sha256, dialect) pairs, when known) is what the cache's eviction keeps longest."""

    def __init__(
        self,
        root: Path,
        cache: ParseCache,
        max_file_bytes: int,
        options: ParseOptions,
        keep_since: float,
        live: Collection[tuple[str, str]] | None = None,
    ):
        self.root, self.cache, self.max_file_bytes = root, cache, max_file_bytes
        self.options, self.keep_since, self.live = options, keep_since, live
        self.workers = self.crashes = self.timeouts = self.worker_peak_rss = self.forked = self.spawned = 0
        self.once: dict[str, str] = {}
        """Path -> context of each result stored as good for this run only (``once_context``)."""
        self._stack = ExitStack()
        self._pool: ParsePool | None = None

    def __enter__(self) -> "CachingParser":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def parse(self, items: list[tuple[FileTask, CacheKey]]) -> Iterator[FileResult]:
        """Parse ``items`` and yield each result once it is parsed; all are stored when the generator ends."""
        if not items:
            return
        if self._pool is None:
            # sized by the first batch: a pool re-sized later would lose the reusable workers
            self.workers = min(self.options.workers, len(items))
            self._pool = self._stack.enter_context(reusable_pool(
                self.root, self.max_file_bytes, self.workers, self.options.chunk_size, self.options.file_timeout_s,
                self.options.start_method,
            ))
        keys = {task.path: key for task, key in items}
        pending: list[tuple[CacheKey, Encoded]] = []
        for result in self._pool.parse([task for task, _ in items]):  # a list: chunks shrink at its end
            key = keys[result.task.path]
            if not result.encoded.reusable:
                key = replace(key, context=once_context(key.context))
                self.once[result.task.path] = key.context
            pending.append((key, result.encoded))
            if len(pending) >= _WRITE_BATCH:
                self.cache.put_encoded(pending, self.keep_since, self.live)
                pending = []
            yield result
        self.cache.put_encoded(pending, self.keep_since, self.live)
        self.crashes += self._pool.stats.crashes
        self.timeouts += self._pool.stats.timeouts
        self.forked += self._pool.stats.forked
        self.spawned += self._pool.stats.spawned
        self.worker_peak_rss = max(self.worker_peak_rss, self._pool.stats.worker_peak_rss)


def prestart_workers(manifest: DomainManifest, cache: ParseCache, max_file_bytes: int, options: ParseOptions) -> bool:
    """Start the pool ``parse_manifest`` will use now, warmed up in the domain's dialects, if at least one
    file per worker misses the cache: the workers then start while the caller still scans and looks up.
    Returns whether it did (fewer misses would want a smaller pool, and no misses none)."""
    workers = min(options.workers, cache.missing([_key(e) for e in manifest.files]))
    if workers < options.workers:
        return False
    with reusable_pool(
        Path(manifest.corpus_root), max_file_bytes, workers, options.chunk_size, options.file_timeout_s,
        options.start_method,
    ) as pool:
        pool.start({e.dialect for e in manifest.files})
    return True


def parse_manifest(
    manifest: DomainManifest,
    cache: ParseCache,
    max_file_bytes: int,
    options: ParseOptions | None = None,
    on_summary: Callable[[str, Summary], None] | None = None,
    live: Collection[tuple[str, str]] | None = None,
    also: Sequence[ManifestEntry] = (),
    on_also: Callable[[FileResult], None] | None = None,
    cache_check: IntegrityReport | None = None,
) -> ParseOutcome:
    """Make sure every manifest file has a result in ``cache`` and report on them; ``on_summary(path,
    summary)`` sees each file's summary (cached or fresh), e.g. for the catalog pass; ``live`` as for
    ``CachingParser``. ``also`` (other domains' files the caller found missing from the cache) are
    parsed and stored in the same worker stream, each result handed to ``on_also``; they are not part
    of the outcome's counts, only of its worker crash and timeout counts.

    The cache is checked first (a damaged file is moved aside and rebuilt, never failing the run;
    ``cache_check`` is the caller's own check of it, if it made one) and expired entries dropped.
    A file whose parse crashes or hangs a worker gets an error record; the others are unaffected.
    """
    options = options or ParseOptions()
    started = time.perf_counter()
    keep_since = cache.clock()
    outcome = ParseOutcome(cache_enabled=cache.enabled, cache_check=cache_check or cache.verify_integrity())
    # TTL and stale parser versions only: LRU eviction here could take entries a concurrent run of
    # another domain has written and its graph stage has not read yet
    cache.prune(evict=False)
    missed: list[ManifestEntry] = []
    for entry, (_, summary) in zip(manifest.files, cache.lookup(_key(e) for e in manifest.files)):
        if summary is None:
            missed.append(entry)
        else:
            outcome.hits += 1
            outcome._add(entry.path, summary)
            if on_summary is not None:
                on_summary(entry.path, summary)
    outcome.misses = len(missed)
    others = {e.path for e in also}
    # one stream for both: a worker never idles at the end of one list while the other waits
    tasks = [(FileTask(e.path, e.dialect, sha256=e.sha256), _key(e)) for e in (*missed, *also)]
    with CachingParser(Path(manifest.corpus_root), cache, max_file_bytes, options, keep_since, live) as parser:
        for result in parser.parse(tasks):
            if result.task.path in others:
                if on_also is not None:
                    on_also(result)
                continue
            outcome._add(result.task.path, result.encoded.summary)
            outcome.file_ms.append(result.ms)
            if on_summary is not None:
                on_summary(result.task.path, result.encoded.summary)
    outcome.workers = parser.workers
    outcome.once_contexts = {path: context for path, context in parser.once.items() if path not in others}
    outcome.worker_crashes = parser.crashes
    outcome.worker_timeouts = parser.timeouts
    outcome.workers_forked, outcome.workers_spawned = parser.forked, parser.spawned
    outcome.worker_peak_rss_bytes = parser.worker_peak_rss
    outcome.errors.sort(key=lambda e: (e.path, e.statement is not None, e.statement or 0))
    outcome.peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    outcome.seconds = time.perf_counter() - started
    return outcome


def _key(entry: ManifestEntry) -> CacheKey:
    return CacheKey(entry.sha256, entry.dialect)
