"""The pipeline's Prometheus metrics and the functions every stage calls to record them.

Metrics live in prometheus-client's multiprocess mode (files under the metrics directory), because
ingestion runs as many short-lived processes: counters and histograms are summed across every
process that ever wrote them, live gauges across running processes, and ``lineage metrics serve``
exposes the aggregate. Each ``record_*`` call also goes to StatsD when a StatsD host is configured.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from lineage_pipeline.observability.multiproc import configure_multiprocess, register_exit_cleanup

METRICS_DIR = configure_multiprocess()
register_exit_cleanup()

from prometheus_client import Counter, Gauge, Histogram  # noqa: E402  (after the multiprocess set-up above)

from lineage_pipeline.observability.statsd import StatsdClient, client_from_settings  # noqa: E402

_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)

PARSE_CACHE_HIT = Counter("parse_cache_hit", "Files whose lineage came from the parse cache.")
PARSE_CACHE_MISS = Counter("parse_cache_miss", "Files that had to be parsed (not in the parse cache).")
EVENTS_DEDUPLICATED = Counter("events_deduplicated", "File-change events merged into an already pending change.")
FILES_PROCESSED = Counter("files_processed", "Files whose lineage a run produced (parsed or from the cache).")
FILES_FAILED = Counter("files_failed", "Files with at least one parse or read error.")
GRAPH_BATCH_WRITES = Counter("graph_batch_writes", "Write transactions sent to the graph store.")
GRAPH_ENTITIES_WRITTEN = Counter("graph_entities_written", "Nodes created in the graph store.")
GRAPH_RELATIONSHIPS_WRITTEN = Counter("graph_relationships_written", "Relationships created in the graph store.")
GRAPH_WRITE_RETRIES = Counter("graph_write_retries", "Graph writes retried after a transient error.")
DEAD_LETTER_ITEMS = Counter("dead_letter_items", "Rows written to the dead-letter file.")

BATCH_SIZE = Histogram("batch_size", "Changed files per processed batch (one ingest run).", buckets=_SIZE_BUCKETS)
BATCH_PROCESSING_DURATION = Histogram(
    "batch_processing_duration_seconds", "Seconds to bring the graph up to date with one batch.", buckets=_DURATION_BUCKETS
)
GRAPH_BATCH_DURATION = Histogram(
    "graph_batch_duration_seconds", "Seconds per graph write transaction.", buckets=_DURATION_BUCKETS
)
FILE_PARSE_DURATION = Histogram("file_parse_duration_seconds", "Seconds to parse one file.", buckets=_DURATION_BUCKETS)

FILES_PER_SECOND = Gauge(
    "files_processed_per_second", "Throughput of the most recent parse stage.", multiprocess_mode="mostrecent"
)
ACTIVE_WORKERS = Gauge("active_workers", "Parse workers busy right now, over all live processes.", multiprocess_mode="livesum")
QUEUE_SIZE = Gauge("queue_size", "Changed files waiting for the next batch (sensor pending set).", multiprocess_mode="mostrecent")
PARSE_CACHE_ENTRIES = Gauge("parse_cache_entries", "Entries in the parse cache.", multiprocess_mode="mostrecent")

COUNTERS = {
    metric._name + "_total": metric
    for metric in (
        PARSE_CACHE_HIT, PARSE_CACHE_MISS, EVENTS_DEDUPLICATED, FILES_PROCESSED, FILES_FAILED, GRAPH_BATCH_WRITES,
        GRAPH_ENTITIES_WRITTEN, GRAPH_RELATIONSHIPS_WRITTEN, GRAPH_WRITE_RETRIES, DEAD_LETTER_ITEMS,
    )
}
HISTOGRAMS = {m._name: m for m in (BATCH_SIZE, BATCH_PROCESSING_DURATION, GRAPH_BATCH_DURATION, FILE_PARSE_DURATION)}
GAUGES = {m._name: m for m in (FILES_PER_SECOND, ACTIVE_WORKERS, QUEUE_SIZE, PARSE_CACHE_ENTRIES)}
METRIC_NAMES = frozenset(COUNTERS) | frozenset(HISTOGRAMS) | frozenset(GAUGES)
"""The documented metric names, exactly as dashboards query them."""


@lru_cache(maxsize=1)
def _statsd() -> StatsdClient | None:
    from lineage_pipeline.settings import load_settings

    settings = load_settings()
    return client_from_settings(settings.statsd_host, settings.statsd_port, settings.statsd_prefix)


def _count(counter: Counter, amount: float) -> None:
    if amount <= 0:
        return
    counter.inc(amount)
    if client := _statsd():
        client.incr(counter._name, amount)


def _observe(histogram: Histogram, value: float) -> None:
    histogram.observe(value)
    if client := _statsd():
        if histogram._name.endswith("_seconds"):
            client.timing(histogram._name.removesuffix("_seconds"), value)
        else:
            client.histogram(histogram._name, value)


def _set(gauge: Gauge, value: float) -> None:
    gauge.set(value)
    if client := _statsd():
        client.gauge(gauge._name, value)


def record_parse_cache(hits: int, misses: int, entries: int | None = None) -> None:
    """Cache lookups of one parse stage; ``entries`` = cache size afterwards, when known."""
    _count(PARSE_CACHE_HIT, hits)
    _count(PARSE_CACHE_MISS, misses)
    if entries is not None:
        _set(PARSE_CACHE_ENTRIES, entries)


def record_file_parse_durations(seconds: Iterable[float]) -> None:
    """One observation per parsed file."""
    for value in seconds:
        _observe(FILE_PARSE_DURATION, value)


def record_files(processed: int, failed: int, elapsed_seconds: float | None = None) -> None:
    """Files a stage produced lineage for and how many had errors; throughput when the elapsed time is given."""
    _count(FILES_PROCESSED, processed)
    _count(FILES_FAILED, failed)
    if elapsed_seconds and elapsed_seconds > 0:
        _set(FILES_PER_SECOND, processed / elapsed_seconds)


def record_parse_stage(
    files: int,
    failed: int,
    cache_hits: int,
    cache_misses: int,
    file_ms: Iterable[float],
    seconds: float,
    cache_entries: int | None = None,
) -> None:
    """Everything one ``parsed_sql`` materialization reports, in one call for the asset glue."""
    record_parse_cache(cache_hits, cache_misses, cache_entries)
    record_file_parse_durations(ms / 1000 for ms in file_ms)
    record_files(files, failed, seconds)


def record_events_deduplicated(count: int) -> None:
    """Change events that collapsed into an entry already pending (sensor debouncing)."""
    _count(EVENTS_DEDUPLICATED, count)


def set_queue_size(size: int) -> None:
    """Changed files pending for the next batch."""
    _set(QUEUE_SIZE, size)


def set_parse_cache_entries(entries: int) -> None:
    """Current number of parse-cache entries."""
    _set(PARSE_CACHE_ENTRIES, entries)


def record_batch(size: int, seconds: float) -> None:
    """One processed batch: how many changed files, and how long bringing the graph up to date took."""
    _observe(BATCH_SIZE, size)
    _observe(BATCH_PROCESSING_DURATION, seconds)


def record_graph_write(entities: int, relationships: int, seconds: float) -> None:
    """One graph write transaction: nodes and relationships it created, and its duration."""
    _count(GRAPH_BATCH_WRITES, 1)
    _count(GRAPH_ENTITIES_WRITTEN, entities)
    _count(GRAPH_RELATIONSHIPS_WRITTEN, relationships)
    _observe(GRAPH_BATCH_DURATION, seconds)


def record_graph_sync(files_changed: int, retries: int, dead_lettered: int, seconds: float) -> None:
    """One ``lineage_graph`` sync: its batch of changed files, its duration, retries and dead-lettered rows."""
    record_batch(files_changed, seconds)
    record_graph_retry(retries)
    record_dead_letter(dead_lettered)


def record_graph_retry(count: int = 1) -> None:
    """A graph write retried after a transient error."""
    _count(GRAPH_WRITE_RETRIES, count)


def record_dead_letter(count: int = 1) -> None:
    """Rows that failed alone and went to the dead-letter file."""
    _count(DEAD_LETTER_ITEMS, count)


@contextmanager
def active_workers(count: int) -> Iterator[None]:
    """Count ``count`` workers as busy for the duration of the block (summed over live processes)."""
    ACTIVE_WORKERS.inc(count)
    if client := _statsd():
        client.gauge("active_workers", ACTIVE_WORKERS._value.get())
    try:
        yield
    finally:
        ACTIVE_WORKERS.dec(count)
        if client := _statsd():
            client.gauge("active_workers", ACTIVE_WORKERS._value.get())

