"""The ``lineage`` command line: ingest a corpus, parse files, query and manage the graph."""

import os

import click

from lineage_pipeline.cli.bench_cmd import bench
from lineage_pipeline.cli.cache_cmd import cache
from lineage_pipeline.cli.config_cmd import config
from lineage_pipeline.cli.flush_cmd import flush
from lineage_pipeline.cli.graph_cmd import downstream, graph, upstream
from lineage_pipeline.cli.ingest_cmd import ingest
from lineage_pipeline.cli.metrics_cmd import metrics
from lineage_pipeline.cli.parse_cmd import parse
from lineage_pipeline.cli.replay_cmd import replay_failed_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config-file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="LINEAGE_CONFIG",
    help="Settings YAML (default: config/ingestion.yaml; env LINEAGE_CONFIG).",
)
def cli(config_file: str | None) -> None:
    """Table- and column-level SQL lineage: ingest a corpus into the graph and ask it questions."""
    if config_file:
        # settings are read lazily by every command and by Dagster steps in this process
        os.environ["LINEAGE_CONFIG"] = os.path.abspath(config_file)


for command in (ingest, parse, upstream, downstream, graph, cache, replay_failed_command, flush, config, metrics, bench):
    cli.add_command(command)
