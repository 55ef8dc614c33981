"""Launch ``ingest_corpus`` for every domain of a corpus on the project's Dagster instance."""

import os
import socket
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.partitions import DOMAIN_PARTITIONS
from lineage_pipeline.pipeline.progress import PROGRESS_TAG
from lineage_pipeline.settings import PROJECT_ROOT
from lineage_pipeline.stores.sqlite_file import file_lock

PROJECT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"
RETIRE_TAG = "lineage/retire"
"""Tag of a run that removes the lineage of a domain whose folder is gone."""
PROCESS_TAG = "lineage/process"
"""``host:pid:start-time`` of the process that executes a run in-process (``lineage ingest``)."""
_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def project_instance() -> dg.DagsterInstance:
    """The project's Dagster instance (``DAGSTER_HOME``, else the repo's ``dagster_home/``)."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_DAGSTER_HOME))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # the first open creates the instance's SQLite tables; two commands doing it at once collide there
    # ("table secondary_indexes already exists"), so opening is one process at a time
    with file_lock(home / ".lineage-instance.lock"):
        return dg.DagsterInstance.get()


@dataclass
class DomainRun:
    """One partition run: its id, whether it succeeded, and the metadata of each asset it materialized."""

    domain: str
    run_id: str
    success: bool
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: str | None = None


def _this_process() -> str:
    import psutil  # its import reads /proc: only when a run is launched

    me = psutil.Process()
    return f"{socket.gethostname()}:{me.pid}:{me.create_time():.3f}"


def _gone(process_tag: str) -> bool:
    """Whether the process a ``PROCESS_TAG`` names has ended (a pid reused by a later process counts as ended)."""
    import psutil

    host, _, rest = process_tag.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        return False  # another machine's process: not ours to judge
    try:
        return f"{psutil.Process(int(pid)).create_time():.3f}" != started
    except (psutil.NoSuchProcess, ValueError):
        return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose executing process is gone (``kill -9`` of ``lineage ingest``):
    left ``STARTED``, they would hold their partition's run slot forever. Returns their run ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED)):
        tag = run.tags.get(PROCESS_TAG)
        if tag and _gone(tag):
            instance.report_run_failed(run, f"the process that executed this run ({tag}) is gone; marked failed")
            failed.append(run.run_id)
    return failed


def register_domains(instance: dg.DagsterInstance, domains: list[str]) -> list[str]:
    """Add the domains missing from the dynamic partitions; returns the ones added."""
    known = set(instance.get_dynamic_partitions(DOMAIN_PARTITIONS))
    added = [d for d in domains if d not in known]
    if added:
        instance.add_dynamic_partitions(DOMAIN_PARTITIONS, added)
    return added


def _root_message(error: SerializableErrorInfo) -> str:
    """The message of the exception at the bottom of ``error``'s chain (Dagster wraps a step's own error in
    one of its own), without its class's module path."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    prefix, separator, rest = message.partition(": ")
    return rest if separator and prefix.rsplit(".", 1)[-1] == error.cls_name else message


def _failure_message(result: dg.JobExecutionResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return f"step {event.step_key} failed: {_root_message(event.step_failure_data.error)}"
        if event.is_resource_init_failure and event.engine_event_data and event.engine_event_data.error:
            return _root_message(event.engine_event_data.error)
    return "run failed"


def run_domain(
    instance: dg.DagsterInstance,
    domain: str,
    run_config: dict,
    tags: dict[str, str] | None = None,
    config_file: Path | None = None,
    corpus_root: Path | None = None,
) -> DomainRun:
    """Execute ``ingest_corpus`` for one domain partition in this process, recorded on ``instance``, with
    the settings of ``config_file`` (None: the environment's) and ``corpus_root`` instead of theirs."""
    job = dg.build_reconstructable_job(
        "lineage_pipeline.definitions", "ingest_job",
        reconstructable_kwargs={
            "config_file": str(config_file) if config_file else None,
            "corpus_root": str(corpus_root) if corpus_root else None,
        },
    )
    # the result is not entered as a context: that would start the run's resources again, only to read outputs
    result = dg.execute_job(
        job,
        instance=instance,
        run_config=run_config,
        tags={
            "dagster/partition": domain, "lineage/trigger": "cli", PROCESS_TAG: _this_process(),
            **({PROGRESS_TAG: "terminal"} if sys.stderr is not None and sys.stderr.isatty() else {}), **(tags or {}),
        },
        raise_on_error=False,
    )
    materializations = [e.step_materialization_data.materialization for e in result.get_asset_materialization_events()]
    metadata = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()} for m in materializations if m is not None
    }
    failure = None if result.success else _failure_message(result)
    return DomainRun(domain, result.run_id, result.success, metadata, failure)


