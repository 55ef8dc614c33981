"""Wires assets, checks, the job, the sensor and the resources into the project's code location.

The settings are loaded here, once, when Dagster loads the code location (not at import), and every
resource and the sensor are built from them.
"""

import dagster as dg

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.graph_checks import graph_matches_manifest, no_dead_lettered_rows
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.assets.parsed_checks import parse_error_rate_below_threshold
from lineage_pipeline.assets.warehouse import warehouse_definitions
from lineage_pipeline.jobs import ingest_corpus
from lineage_pipeline.resources import build_resources
from lineage_pipeline.sensors.corpus_sensor import CorpusSensorConfig, build_corpus_sensor
from lineage_pipeline.settings import IngestionSettings, load_settings


def build_definitions(settings: IngestionSettings, *, warehouse: bool = True) -> dg.Definitions:
    """The code location for ``settings``: the pipeline and (``warehouse``) the warehouse its graph writes
    described, read from the warehouse facts store."""
    pipeline = dg.Definitions(
        assets=[sql_corpus, parsed_sql, lineage_graph],
        asset_checks=[no_dead_lettered_rows, parse_error_rate_below_threshold, graph_matches_manifest],
        jobs=[ingest_corpus],
        sensors=[build_corpus_sensor(CorpusSensorConfig.from_settings(settings))],
        resources=build_resources(settings),
    )
    return dg.Definitions.merge(pipeline, warehouse_definitions(settings.warehouse_facts_path)) if warehouse else pipeline


@dg.definitions
def defs() -> dg.Definitions:
    """The code location with this process's settings (``LINEAGE_CONFIG``, ``LINEAGE_*`` environment)."""
    return build_definitions(load_settings())


def ingest_job(config_file: str | None = None, corpus_root: str | None = None) -> dg.JobDefinition:
    """``ingest_corpus`` with the resources of ``config_file``'s settings (and ``corpus_root``, if given):
    how the launcher rebuilds the job in a run (``dg.build_reconstructable_job``) with the settings the
    command was given. The warehouse assets are left out: a run needs the job, not the whole warehouse."""
    overrides = {"corpus_root": corpus_root} if corpus_root else {}
    return build_definitions(load_settings(config_file, **overrides), warehouse=False).resolve_job_def("ingest_corpus")
