"""Dagster resources: the corpus on disk, the project's local stores, the parser's workers, the graph store.

Their values come from the settings, loaded once where the definitions are assembled
(``build_resources``); a run's resource config overrides them. No field has a default of its own:
``IngestionSettings`` is the one place each default is written.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Literal, cast

import dagster as dg
from pydantic import Field, PrivateAttr, SecretStr

from lineage_pipeline.corpus.manifest import ManifestFolder
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.dead_letter import DeadLetterFile, dead_letter_path
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.writer import OrphanPolicy
from lineage_pipeline.observability.metrics import NoMetrics, PipelineMetrics, configure_metrics
from lineage_pipeline.pipeline.domain_lock import domain_lock
from lineage_pipeline.pipeline.ingest import CorpusSpec, WriteOptions
from lineage_pipeline.pipeline.parse_pool import PoolKeeper, StartMethod
from lineage_pipeline.pipeline.parse_stage import ParseOptions
from lineage_pipeline.settings import IngestionSettings
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts

NEO4J_PASSWORD_ENV = "LINEAGE_NEO4J_PASSWORD"


class CorpusResource(dg.ConfigurableResource):
    """The SQL corpus: where it is, which files count, which dialect each folder speaks."""

    root: str = Field(description="Corpus root directory.")
    extensions: list[str] = Field(description="File extensions read as SQL.")
    folder_dialects: dict[str, str] = Field(description="Folder -> SQL dialect.")
    default_dialect: str = Field(description="Dialect where no folder says.")
    max_file_bytes: int = Field(description="Larger files are reported, not parsed.")

    @property
    def root_path(self) -> Path:
        return Path(self.root).resolve()

    def spec(self) -> CorpusSpec:
        return CorpusSpec(self.root_path, self.extensions, self.folder_dialects, self.default_dialect, self.max_file_bytes)


class LocalStoresResource(dg.ConfigurableResource):
    """Manifests, the parse cache, the parse results and the warehouse facts, kept in the project's data directory."""

    data_dir: str = Field(description="Project data directory.")
    parse_cache_path: str = Field(description="SQLite parse cache.")
    parse_results_path: str = Field(description="SQLite store of each domain's latest parse results.")
    warehouse_facts_path: str = Field(description="SQLite store of each file's warehouse facts for the code location.")
    enable_parse_cache: bool = Field(description="Reuse cached parse results.")
    parse_cache_max_entries: int = Field(description="LRU bound of the parse cache.")
    parse_cache_ttl_days: float = Field(description="Drop cache entries unused this long.")

    _manifests: ManifestFolder | None = PrivateAttr(default=None)
    _held: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run of one domain partition holds the domain's lock while it runs (``pipeline.domain_lock``):
        a second run of the domain fails at its start, naming this one, instead of writing over it."""
        run = context.run
        domain = run.tags.get("dagster/partition") if run is not None else None
        if run is None or domain is None:
            return
        held = ExitStack()
        held.enter_context(domain_lock(self.locks_dir, domain, holder=f"run {run.run_id} (pid {os.getpid()})"))
        self._held = held

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @property
    def locks_dir(self) -> Path:
        return Path(self.data_dir) / "locks"

    @property
    def manifests_dir(self) -> Path:
        return Path(self.data_dir) / "manifests"

    def manifests(self) -> ManifestFolder:
        """The saved manifests; one folder object for the steps of a run, so they load a domain's once."""
        if self._manifests is None:
            self._manifests = ManifestFolder(self.manifests_dir)
        return self._manifests

    def parse_cache(self, enabled: bool | None = None, max_entries: int | None = None) -> ParseCache:
        """The parse cache; ``enabled``/``max_entries`` override this resource's values for one run."""
        return ParseCache(
            Path(self.parse_cache_path),
            max_entries=max_entries or self.parse_cache_max_entries,
            ttl_seconds=self.parse_cache_ttl_days * 86400,
            enabled=self.enable_parse_cache if enabled is None else enabled,
        )

    def parse_results(self) -> ParseResults:
        """Each domain's latest parse results: what ``parsed_sql`` hands to ``lineage_graph``."""
        return ParseResults(Path(self.parse_results_path))

    def warehouse_facts(self) -> WarehouseFacts:
        """Each file's warehouse facts: what ``lineage_graph`` keeps current for the warehouse assets."""
        return WarehouseFacts(Path(self.warehouse_facts_path))


