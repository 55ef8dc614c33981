"""``sql_corpus_sensor``: Dagster glue around change detection, the state store and the batching policy.

Each tick: scan metadata, diff against the state store, record the changes, coalesce them into the
pending batch carried by the cursor, and, when a flush trigger fires and the run queue has room,
request one ``ingest_corpus`` run per affected domain partition naming the changed files.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.definitions.run_request import InstigatorType  # not re-exported by dagster

from lineage_pipeline.corpus.files import CorpusPathError, domain_of
from lineage_pipeline.jobs import ingest_corpus
from lineage_pipeline.observability.metrics import NoMetrics, PipelineMetrics, configure_metrics
from lineage_pipeline.partitions import DOMAIN_PARTITIONS
from lineage_pipeline.pipeline.launch import RETIRE_TAG, fail_orphaned_runs
from lineage_pipeline.sensors.batching import (
    Batch,
    BatchPolicy,
    SensorCursor,
    absorb,
    add_changes,
    decide,
    mark_domains,
    parse_cursor,
)
from lineage_pipeline.sensors.changes import ChangeSet, detect_changes, file_sha256, scan_stats
from lineage_pipeline.sensors.state_store import StateStore, default_state_path
from lineage_pipeline.settings import IngestionSettings, knob_default

SENSOR_NAME = "sql_corpus_sensor"
HASH_BUDGET_SECONDS = 20.0
"""Hashing time per tick (the sensor evaluation times out at 60 s); the rest waits for the next tick."""
IN_FLIGHT_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class CorpusSensorConfig:
    """Where the sensor looks, where it keeps state, and how it batches."""

    corpus_root: Path
    extensions: list[str]
    state_path: Path
    policy: BatchPolicy
    interval_seconds: int = field(default_factory=lambda: knob_default("sensor_interval_seconds"))
    hash_budget_seconds: float = HASH_BUDGET_SECONDS
    metrics_dir: Path | None = None
    """Where each tick records its metrics (None: not recorded)."""
    statsd: tuple[str | None, int, str] = (None, 8125, "lineage")
    """StatsD host (None: no export), port and prefix."""

    def metrics(self) -> PipelineMetrics:
        """The metrics one tick records in (configured per tick: the daemon process is long-lived)."""
        if self.metrics_dir is None:
            return NoMetrics()
        host, port, prefix = self.statsd
        return configure_metrics(self.metrics_dir, statsd_host=host, statsd_port=port, statsd_prefix=prefix)

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> "CorpusSensorConfig":
        return cls(
            corpus_root=settings.corpus_root,
            extensions=settings.file_extensions,
            state_path=default_state_path(settings.data_dir),
            policy=BatchPolicy(
                enable_batching=settings.enable_batching,
                debounce_window_seconds=settings.debounce_window_seconds,
                batch_size_threshold=settings.batch_size_threshold,
                max_in_flight_runs=settings.max_in_flight_runs,
            ),
            interval_seconds=settings.sensor_interval_seconds,
            metrics_dir=settings.effective_metrics_dir,
            statsd=(settings.statsd_host, settings.statsd_port, settings.statsd_prefix),
        )

    def describe(self) -> str:
        p = self.policy
        return (
            f"Watches {self.corpus_root} for new, modified, deleted and renamed {', '.join(self.extensions)} files "
            f"and runs ingest_corpus once per changed domain, naming the changed files. "
            f"ENABLE_BATCHING={p.enable_batching}, DEBOUNCE_WINDOW_SECONDS={p.debounce_window_seconds:g}, "
            f"BATCH_SIZE_THRESHOLD={p.batch_size_threshold}, MAX_IN_FLIGHT_RUNS={p.max_in_flight_runs}, "
            f"SENSOR_INTERVAL_SECONDS={self.interval_seconds} (settings; env LINEAGE_<KNOB>). "
            f"`lineage flush` emits the pending batch at the next tick."
        )


def _resume(cursor: SensorCursor | None, store: StateStore, now: float) -> tuple[SensorCursor, str | None]:
    """The cursor to continue from; a missing, corrupt, older or foreign cursor becomes full rescans."""
    if cursor is None or cursor.epoch != store.epoch or cursor.generation > store.generation:
        fresh = SensorCursor(epoch=store.epoch, generation=store.generation, flushes_served=store.flush_requests)
        domains = store.domains()
        note = f"cursor missing or unusable: rescanning {len(domains)} known domain(s)" if domains else None
        return mark_domains(fresh, domains, now).model_copy(update={"recovery": bool(domains)}), note
    if cursor.generation == store.generation:
        return cursor, None
    replay = store.changes_since(cursor.generation)
    resumed = cursor.model_copy(update={"generation": store.generation})
    if replay is None:
        return mark_domains(resumed, store.domains(), now), "cursor older than the change journal: full rescans"
    known = store.load()
    deleted = [path for path in replay if path not in known]
    return add_changes(resumed, replay, now, deleted), f"replayed {len(replay)} change(s) the last tick recorded"


def _count_in_flight(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> int:
    return instance.get_runs_count(
        dg.RunsFilter(job_name=ingest_corpus.name, statuses=IN_FLIGHT_STATUSES, tags=tags or {})
    )


def _retirement_done(instance: dg.DagsterInstance, domain: str) -> bool | None:
    """True once the domain's retire run succeeded and nothing else of it is in flight; False if it failed."""
    if _count_in_flight(instance, {"dagster/partition": domain}):
        return None
    runs = instance.get_runs(
        dg.RunsFilter(job_name=ingest_corpus.name, tags={"dagster/partition": domain, RETIRE_TAG: "true"}), limit=1
    )
    if not runs or not runs[0].is_finished:
        return None
    return runs[0].status == dg.DagsterRunStatus.SUCCESS


