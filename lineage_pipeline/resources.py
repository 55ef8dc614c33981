"""Dagster resources: the corpus on disk, the project's local stores, and the graph store.

Each field's default comes from the project settings (``config/ingestion.yaml`` < ``LINEAGE_*`` env),
so the resource config is the single place a run can override a knob.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from lineage_pipeline.corpus.manifest import DomainManifest, load_manifest, save_manifest
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.dead_letter import DeadLetterFile, dead_letter_path
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.settings import load_settings
from lineage_pipeline.stores.parse_cache import ParseCache

_settings = load_settings()


class CorpusResource(dg.ConfigurableResource):
    """The SQL corpus: where it is, which files count, which dialect each folder speaks."""

    root: str = Field(default=str(_settings.corpus_root), description="Corpus root directory.")
    extensions: list[str] = Field(default=_settings.file_extensions, description="File extensions read as SQL.")
    folder_dialects: dict[str, str] = Field(default=_settings.folder_dialects, description="Folder -> SQL dialect.")
    default_dialect: str = Field(default=_settings.default_dialect, description="Dialect where no folder says.")
    max_file_bytes: int = Field(default=_settings.max_file_bytes, description="Larger files are reported, not parsed.")

    @property
    def root_path(self) -> Path:
        return Path(self.root).resolve()


class LocalStoresResource(dg.ConfigurableResource):
    """Manifests and parse results kept in the project's data directory between steps and runs."""

    data_dir: str = Field(default=str(_settings.data_dir), description="Project data directory.")
    parse_cache_path: str | None = Field(
        default=str(_settings.parse_cache_path) if _settings.parse_cache_path else None,
        description="SQLite parse cache; unset = <data_dir>/parse_cache.sqlite.",
    )
    enable_parse_cache: bool = Field(default=_settings.enable_parse_cache, description="Reuse cached parse results.")
    parse_cache_max_entries: int = Field(default=_settings.parse_cache_max_entries, description="LRU bound.")
    parse_cache_ttl_days: float = Field(default=_settings.parse_cache_ttl_days, description="Drop entries unused this long.")

    @property
    def manifests_dir(self) -> Path:
        return Path(self.data_dir) / "manifests"

    def save_manifest(self, manifest: DomainManifest) -> Path:
        return save_manifest(manifest, self.manifests_dir)

    def load_manifest(self, domain: str) -> DomainManifest:
        return load_manifest(self.manifests_dir, domain)

    def parse_store(self, enabled: bool | None = None, max_entries: int | None = None) -> ParseCache:
        """The parse cache; ``enabled``/``max_entries`` override this resource's values for one run."""
        return ParseCache(
            Path(self.parse_cache_path) if self.parse_cache_path else Path(self.data_dir) / "parse_cache.sqlite",
            max_entries=max_entries or self.parse_cache_max_entries,
            ttl_seconds=self.parse_cache_ttl_days * 86400,
            enabled=self.enable_parse_cache if enabled is None else enabled,
        )


class GraphStoreResource(dg.ConfigurableResource):
    """The lineage graph: embedded FalkorDB by default, a remote FalkorDB URL, or Neo4j."""

    backend: str = Field(default=_settings.graph_backend, description="falkordb or neo4j.")
    graph_name: str = Field(default=_settings.graph_name, description="Graph (FalkorDB) name.")
    data_dir: str = Field(default=str(_settings.data_dir), description="Where the embedded server keeps its data.")
    falkordb_url: str | None = Field(default=_settings.falkordb_url, description="Remote FalkorDB; unset = embedded.")
    neo4j_uri: str | None = Field(default=_settings.neo4j_uri, description="Neo4j bolt/neo4j URI.")
    neo4j_user: str = Field(default=_settings.neo4j_user, description="Neo4j user.")
    neo4j_password: str | None = Field(default=None, description="Neo4j password; pass as an EnvVar.")
    neo4j_database: str = Field(default=_settings.neo4j_database, description="Neo4j database name.")
    write_batch_size: int = Field(default=_settings.write_batch_size, description="Rows per write transaction.")
    pipelined_writes: bool = Field(
        default=_settings.enable_pipelined_writes, description="Encode the next batch while the store runs this one."
    )
    max_delete_fraction: float = Field(
        default=_settings.max_delete_fraction, description="Refuse to delete a larger share of a domain's files."
    )
    write_max_retries: int = Field(default=_settings.write_max_retries, description="Retries of a transient failure.")
    write_retry_base_delay_s: float = Field(
        default=_settings.write_retry_base_delay_s, description="First retry delay; doubles per retry."
    )
    timeout_s: float = Field(default=_settings.graph_timeout_s, description="Graph store socket/transaction timeout.")
    orphan_policy: str = Field(default=_settings.orphan_policy, description="remove or mark unreferenced tables/columns.")
    dead_letter_path: str | None = Field(
        default=str(_settings.dead_letter_path) if _settings.dead_letter_path else None,
        description="Rejected rows (JSONL), relative to data_dir; unset = <data_dir>/failed_ingestion.jsonl.",
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.write_max_retries, base_delay_s=self.write_retry_base_delay_s)

    def dead_letters(self) -> DeadLetterFile:
        return DeadLetterFile(dead_letter_path(Path(self.data_dir), self.dead_letter_path))

    def store_config(self) -> GraphStoreConfig:
        return GraphStoreConfig(
            backend=self.backend,
            graph_name=self.graph_name,
            data_dir=Path(self.data_dir),
            falkordb_url=self.falkordb_url,
            neo4j_uri=self.neo4j_uri,
            neo4j_user=self.neo4j_user,
            neo4j_password=self.neo4j_password,
            neo4j_database=self.neo4j_database,
            timeout_s=self.timeout_s,
        )

    @contextmanager
    def open(self) -> Iterator[GraphBackend]:
        with graph_backend(self.store_config()) as backend:
            yield backend
