"""Project settings: defaults < YAML file (``config/ingestion.yaml`` or ``LINEAGE_CONFIG``) < ``LINEAGE_*`` env vars.

Relative paths in settings resolve against the project root, so every process (CLI, Dagster step,
test subprocess) sees the same corpus and data directory wherever it was started from.
"""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "ingestion.yaml"


def config_file() -> Path:
    """The YAML settings file in force: ``LINEAGE_CONFIG`` or the project's ``config/ingestion.yaml``."""
    return Path(os.environ.get("LINEAGE_CONFIG") or DEFAULT_CONFIG_FILE)


class IngestionSettings(BaseSettings):
    """Every knob of the pipeline in one validated place."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="forbid", env_nested_delimiter="__")

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
    write_batch_size: int = Field(default=1000, ge=1, le=50_000)
    max_delete_fraction: float = Field(default=0.5, gt=0, le=1)

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

    @model_validator(mode="after")
    def _backend_needs_location(self) -> "IngestionSettings":
        if self.graph_backend == "neo4j" and not self.neo4j_uri:
            raise ValueError("graph_backend is 'neo4j' but neo4j_uri (LINEAGE_NEO4J_URI) is not set")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file())
        return (init_settings, env_settings, yaml_source)


@lru_cache(maxsize=1)
def load_settings() -> IngestionSettings:
    """The settings of this process, read once."""
    return IngestionSettings()