def run_request(batch: Batch, root: Path, epoch: str, generation: int) -> dg.RunRequest:
    """One ``ingest_corpus`` run for ``batch``: incremental when it names paths, forced delete to retire."""
    ops: dict[str, dict] = {"lineage_graph": {"config": {"force_delete": batch.retire}}}
    if batch.paths is not None:
        ops["sql_corpus"] = {"config": {"changed_paths": list(batch.paths)}}
    tags = {
        "lineage/trigger": "sensor",
        "lineage/flush": batch.trigger,
        "lineage/batch_size": "all" if batch.size is None else str(batch.size),
        "dagster/priority": batch.priority,
    }
    if batch.retire:
        tags[RETIRE_TAG] = "true"
    return dg.RunRequest(
        run_key=batch.run_key(epoch, generation),
        partition_key=batch.domain,
        run_config={"ops": ops, "resources": {"corpus": {"config": {"root": str(root)}}}},
        tags=tags,
    )


@dataclass(frozen=True)
class Observation:
    """One scan recorded in the state store: what changed and the store's state after it."""

    changes: ChangeSet
    domains_before: set[str]
    domains_now: set[str]
    generation: int
    epoch: str
    flush_requests: int


def observe(config: CorpusSensorConfig, store: StateStore) -> Observation | str:
    """Scan, diff against the store and record the result; a string says why nothing was recorded."""
    try:
        current = scan_stats(config.corpus_root, config.extensions)
    except CorpusPathError as error:
        return f"cannot scan the corpus: {error}"
    previous = store.load()
    if previous and not current:
        return (
            f"corpus root {config.corpus_root} holds no SQL files but {len(previous)} were seen: "
            "not treating that as a deletion (unmounted or wrong path?)"
        )
    changes = detect_changes(previous, current, file_sha256(config.corpus_root), config.hash_budget_seconds)
    return Observation(
        changes=changes,
        domains_before={domain_of(p) for p in previous},
        domains_now={domain_of(p) for p in current},
        generation=store.commit(changes),
        epoch=store.epoch,
        flush_requests=store.flush_requests,
    )


