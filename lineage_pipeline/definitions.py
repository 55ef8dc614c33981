"""Wires assets, jobs and resources into the project's code location."""

import os

import dagster as dg

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.graph_checks import no_dead_lettered_rows
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.assets.quality_checks import graph_matches_manifest, parse_error_rate_below_threshold
from lineage_pipeline.jobs import ingest_corpus
from lineage_pipeline.resources import CorpusResource, GraphStoreResource, LocalStoresResource
from lineage_pipeline.sensors.corpus_sensor import sql_corpus_sensor

_NEO4J_PASSWORD = "LINEAGE_NEO4J_PASSWORD"

defs = dg.Definitions(
    assets=[sql_corpus, parsed_sql, lineage_graph],
    asset_checks=[no_dead_lettered_rows, parse_error_rate_below_threshold, graph_matches_manifest],
    jobs=[ingest_corpus],
    sensors=[sql_corpus_sensor],
    resources={
        "corpus": CorpusResource(),
        "stores": LocalStoresResource(),
        "graph_store": GraphStoreResource(
            neo4j_password=dg.EnvVar(_NEO4J_PASSWORD) if os.environ.get(_NEO4J_PASSWORD) else None
        ),
    },
)
