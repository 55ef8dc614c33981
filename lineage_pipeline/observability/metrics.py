"""The pipeline's Prometheus metrics: configured by one explicit call, recorded through the object it returns.

``configure_metrics(metrics_dir)`` returns a ``PipelineMetrics`` whose ``record_*``/``set_*`` methods
every stage calls. Values live in prometheus-client's multiprocess files under ``metrics_dir``, because
ingestion runs as many short-lived processes: counters and histograms are summed across every process
that ever wrote them, live gauges across running processes, and ``lineage metrics serve`` exposes the
aggregate (``observability.server``). Each record also goes to StatsD when a StatsD host is given.

Importing this module reads no settings, creates no file and sets no environment variable; only
``configure_metrics`` touches the metrics directory, and a directory it cannot write (a full disk, a
read-only mount) gives a ``NoMetrics`` (same methods, no-ops) and one warning instead of an error.
``NoMetrics()`` is also what tests and commands that record nothing use.
"""

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from lineage_pipeline.observability.statsd import StatsdClient

log = logging.getLogger(__name__)

_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)

GaugeMode = Literal["all", "liveall", "min", "livemin", "max", "livemax", "sum", "livesum", "mostrecent", "livemostrecent"]
"""prometheus-client's ``multiprocess_mode`` values."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its name (counters are exposed with ``_total``), type, help and type-specific options."""

    name: str
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    buckets: tuple[float, ...] = ()
    mode: GaugeMode | Literal[""] = ""  # gauges: how values of several processes combine (prometheus-client multiprocess_mode)


SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("parse_cache_hit", "counter", "Files whose lineage came from the parse cache."),
    MetricSpec("parse_cache_miss", "counter", "Files that had to be parsed (not in the parse cache)."),
    MetricSpec("events_deduplicated", "counter", "File-change events merged into an already pending change."),
    MetricSpec("files_processed", "counter", "Files whose lineage a run produced (parsed or from the cache)."),
    MetricSpec("files_failed", "counter", "Files with at least one parse or read error."),
    MetricSpec("graph_batch_writes", "counter", "Write transactions sent to the graph store."),
    MetricSpec("graph_entities_written", "counter", "Nodes created in the graph store."),
    MetricSpec("graph_relationships_written", "counter", "Relationships created in the graph store."),
    MetricSpec("graph_write_retries", "counter", "Graph writes retried after a transient error."),
    MetricSpec("dead_letter_items", "counter", "Rows written to the dead-letter file."),
    MetricSpec("batch_size", "histogram", "Changed files per processed batch (one ingest run).", _SIZE_BUCKETS),
    MetricSpec(
        "batch_processing_duration_seconds", "histogram", "Seconds to bring the graph up to date with one batch.",
        _DURATION_BUCKETS,
    ),
    MetricSpec("graph_batch_duration_seconds", "histogram", "Seconds per graph write transaction.", _DURATION_BUCKETS),
    MetricSpec("file_parse_duration_seconds", "histogram", "Seconds to parse one file.", _DURATION_BUCKETS),
    MetricSpec("files_processed_per_second", "gauge", "Throughput of the most recent parse stage.", mode="mostrecent"),
    MetricSpec("active_workers", "gauge", "Parse workers busy right now, over all live processes.", mode="livesum"),
    MetricSpec("queue_size", "gauge", "Changed files waiting for the next batch (sensor pending set).", mode="mostrecent"),
    MetricSpec("parse_cache_entries", "gauge", "Entries in the parse cache.", mode="mostrecent"),
)

COUNTER_NAMES = frozenset(f"{s.name}_total" for s in SPECS if s.kind == "counter")
HISTOGRAM_NAMES = frozenset(s.name for s in SPECS if s.kind == "histogram")
GAUGE_NAMES = frozenset(s.name for s in SPECS if s.kind == "gauge")
METRIC_NAMES = COUNTER_NAMES | HISTOGRAM_NAMES | GAUGE_NAMES
"""The documented metric names, exactly as dashboards query them."""


