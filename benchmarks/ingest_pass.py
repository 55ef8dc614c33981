"""One measured ingest pass over a corpus, run in a process of its own (``python -m benchmarks.ingest_pass``).

For every domain: ``scan_domain``, ``parse_domain``, ``write_domain`` of the ingest service - the same
functions the Dagster assets and the CLI call - with the knobs the settings resolve from the environment
the benchmark sets (``LINEAGE_DATA_DIR``, ``LINEAGE_BASELINE_MODE``, ``LINEAGE_WORKERS``, ...). The pass
prints one JSON object (``PassFigures``) as the last line of stdout; it never imports Dagster.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.cpu_clock import CpuClock
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import ManifestFolder
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.connect import graph_backend, retry_policy_from_settings, store_config_from_settings
from lineage_pipeline.graph.dead_letter import DeadLetterFile, dead_letter_path
from lineage_pipeline.graph.embedded_server import server_status
from lineage_pipeline.pipeline.collector import tune_for_ingest
from lineage_pipeline.pipeline.ingest import (
    CorpusSpec,
    IngestCheck,
    WriteOptions,
    parse_domain,
    scan_corpus,
    scan_domain,
    write_domain,
)
from lineage_pipeline.pipeline.parse_pool import PoolKeeper
from lineage_pipeline.pipeline.parse_stage import ParseOptions
from lineage_pipeline.settings import IngestionSettings, load_settings
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts


@dataclass
class PassFigures:
    """What one pass did and what each stage cost (seconds are wall-clock inside the pass process)."""

    files: int = 0
    parsed: int = 0
    """First-pass parses run in this pass, of any domain's files (the catalog pass reads other domains)."""
    reused: int = 0
    """Files of the corpus this pass did not parse: their results came from the cache."""
    statements: int = 0
    statements_reused: int = 0
    """Statements of the files parsed that were taken from the file's previous parse, not read again."""
    errors: int = 0
    seconds: float = 0.0
    scan_s: float = 0.0
    parse_s: float = 0.0
    write_s: float = 0.0
    catalog_s: float = 0.0
    """Part of ``parse_s``: the corpus-catalog pass (second parse of files a catalog can change)."""
    catalog_parsed: int = 0
    domains_left_alone: int = 0
    """Domains not run although others changed: current, and no catalog can change their lineage."""
    current_check_s: float = 0.0
    """Part of ``seconds``: the no-op check ``lineage ingest`` makes before starting any run (the corpus scan,
    then ``lineage_is_current`` of every domain it found unchanged; all current = nothing else is done)."""
    setup_s: float = 0.0
    """Opening the graph store (server start, schema) and the cache: once per process, outside ``seconds``."""
    transactions: int = 0
    entities_written: int = 0
    files_written: int = 0
    file_ms: list[float] = field(default_factory=list)
    """Per-file parse time (in the worker) of the domains' own first-pass parses."""
    catalog_file_ms: list[float] = field(default_factory=list)
    """Per-file parse time of the catalog pass's parses (other domains' first passes, re-resolutions)."""
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds of ``seconds``' stretch by part (``CpuSeconds``): this process, its parse workers, the graph server."""
    settings: dict[str, object] = field(default_factory=dict)


def _knobs(settings: IngestionSettings) -> dict[str, object]:
    """The settings that distinguish baseline from optimized, as resolved by the feature flags."""
    names = ("baseline_mode", "enable_parse_cache", "enable_batched_writes", "enable_pipelined_writes", "enable_parallel_workers",
             "workers", "write_batch_size", "parse_chunk_size", "parse_worker_start")
    return {name: getattr(settings, name) for name in names if hasattr(settings, name)}


def open_cache(settings: IngestionSettings) -> ParseCache:
    """The parse cache exactly as ``LocalStoresResource.parse_cache`` builds it."""
    return ParseCache(
        settings.effective_parse_cache_path,
        max_entries=settings.parse_cache_max_entries,
        ttl_seconds=settings.parse_cache_ttl_days * 86400,
        enabled=settings.enable_parse_cache,
    )


@dataclass
class _Pass:
    """What every domain of one pass shares, built from the settings as the resources build it."""

    settings: IngestionSettings
    corpus: CorpusSpec
    cache: ParseCache
    results: ParseResults
    parse_options: ParseOptions
    write_options: WriteOptions
    dead_letters: DeadLetterFile
    warehouse_facts: WarehouseFacts
    manifests: ManifestFolder
    """One folder object for the pass, as the stores resource keeps one for the steps of a run."""


