"""Project settings: defaults < YAML file (``config/ingestion.yaml`` or ``LINEAGE_CONFIG``) < ``LINEAGE_*`` env vars.

Dagster resources take their defaults from here and run config overrides them per run. Relative paths
resolve against the project root, so every process (CLI, Dagster step, test subprocess) sees the same
corpus and data directory wherever it was started from. Feature flags rewrite the knobs they govern
(``baseline_mode`` turns every optimisation off); docs/configuration.md lists every key.
"""

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "ingestion.yaml"

BACKEND_WRITE_BATCH_LIMITS = {"falkordb": 10_000, "neo4j": 50_000}
"""Most rows one write transaction may carry per backend: FalkorDB inlines parameters into the query
text (a larger batch is one huge string the server must parse), Neo4j holds the batch in one tx state."""


def combination_error(keys: tuple[str, ...], message: str) -> PydanticCustomError:
    """A validation error about several keys at once; ``keys`` lets the error report name their sources."""
    return PydanticCustomError("invalid_combination", message, {"keys": ",".join(keys)})


def default_config_file() -> Path:
    """The YAML settings file when none is given: ``LINEAGE_CONFIG`` or the project's ``config/ingestion.yaml``."""
    return Path(os.environ.get("LINEAGE_CONFIG") or DEFAULT_CONFIG_FILE)


AUTO_DIALECT = "auto"
"""A folder dialect that asks the scan to pick the dialect that reads the folder's files best."""


def _checked_dialect(name: str, folder: str | None = None) -> str:
    from lineage_pipeline.parsing.dialects import validate_dialect  # sqlglot: only when settings are validated

    problem = validate_dialect(name, extra=(AUTO_DIALECT,))
    if problem:
        raise ValueError(f"folder {folder!r}: {problem}" if folder else problem)
    return name