def partition_requests(
    context: dg.SensorEvaluationContext, batches: list[Batch], retiring: list[str], partitions: set[str]
) -> tuple[list, list[str]]:
    """Partitions to add for new domains and to delete for retired ones, and the domains still retiring."""
    requests: list = []
    added = sorted({b.domain for b in batches if not b.retire} - partitions)
    if added:
        requests.append(dg.AddDynamicPartitionsRequest(DOMAIN_PARTITIONS, added))
    outcomes = {domain: _retirement_done(context.instance, domain) for domain in retiring}
    for domain in (d for d, outcome in outcomes.items() if outcome is False):
        context.log.warning(f"retire run of domain {domain!r} failed: partition kept; fix and rerun it")
    finished = sorted(d for d, outcome in outcomes.items() if outcome and d in partitions)
    if finished:
        requests.append(dg.DeleteDynamicPartitionsRequest(DOMAIN_PARTITIONS, finished))
    still = [d for d, outcome in outcomes.items() if outcome is None] + [b.domain for b in batches if b.retire]
    return requests, sorted(set(still))


def evaluate(context: dg.SensorEvaluationContext, config: CorpusSensorConfig, clock: Callable[[], float]) -> dg.SensorResult:
    """One tick of the sensor (see the module docstring)."""
    now = clock()
    for run_id in fail_orphaned_runs(context.instance):
        context.log.warning(f"run {run_id} was left unfinished by a process that is gone; marked failed")
    with StateStore(config.state_path) as store:
        if store.moved_to:
            context.log.warning(f"sensor state was unusable; moved to {store.moved_to} and rebuilt (full rescan)")
        cursor, note = _resume(parse_cursor(context.cursor), store, now)
        if note:
            context.log.warning(note)
        seen = observe(config, store)
    if isinstance(seen, str):
        return dg.SensorResult(skip_reason=seen, cursor=cursor.to_json())
    changes = seen.changes
    if changes or changes.deferred:
        context.log.info(
            f"changes: {len(changes.added)} added, {len(changes.modified)} modified, {len(changes.deleted)} deleted, "
            f"{len(changes.renamed)} renamed, {len(changes.unchanged_content)} touched only, {changes.deferred} deferred"
        )
    manual = seen.flush_requests > cursor.flushes_served
    pending_before = cursor.pending_files
    cursor = absorb(cursor, changes.changed_paths, seen.domains_before, seen.domains_now, now, changes.removals)
    # a file changed again while already pending is one entry, not another run
    cursor = cursor.model_copy(update={"generation": seen.generation, "flushes_served": seen.flush_requests})
    decision = decide(cursor, now, config.policy, _count_in_flight(context.instance), manual)
    with config.metrics() as metrics:
        metrics.record_events_deduplicated(max(0, len(changes.changed_paths) - (cursor.pending_files - pending_before)))
        metrics.set_queue_size(decision.cursor.pending_files)
    partitions = set(context.instance.get_dynamic_partitions(DOMAIN_PARTITIONS))
    # a folder that vanished before its partition was ever registered has nothing in the graph to retire
    batches = [b for b in decision.batches if not (b.retire and b.domain not in partitions)]
    requests, retiring = partition_requests(context, batches, decision.cursor.retiring, partitions)
    runs = [run_request(b, config.corpus_root, seen.epoch, seen.generation) for b in batches]
    reason = decision.reason
    unregistered = sorted(b.domain for b in decision.batches if b not in batches)
    if unregistered:
        reason += f"; folder(s) {', '.join(unregistered)} gone before ever being ingested: nothing to retire"
    context.log.info(reason)
    return dg.SensorResult(
        run_requests=runs,
        skip_reason=None if runs else reason,
        cursor=decision.cursor.model_copy(update={"retiring": retiring}).to_json(),
        dynamic_partitions_requests=requests or None,
    )


def build_corpus_sensor(config: CorpusSensorConfig, clock: Callable[[], float] = time.time) -> dg.SensorDefinition:
    """The sensor for ``config``; ``clock`` is injectable so tests can step time."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=ingest_corpus,
        minimum_interval_seconds=config.interval_seconds,
        description=config.describe(),
    )
    def sql_corpus_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return evaluate(context, config, clock)

    return sql_corpus_sensor



def read_sensor_cursor(instance: dg.DagsterInstance) -> SensorCursor | None:
    """The cursor the sensor last saved on ``instance``; None before its first tick or if unusable."""
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == SENSOR_NAME and state.instigator_data is not None:
            return parse_cursor(getattr(state.instigator_data, "cursor", None))
    return None