class PipelineMetrics:
    """The metric instances of one ``configure_metrics`` call and the functions that record them.

    Made by ``configure_metrics`` (or ``NoMetrics()``); not registered in prometheus-client's global
    registry, so any number of them can coexist in a process. Objects on the same directory in one
    process add up in the same files.
    """

    enabled = True

    def __init__(self, directory: Path | None, instruments: dict[str, Any], statsd: "StatsdClient | None" = None):
        self.directory = directory
        self.statsd = statsd
        self._instruments = instruments

    # -- primitives: the prometheus value, then StatsD when configured
    def _count(self, name: str, amount: float) -> None:
        if amount <= 0:
            return
        self._instruments[name].inc(amount)
        if self.statsd:
            self.statsd.incr(name, amount)

    def _observe(self, name: str, value: float) -> None:
        self._instruments[name].observe(value)
        if self.statsd:
            if name.endswith("_seconds"):
                self.statsd.timing(name.removesuffix("_seconds"), value)
            else:
                self.statsd.histogram(name, value)

    def _set(self, name: str, value: float) -> None:
        self._instruments[name].set(value)
        if self.statsd:
            self.statsd.gauge(name, value)

    def _add(self, name: str, amount: float) -> None:
        gauge = self._instruments[name]
        gauge.inc(amount)
        if self.statsd:
            self.statsd.gauge(name, gauge._value.get())

    # -- what the stages record
    def record_parse_cache(self, hits: int, misses: int, entries: int | None = None) -> None:
        """Cache lookups of one parse stage; ``entries`` = cache size afterwards, when known."""
        self._count("parse_cache_hit", hits)
        self._count("parse_cache_miss", misses)
        if entries is not None:
            self._set("parse_cache_entries", entries)

    def record_file_parse_durations(self, seconds: Iterable[float]) -> None:
        """One observation per parsed file."""
        for value in seconds:
            self._observe("file_parse_duration_seconds", value)

    def record_files(self, processed: int, failed: int, elapsed_seconds: float | None = None) -> None:
        """Files a stage produced lineage for and how many had errors; throughput when the elapsed time is given."""
        self._count("files_processed", processed)
        self._count("files_failed", failed)
        if elapsed_seconds and elapsed_seconds > 0:
            self._set("files_processed_per_second", processed / elapsed_seconds)

    def record_parse_stage(
        self,
        files: int,
        failed: int,
        cache_hits: int,
        cache_misses: int,
        file_ms: Iterable[float],
        seconds: float,
        cache_entries: int | None = None,
    ) -> None:
        """Everything one ``parsed_sql`` materialization reports, in one call for the asset glue."""
        self.record_parse_cache(cache_hits, cache_misses, cache_entries)
        self.record_file_parse_durations(ms / 1000 for ms in file_ms)
        self.record_files(files, failed, seconds)

    def record_events_deduplicated(self, count: int) -> None:
        """Change events that collapsed into an entry already pending (sensor debouncing)."""
        self._count("events_deduplicated", count)

    def set_queue_size(self, size: int) -> None:
        """Changed files pending for the next batch."""
        self._set("queue_size", size)

    def set_parse_cache_entries(self, entries: int) -> None:
        """Current number of parse-cache entries."""
        self._set("parse_cache_entries", entries)

    def record_batch(self, size: int, seconds: float) -> None:
        """One processed batch: how many changed files, and how long bringing the graph up to date took."""
        self._observe("batch_size", size)
        self._observe("batch_processing_duration_seconds", seconds)

    def record_graph_write(self, entities: int, relationships: int, seconds: float) -> None:
        """One graph write transaction: nodes and relationships it created, and its duration."""
        self._count("graph_batch_writes", 1)
        self._count("graph_entities_written", entities)
        self._count("graph_relationships_written", relationships)
        self._observe("graph_batch_duration_seconds", seconds)

    def record_graph_sync(self, files_changed: int, retries: int, dead_lettered: int, seconds: float) -> None:
        """One ``lineage_graph`` sync: its batch of changed files, its duration, retries and dead-lettered rows."""
        self.record_batch(files_changed, seconds)
        self.record_graph_retry(retries)
        self.record_dead_letter(dead_lettered)

    def record_graph_retry(self, count: int = 1) -> None:
        """A graph write retried after a transient error."""
        self._count("graph_write_retries", count)

    def record_dead_letter(self, count: int = 1) -> None:
        """Rows that failed alone and went to the dead-letter file."""
        self._count("dead_letter_items", count)

    @contextmanager
    def active_workers(self, count: int) -> Iterator[None]:
        """Count ``count`` workers as busy for the duration of the block (summed over live processes)."""
        self._add("active_workers", count)
        try:
            yield
        finally:
            self._add("active_workers", -count)

    def close(self) -> None:
        """Release the StatsD socket (values already written stay in the files)."""
        if self.statsd:
            self.statsd.close()
            self.statsd = None

    def __enter__(self) -> "PipelineMetrics":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.directory})"