class ParserResource(dg.ConfigurableResource):
    """The parser's worker processes: how many, how they start, how they are fed; owns their pool."""

    workers: int = Field(ge=1, le=64, description="Parser processes.")
    # str, not Literal: Dagster takes a ``configure_at_launch`` value as the default of any field but a Literal
    start_method: str = Field(pattern="^(auto|fork|spawn)$", description="How parse workers start: auto, fork or spawn.")
    chunk_size: int = Field(ge=1, description="Files sent to a worker at once.")
    file_timeout_s: float = Field(gt=0, description="A file parsing longer is reported and its worker replaced.")
    max_error_rate: float = Field(ge=0, le=1, description="Highest acceptable share of a domain's files with errors.")

    _pools: PoolKeeper | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._pools = PoolKeeper()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pools is not None:
            self._pools.close()

    def options(
        self, workers: int | None = None, chunk_size: int | None = None, file_timeout_s: float | None = None
    ) -> ParseOptions:
        """Parse options with this resource's pool; unset arguments take the resource's values."""
        return ParseOptions(
            workers=workers or self.workers,
            chunk_size=chunk_size or self.chunk_size,
            file_timeout_s=file_timeout_s or self.file_timeout_s,
            start_method=cast(StartMethod, self.start_method),
            pools=self._pools,
        )


class MetricsResource(dg.ConfigurableResource):
    """The pipeline's Prometheus metrics (multiprocess files) and optional StatsD export; configured when a
    run starts, closed when it ends."""

    metrics_dir: str = Field(description="Directory of prometheus-client's multiprocess files.")
    statsd_host: str | None = Field(default=None, description="StatsD host; unset = no StatsD export.")
    statsd_port: int = Field(description="StatsD port.")
    statsd_prefix: str = Field(description="Prefix of every StatsD metric.")

    _metrics: PipelineMetrics | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._metrics = configure_metrics(
            Path(self.metrics_dir), statsd_host=self.statsd_host, statsd_port=self.statsd_port,
            statsd_prefix=self.statsd_prefix,
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._metrics is not None:
            self._metrics.close()

    @property
    def metrics(self) -> PipelineMetrics:
        """The run's metrics (``NoMetrics`` outside a run or when the metrics disk is unusable)."""
        return self._metrics or NoMetrics()


class GraphStoreResource(dg.ConfigurableResource):
    """The lineage graph: embedded FalkorDB by default, a remote FalkorDB URL, or Neo4j."""

    backend: str = Field(pattern="^(falkordb|neo4j)$", description="falkordb or neo4j.")  # str: see ParserResource
    graph_name: str = Field(description="Graph (FalkorDB) name.")
    data_dir: str = Field(description="Where the embedded server keeps its data.")
    falkordb_url: str | None = Field(description="Remote FalkorDB; unset = embedded.")
    neo4j_uri: str | None = Field(description="Neo4j bolt/neo4j URI.")
    neo4j_user: str = Field(description="Neo4j user.")
    neo4j_password: str | None = Field(default=None, description="Neo4j password; pass as an EnvVar.")
    neo4j_database: str = Field(description="Neo4j database name.")
    write_batch_size: int = Field(description="Rows per write transaction.")
    pipelined_writes: bool = Field(description="Encode the next batch while the store runs this one.")
    max_delete_fraction: float = Field(description="Refuse to delete a larger share of a domain's files.")
    write_max_retries: int = Field(description="Retries of a transient failure.")
    write_retry_base_delay_s: float = Field(description="First retry delay; doubles per retry.")
    write_retry_deadline_s: float = Field(description="An outage fails the run this long after its first failure.")
    connect_timeout_s: float = Field(description="Longest one connection attempt may take.")
    timeout_s: float = Field(description="Graph store socket/transaction timeout.")
    orphan_policy: str = Field(pattern="^(remove|mark)$", description="remove or mark unreferenced tables/columns.")
    dead_letter_path: str = Field(description="Rejected rows (JSONL).")

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.write_max_retries, base_delay_s=self.write_retry_base_delay_s, deadline_s=self.write_retry_deadline_s
        )

    def dead_letters(self) -> DeadLetterFile:
        return DeadLetterFile(Path(self.dead_letter_path))

    def write_options(self, batch_size: int | None = None, force_delete: bool = False) -> WriteOptions:
        """Write options of this store; ``batch_size`` overrides the resource's for one run."""
        return WriteOptions(
            batch_size=batch_size or self.write_batch_size,
            max_delete_fraction=self.max_delete_fraction,
            retry=self.retry_policy(),
            orphan_policy=cast(OrphanPolicy, self.orphan_policy),
            pipelined=self.pipelined_writes,
            force_delete=force_delete,
        )

    def store_config(self) -> GraphStoreConfig:
        return GraphStoreConfig(
            backend=cast(Literal["falkordb", "neo4j"], self.backend),
            graph_name=self.graph_name,
            data_dir=Path(self.data_dir),
            falkordb_url=self.falkordb_url,
            neo4j_uri=self.neo4j_uri,
            neo4j_user=self.neo4j_user,
            neo4j_password=SecretStr(self.neo4j_password) if self.neo4j_password else None,
            neo4j_database=self.neo4j_database,
            timeout_s=self.timeout_s,
            connect_timeout_s=self.connect_timeout_s,
            retry_deadline_s=self.write_retry_deadline_s,
        )

    @contextmanager
    def open(self) -> Iterator[GraphBackend]:
        with graph_backend(self.store_config()) as backend:
            yield backend