class IngestionSettings(BaseSettings):
    """Every knob of the pipeline in one validated place; the default of each knob is written here only."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="forbid", env_nested_delimiter="__")
    yaml_file: ClassVar[Path | None] = None
    """The YAML file this class reads; None = ``default_config_file()`` at construction (see ``load_settings``)."""

    corpus_root: Path = Path("examples/bank_corpus")
    data_dir: Path = Path("data")
    file_extensions: list[str] = Field(default_factory=lambda: [".sql"])
    folder_dialects: dict[str, str] = Field(default_factory=dict)
    default_dialect: str = "postgres"
    max_file_bytes: int = Field(default=5_000_000, ge=1)

    graph_backend: Literal["falkordb", "neo4j"] = "falkordb"
    graph_name: str = Field(default="lineage", min_length=1)
    falkordb_url: str | None = None
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    write_batch_size: int = Field(default=1000, ge=1)  # upper bound per backend: BACKEND_WRITE_BATCH_LIMITS
    max_delete_fraction: float = Field(default=0.5, gt=0, le=1)
    # graph write faults (issue 5): transient errors retried after base * 2**n s (1, 2, 4, 8, 16 by default)
    write_max_retries: int = Field(default=5, ge=0, le=20)
    write_retry_base_delay_s: float = Field(default=1.0, ge=0)
    write_retry_deadline_s: float = Field(default=30.0, ge=0)
    """A graph store outage ends the run with a one-line error this long after the first failure (0: none)."""
    graph_timeout_s: float = Field(default=120.0, gt=0)
    graph_connect_timeout_s: float = Field(default=5.0, gt=0)
    orphan_policy: Literal["remove", "mark"] = "remove"
    dead_letter_path: Path | None = None
    """Rows the graph store rejected (relative to data_dir); unset = ``<data_dir>/failed_ingestion.jsonl``."""

    # sensor knobs (sql_corpus_sensor): LINEAGE_<KEY> wins over the bare <KEY> spelling of the issue
    enable_batching: bool = Field(default=True, validation_alias=AliasChoices("lineage_enable_batching", "enable_batching"))
    debounce_window_seconds: float = Field(
        default=5.0, ge=0, validation_alias=AliasChoices("lineage_debounce_window_seconds", "debounce_window_seconds")
    )
    batch_size_threshold: int = Field(
        default=50, ge=1, validation_alias=AliasChoices("lineage_batch_size_threshold", "batch_size_threshold")
    )
    max_in_flight_runs: int = Field(
        default=4, ge=1, validation_alias=AliasChoices("lineage_max_in_flight_runs", "max_in_flight_runs")
    )
    sensor_interval_seconds: int = Field(
        default=5, ge=1, validation_alias=AliasChoices("lineage_sensor_interval_seconds", "sensor_interval_seconds")
    )

    # parse cache and parse pool (parsed_sql); enable_parse_cache and workers are with the feature flags below
    parse_cache_path: Path | None = Field(
        default=None, validation_alias=AliasChoices("lineage_parse_cache_path", "parse_cache_path")
    )
    """SQLite parse cache; unset = ``<data_dir>/parse_cache.sqlite``."""
    parse_cache_max_entries: int = Field(default=250_000, ge=1)
    """LRU bound; above the corpus size, or a warm run of a 100k-file corpus parses what was evicted again."""
    parse_cache_ttl_days: float = Field(default=30.0, gt=0)
    parse_chunk_size: int = Field(default=16, ge=1, le=10_000)
    parse_file_timeout_s: float = Field(default=120.0, gt=0)
    parse_worker_start: Literal["auto", "fork", "spawn"] = "auto"
    """How parse workers start: ``auto`` forks a single-threaded process (ready in milliseconds), else
    starts fresh interpreters; ``spawn`` always starts fresh interpreters (see ``parse_pool``)."""

    @field_validator("parse_cache_path")
    @classmethod
    def _parse_cache_inside_project(cls, path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else PROJECT_ROOT / path

    @property
    def warehouse_facts_path(self) -> Path:
        """Each file's warehouse facts (tables, columns, lineage) as the graph writes left them (Dagster assets)."""
        return self.data_dir / "warehouse_facts.sqlite"

    @property
    def parse_results_path(self) -> Path:
        """Each domain's latest parse results, handed from ``parsed_sql`` to ``lineage_graph``."""
        return self.data_dir / "parse_results.sqlite"

    @property
    def effective_parse_cache_path(self) -> Path:
        """``parse_cache_path`` or ``<data_dir>/parse_cache.sqlite``."""
        return self.parse_cache_path or self.data_dir / "parse_cache.sqlite"

    # feature flags: each optimisation can be switched off alone; baseline_mode switches them all off
    baseline_mode: bool = False
    enable_parse_cache: bool = Field(
        default=True, validation_alias=AliasChoices("lineage_enable_parse_cache", "enable_parse_cache")
    )
    enable_batched_writes: bool = True
    enable_pipelined_writes: bool = True
    """Send a write batch before the previous one's reply is read (FalkorDB; Neo4j writes one at a time)."""
    enable_parallel_workers: bool = True
    workers: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), ge=1, le=64)

    # observability
    metrics_dir: Path | None = None
    parse_error_rate_threshold: float = Field(default=0.25, ge=0, le=1)
    statsd_host: str | None = Field(default=None, validation_alias=AliasChoices("lineage_statsd_host", "statsd_host"))
    statsd_port: int = Field(default=8125, ge=1, le=65535, validation_alias=AliasChoices("lineage_statsd_port", "statsd_port"))
    statsd_prefix: str = "lineage"

    # knob -> why its configured value was replaced (a feature flag or baseline_mode); read by `lineage config show`
    _overridden: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("default_dialect")
    @classmethod
    def _known_dialect(cls, name: str) -> str:
        return _checked_dialect(name)

    @field_validator("folder_dialects")
    @classmethod
    def _known_folder_dialects(cls, dialects: dict[str, str]) -> dict[str, str]:
        return {folder: _checked_dialect(name, folder) for folder, name in dialects.items()}

    @field_validator("file_extensions")
    @classmethod
    def _dotted_lowercase(cls, extensions: list[str]) -> list[str]:
        if not extensions:
            raise ValueError("at least one file extension is required")
        return [e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions]

    @field_validator("corpus_root", "data_dir")
    @classmethod
    def _inside_project(cls, path: Path) -> Path:
        return path if path.is_absolute() else PROJECT_ROOT / path

    @field_validator("metrics_dir")
    @classmethod
    def _metrics_dir_inside_project(cls, path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else PROJECT_ROOT / path

    @field_validator("corpus_root")
    @classmethod
    def _corpus_root_readable(cls, path: Path) -> Path:
        if not path.is_dir():
            raise ValueError(f"corpus root {path} does not exist or is not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise ValueError(f"corpus root {path} is not readable by this process")
        return path

    @model_validator(mode="after")
    def _backend_needs_location(self) -> "IngestionSettings":
        if self.graph_backend == "neo4j" and not self.neo4j_uri:
            raise combination_error(("graph_backend", "neo4j_uri"), "graph_backend is 'neo4j' but neo4j_uri is not set")
        return self

    @model_validator(mode="after")
    def _batch_within_backend_limit(self) -> "IngestionSettings":
        limit = BACKEND_WRITE_BATCH_LIMITS[self.graph_backend]
        if self.write_batch_size > limit:
            raise combination_error(
                ("write_batch_size", "graph_backend"),
                f"write_batch_size {self.write_batch_size} is above the {self.graph_backend} backend's limit of {limit}",
            )
        return self

    @model_validator(mode="after")
    def _apply_feature_flags(self) -> "IngestionSettings":
        # baseline_mode and the flags rewrite the knobs they govern, so every consumer obeys them by reading settings
        if self.baseline_mode:
            flags = ("enable_parse_cache", "enable_batching", "enable_batched_writes", "enable_pipelined_writes",
                     "enable_parallel_workers")
            for flag in flags:
                if getattr(self, flag):
                    setattr(self, flag, False)
                    self._overridden[flag] = "baseline_mode"
        if not self.enable_batched_writes and self.write_batch_size != 1:
            self.write_batch_size = 1
            self._overridden["write_batch_size"] = "enable_batched_writes=false"
        if not self.enable_parallel_workers and self.workers != 1:
            self.workers = 1
            self._overridden["workers"] = "enable_parallel_workers=false"
        return self

    @classmethod
    def source_file(cls) -> Path:
        """The YAML file these settings are read from."""
        return cls.yaml_file or default_config_file()

    @property
    def overridden(self) -> dict[str, str]:
        """Knobs whose configured value a feature flag or ``baseline_mode`` replaced, with the reason."""
        return dict(self._overridden)

    @property
    def effective_metrics_dir(self) -> Path:
        """Where prometheus-client's multiprocess files live: ``metrics_dir`` or ``<data_dir>/metrics``."""
        return self.metrics_dir or self.data_dir / "metrics"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=settings_cls.source_file())  # type: ignore[attr-defined]
        return (init_settings, env_settings, yaml_source)


class InvalidSettingsError(ValueError):
    """The settings failed validation; the message names each key, its value and where it came from."""


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> IngestionSettings:
    """The settings from ``config_file`` (None: ``LINEAGE_CONFIG`` or ``config/ingestion.yaml``) and the
    environment; ``overrides`` (e.g. a command's ``--corpus``) win over both.

    Reads afresh on every call: callers load once where they assemble things (``definitions``, a CLI
    command) and pass the result on. Raises InvalidSettingsError with a report naming key, value and
    source, so a failed start (CLI, Dagster code location, run worker) says what to fix.
    """
    settings_cls: type[IngestionSettings] = IngestionSettings
    if config_file is not None:
        settings_cls = type("IngestionSettings", (IngestionSettings,), {"yaml_file": Path(config_file)})
    try:
        return settings_cls(**overrides)
    except (ValidationError, SettingsError) as error:
        from lineage_pipeline.settings_sources import describe_error  # it introspects this module's model

        raise InvalidSettingsError(f"invalid settings:\n{describe_error(error, settings_cls.source_file())}") from None
    except yaml.YAMLError as error:
        raise InvalidSettingsError(f"invalid settings file {settings_cls.source_file()}: {error}") from None


def knob_default(name: str) -> Any:
    """The default of setting ``name``, for code that takes the knob as an argument with a default:
    each default is written once, on ``IngestionSettings``."""
    return IngestionSettings.model_fields[name].get_default(call_default_factory=True)