@dataclass
class CorpusIngest:
    """What ``ingest_corpus_root`` did: one run per domain, and what it did about domains whose folder is gone."""

    runs: list[DomainRun] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    """Domains whose folder is gone and whose lineage a forced run removed (partition and manifest too)."""
    kept_gone: list[str] = field(default_factory=list)
    """Domains whose folder is gone but whose lineage was kept: retiring them needs ``force_delete``."""
    unchanged: list[str] = field(default_factory=list)
    """Domains not run because nothing in the corpus, the results or the graph had changed, or because
    their own files, results and graph had not and their lineage stands alone (no catalog can change it)."""


def ingest_corpus_root(
    corpus_root: Path,
    extensions: list[str],
    domains: list[str] | None = None,
    force_delete: bool = False,
    config_file: Path | None = None,
    manifests_dir: Path | None = None,
    is_current: Callable[[str], bool] | None = None,
    graph_domains: Collection[str] = (),
    scan_first: Callable[[list[str]], Collection[str]] | None = None,
    left_alone: Callable[[str], bool] | None = None,
) -> CorpusIngest:
    """Register the corpus's domains as partitions and run the job for each (or for ``domains``).

    A whole-corpus ingest also looks for domains whose folder is gone (deleted, or a sub-folder ingested
    by mistake as a corpus) among the registered partitions and ``graph_domains`` (those the graph
    holds): with ``force_delete`` each is retired by a run that removes its lineage, then its partition
    and saved manifest (in ``manifests_dir``) go; without it they are kept and reported (the deletion
    guard's rule: never remove a whole domain unasked). ``scan_first`` is given every domain of the
    corpus first (``ingest.scan_corpus``) and returns those it scanned; their runs take the manifests it
    saved instead of walking their domain again (the others scan in their run, where a failure is that
    run's, named). When ``is_current``, asked after that scan, says every domain of a whole-corpus ingest
    is current (the scan found it unchanged and ``ingest.lineage_is_current``) and none is gone, no run is
    started: a no-op costs a stat walk and one graph read per domain. Otherwise a whole-corpus ingest still
    skips each domain that is current and whose lineage no catalog can change (``left_alone``, see
    ``ingest.IngestCheck``): a change in one domain then costs that domain's run, not one run per domain.
    """
    instance = project_instance()
    fail_orphaned_runs(instance)
    found = discover_domains(corpus_root, extensions)
    selected = found if domains is None else [d for d in domains if d in found]
    unknown = sorted(set(domains or []) - set(found))
    if unknown:
        raise ValueError(f"no such domain(s) under {corpus_root}: {', '.join(unknown)} (found: {', '.join(found)})")
    known = set(instance.get_dynamic_partitions(DOMAIN_PARTITIONS)) | set(graph_domains)
    gone = [] if domains is not None else sorted(known - set(found))
    scanned = set(scan_first(found)) if scan_first is not None else set()
    if is_current is not None and domains is None and not gone and all(is_current(domain) for domain in selected):
        return CorpusIngest(unchanged=selected)
    register_domains(instance, selected)
    skipped: list[str] = []
    if left_alone is not None and domains is None:
        skipped = [domain for domain in selected if left_alone(domain)]
    ops: dict[str, Any] = {"lineage_graph": {"config": {"force_delete": force_delete}}}
    # the command prints its own summary; step logs stay in the instance (UI) at full detail
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, "ops": ops}
    # the corpus scan just saved these domains' manifests: their runs take them instead of walking again
    scanned_config = {**run_config, "ops": {**ops, "sql_corpus": {"config": {"walk": False}}}}
    outcome = CorpusIngest(unchanged=skipped)
    for domain in selected:
        if domain in skipped:
            continue
        config = scanned_config if domain in scanned else run_config
        outcome.runs.append(run_domain(instance, domain, config, config_file=config_file, corpus_root=corpus_root))
    if not force_delete:
        outcome.kept_gone = gone
        return outcome
    register_domains(instance, gone)  # a domain only the graph knows is retired by a run like any other
    for domain in gone:
        run = run_domain(
            instance, domain, run_config, tags={RETIRE_TAG: "true"}, config_file=config_file, corpus_root=corpus_root
        )
        outcome.runs.append(run)
        if run.success:
            instance.delete_dynamic_partition(DOMAIN_PARTITIONS, domain)
            if manifests_dir is not None:
                for suffix in (".json", ".json.sha256"):
                    (manifests_dir / f"{domain}{suffix}").unlink(missing_ok=True)
            outcome.retired.append(domain)
    return outcome