def ingest_domain(run: _Pass, domain: str, backend: GraphBackend, figures: PassFigures, walk: bool = True) -> None:
    """Scan, parse and write one domain the way ``ingest_corpus`` does, adding its costs to ``figures``
    (``lineage ingest`` has scanned every domain before: this domain's own scan finds it as saved)."""
    started = time.perf_counter()
    scan_domain(domain, run.corpus, run.manifests, walk=walk)
    scanned = time.perf_counter()
    parsed_report = parse_domain(domain, run.corpus, run.manifests, run.cache, run.results, run.parse_options)
    parsed = time.perf_counter()
    written_report = write_domain(
        domain, run.manifests, run.results, backend, run.write_options, dead_letters=run.dead_letters,
        run_id="bench", warehouse_facts=run.warehouse_facts,
    )
    written = time.perf_counter()

    outcome, catalog, report = parsed_report.outcome, parsed_report.catalog, written_report.sync
    stats = report.stats
    figures.files += outcome.files
    # the catalog pass of an earlier domain may already have parsed (and cached) this domain's new files
    figures.parsed += outcome.misses + catalog.corpus_files_parsed
    figures.statements += outcome.statements
    figures.statements_reused += outcome.statements_reused
    figures.errors += len(outcome.errors)
    figures.file_ms += outcome.file_ms
    figures.catalog_file_ms += catalog.file_ms
    figures.scan_s += scanned - started
    figures.parse_s += parsed - scanned
    figures.catalog_s += catalog.seconds
    figures.catalog_parsed += catalog.resolved_parsed
    figures.write_s += written - parsed
    figures.transactions += stats.transactions
    figures.entities_written += (stats.nodes_created + stats.nodes_deleted + stats.relationships_created
                                 + stats.relationships_deleted)
    figures.files_written += len(report.files_written) + len(report.files_deleted)


def _server_pid(settings: IngestionSettings) -> int | None:
    """The embedded graph server's pid (None for a remote store)."""
    server = server_status(settings.data_dir) if settings.graph_backend == "falkordb" else None
    return server.pid if server else None


def run_pass(root: Path) -> PassFigures:
    """Ingest every domain of ``root`` once with the settings of this process's environment."""
    settings = load_settings()
    figures = PassFigures(settings=_knobs(settings))
    setup_started = time.perf_counter()
    with PoolKeeper() as pools, graph_backend(store_config_from_settings(settings)) as backend:
        run = _Pass(
            settings=settings,
            corpus=CorpusSpec(root, settings.file_extensions, settings.folder_dialects, settings.default_dialect,
                              settings.max_file_bytes),
            cache=open_cache(settings),
            results=ParseResults(settings.parse_results_path),
            parse_options=ParseOptions(settings.workers, settings.parse_chunk_size, settings.parse_file_timeout_s,
                                       settings.parse_worker_start, pools),
            write_options=WriteOptions(
                batch_size=settings.write_batch_size,
                max_delete_fraction=settings.max_delete_fraction,
                retry=retry_policy_from_settings(settings),
                orphan_policy=settings.orphan_policy,
                pipelined=settings.enable_pipelined_writes,
            ),
            dead_letters=DeadLetterFile(dead_letter_path(settings.data_dir, settings.dead_letter_path)),
            warehouse_facts=WarehouseFacts(settings.warehouse_facts_path),
            manifests=ManifestFolder(settings.data_dir / "manifests"),
        )
        figures.setup_s = time.perf_counter() - setup_started
        clock = CpuClock(_server_pid(settings))
        started = time.perf_counter()
        domains = discover_domains(root, settings.file_extensions)
        retry = retry_policy_from_settings(settings)
        # like `lineage ingest`: every domain scanned once, then a corpus whose every domain is current starts nothing
        changed = {scan.manifest.domain: scan.content_changed for scan in scan_corpus(domains, run.corpus, run.manifests)}
        scanned = time.perf_counter()
        check = IngestCheck(changed, run.manifests, run.results, backend, retry, warehouse_facts=run.warehouse_facts)
        current = all(check.is_current(d) for d in domains)
        figures.current_check_s = time.perf_counter() - (started if current and domains else scanned)
        if not (current and domains):
            figures.scan_s += scanned - started
        # as `lineage ingest`: a current domain no catalog can change is left alone when others changed
        alone = [] if current else [d for d in domains if check.left_alone(d)]
        figures.domains_left_alone = len(alone)
        for domain in [] if current and domains else domains:
            if domain not in alone:
                ingest_domain(run, domain, backend, figures, walk=domain not in changed)
        figures.seconds = time.perf_counter() - started
        # counted outside ``seconds``, as for a no-op: the files the check vouched for
        figures.files += sum(len(run.manifests.load(d).files) for d in alone)
        if current and domains:  # counted outside ``seconds``: what the no-op pass vouched for
            figures.files = sum(len(run.manifests.load(d).files) for d in domains)
        figures.cpu_s = clock.read(_server_pid(settings)).as_dict()
        figures.reused = max(0, figures.files - figures.parsed)
        for store in (run.cache, run.results, run.warehouse_facts):  # as the assets close theirs
            store.close()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args(argv)
    tune_for_ingest()  # as the `lineage` command does
    figures = run_pass(args.corpus.resolve())
    sys.stdout.write(json.dumps(asdict(figures)) + "\n")


if __name__ == "__main__":
    main()
