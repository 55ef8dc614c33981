"""Parse a domain's manifest into the parse cache: cached content is reused, the rest is parsed in a pool.

Nothing here holds a whole corpus's lineage: cache lookups stream in batches, parsed results go to
the cache in batches as they arrive, and the outcome keeps only counts, timings and errors.
"""

import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from lineage_pipeline.corpus.manifest import DomainManifest, ManifestEntry
from lineage_pipeline.pipeline.parse_pool import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_FILE_TIMEOUT_S,
    FileTask,
    default_workers,
    reusable_pool,
)
from lineage_pipeline.stores.parse_cache import CacheKey, Encoded, IntegrityReport, ParseCache, Summary

_WRITE_BATCH = 200


@dataclass(frozen=True)
class FileError:
    """One problem in one file, located for a human: path, statement, line, message."""

    path: str
    statement: int | None
    line: int | None
    message: str


@dataclass(frozen=True)
class ParseOptions:
    """How misses are parsed: worker processes, files per chunk, and the per-file time limit."""

    workers: int = field(default_factory=default_workers)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    file_timeout_s: float = DEFAULT_FILE_TIMEOUT_S


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
    peak_rss_bytes: int = 0
    worker_peak_rss_bytes: int = 0
    cache_check: IntegrityReport | None = None

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


def parse_manifest(
    manifest: DomainManifest,
    cache: ParseCache,
    max_file_bytes: int,
    options: ParseOptions | None = None,
) -> ParseOutcome:
    """Make sure every manifest file has a result in ``cache`` and report on them.

    The cache is checked first (a damaged file is moved aside and rebuilt, never failing the run) and
    expired entries dropped.
    A file whose parse crashes or hangs a worker gets an error record; the others are unaffected.
    """
    options = options or ParseOptions()
    started = time.perf_counter()
    keep_since = cache.clock()
    outcome = ParseOutcome(cache_enabled=cache.enabled, cache_check=cache.verify_integrity())
    # TTL and stale parser versions only: LRU eviction here could take entries a concurrent run of
    # another domain has written and its graph stage has not read yet
    cache.prune(evict=False)
    entries = {entry.path: entry for entry in manifest.files}
    missed: list[ManifestEntry] = []
    for entry, (_, summary) in zip(manifest.files, cache.lookup(_key(e) for e in manifest.files)):
        if summary is None:
            missed.append(entry)
        else:
            outcome.hits += 1
            outcome._add(entry.path, summary)
    outcome.misses = len(missed)
    if missed:
        outcome.workers = min(options.workers, len(missed))
        pending: list[tuple[CacheKey, Encoded]] = []
        with reusable_pool(
            Path(manifest.corpus_root), max_file_bytes, outcome.workers, options.chunk_size, options.file_timeout_s
        ) as pool:
            for result in pool.parse(FileTask(e.path, e.dialect) for e in missed):
                outcome._add(result.task.path, result.encoded.summary)
                outcome.file_ms.append(result.ms)
                pending.append((_key(entries[result.task.path]), result.encoded))
                if len(pending) >= _WRITE_BATCH:
                    cache.put_encoded(pending, keep_since)
                    pending = []
            cache.put_encoded(pending, keep_since)
        outcome.worker_crashes = pool.stats.crashes
        outcome.worker_timeouts = pool.stats.timeouts
        outcome.worker_peak_rss_bytes = pool.stats.worker_peak_rss
    outcome.errors.sort(key=lambda e: (e.path, e.statement is not None, e.statement or 0))
    outcome.peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    outcome.seconds = time.perf_counter() - started
    return outcome


def _key(entry: ManifestEntry) -> CacheKey:
    return CacheKey(entry.sha256, entry.dialect)