def build_resources(settings: IngestionSettings) -> dict[str, Any]:
    """Every resource of the code location, valued from ``settings``.

    Each is a ``configure_at_launch`` partial resource, so these values are the defaults of its run
    config: the fields have no defaults of their own, so a fully configured resource would make a run
    config that sets one field (the sensor's corpus root, ``dagster job execute -c``) fail for every
    other field.
    """
    return {
        "corpus": CorpusResource.configure_at_launch(
            root=str(settings.corpus_root),
            extensions=settings.file_extensions,
            folder_dialects=settings.folder_dialects,
            default_dialect=settings.default_dialect,
            max_file_bytes=settings.max_file_bytes,
        ),
        "stores": LocalStoresResource.configure_at_launch(
            data_dir=str(settings.data_dir),
            parse_cache_path=str(settings.effective_parse_cache_path),
            parse_results_path=str(settings.parse_results_path),
            warehouse_facts_path=str(settings.warehouse_facts_path),
            enable_parse_cache=settings.enable_parse_cache,
            parse_cache_max_entries=settings.parse_cache_max_entries,
            parse_cache_ttl_days=settings.parse_cache_ttl_days,
        ),
        "parser": ParserResource.configure_at_launch(
            workers=settings.workers,
            start_method=settings.parse_worker_start,
            chunk_size=settings.parse_chunk_size,
            file_timeout_s=settings.parse_file_timeout_s,
            max_error_rate=settings.parse_error_rate_threshold,
        ),
        "metrics": MetricsResource.configure_at_launch(
            metrics_dir=str(settings.effective_metrics_dir),
            statsd_host=settings.statsd_host,
            statsd_port=settings.statsd_port,
            statsd_prefix=settings.statsd_prefix,
        ),
        "graph_store": GraphStoreResource.configure_at_launch(
            backend=settings.graph_backend,
            graph_name=settings.graph_name,
            data_dir=str(settings.data_dir),
            falkordb_url=settings.falkordb_url,
            neo4j_uri=settings.neo4j_uri,
            neo4j_user=settings.neo4j_user,
            # the password reaches the run as an EnvVar reference, never as a value in the run's config
            neo4j_password=dg.EnvVar(NEO4J_PASSWORD_ENV) if os.environ.get(NEO4J_PASSWORD_ENV) else None,
            neo4j_database=settings.neo4j_database,
            write_batch_size=settings.write_batch_size,
            pipelined_writes=settings.enable_pipelined_writes,
            max_delete_fraction=settings.max_delete_fraction,
            write_max_retries=settings.write_max_retries,
            write_retry_base_delay_s=settings.write_retry_base_delay_s,
            write_retry_deadline_s=settings.write_retry_deadline_s,
            connect_timeout_s=settings.graph_connect_timeout_s,
            timeout_s=settings.graph_timeout_s,
            orphan_policy=settings.orphan_policy,
            dead_letter_path=str(dead_letter_path(settings.data_dir, settings.dead_letter_path)),
        ),
    }