class NoMetrics(PipelineMetrics):
    """Metrics switched off: the same methods, recording nothing, touching no file."""

    enabled = False

    def __init__(self, reason: str = "metrics not configured"):
        super().__init__(None, {}, None)
        self.reason = reason

    def _count(self, name: str, amount: float) -> None:
        pass

    def _observe(self, name: str, value: float) -> None:
        pass

    def _set(self, name: str, value: float) -> None:
        pass

    def _add(self, name: str, amount: float) -> None:
        pass

    def __repr__(self) -> str:
        return f"NoMetrics({self.reason!r})"


_construct_lock = threading.Lock()
_exit_cleanup_dirs: set[str] = set()


@contextmanager
def _values_stored_by(value_class) -> Iterator[None]:
    """prometheus-client metrics built inside the block keep their values in ``value_class`` objects."""
    from prometheus_client import values

    with _construct_lock:
        saved = values.ValueClass
        values.ValueClass = value_class
        try:
            yield
        finally:
            values.ValueClass = saved


def _build() -> dict[str, Any]:
    from prometheus_client import Counter, Gauge, Histogram

    instruments: dict[str, Any] = {}
    for spec in SPECS:
        if spec.kind == "counter":
            instruments[spec.name] = Counter(spec.name, spec.help, registry=None)
        elif spec.kind == "histogram":
            instruments[spec.name] = Histogram(spec.name, spec.help, buckets=spec.buckets, registry=None)
        else:
            if not spec.mode:
                raise ValueError(f"gauge {spec.name} has no multiprocess mode")
            instruments[spec.name] = Gauge(spec.name, spec.help, multiprocess_mode=spec.mode, registry=None)
    return instruments


def _forget_live_gauges(directory: str) -> None:
    # live gauges (active_workers) must stop counting a process once it has exited
    import os

    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid(), directory)


def configure_metrics(
    metrics_dir: Path,
    *,
    statsd_host: str | None = None,
    statsd_port: int = 8125,
    statsd_prefix: str = "lineage",
) -> PipelineMetrics:
    """Metrics recorded in the multiprocess files of ``metrics_dir`` (created), and sent to StatsD when
    ``statsd_host`` is given.

    Every file this process writes is allocated on disk here, so a full filesystem is found now: the
    result is then a ``NoMetrics`` and one warning, never an error nor a SIGBUS later. Calling it again
    (same or another directory) is safe; at exit this process's live-gauge files are removed.
    """
    import atexit

    from lineage_pipeline.observability import store
    from lineage_pipeline.observability.statsd import client_from_settings

    directory = Path(metrics_dir).absolute()  # one set of open files per directory, however it is spelled
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe, keys = store.key_probe()
        with _values_stored_by(probe):
            _build()
        sizes = {prefix: store.file_bytes(prefix_keys) for prefix, prefix_keys in keys.items()}
        with _values_stored_by(store.value_class(directory, sizes)):
            instruments = _build()
    except OSError as error:
        reason = f"metrics disabled: cannot write {directory}: {error.strerror or error}"
        log.warning(reason)
        return NoMetrics(reason)
    if str(directory) not in _exit_cleanup_dirs:
        _exit_cleanup_dirs.add(str(directory))
        atexit.register(_forget_live_gauges, str(directory))
    return PipelineMetrics(directory, instruments, client_from_settings(statsd_host, statsd_port, statsd_prefix))

