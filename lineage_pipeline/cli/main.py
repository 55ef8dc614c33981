"""The ``lineage`` command line: ingest a corpus, parse files, query and manage the graph.

Commands are imported when they run: ``COMMANDS`` names each one's module and keeps its one-line help
for ``lineage --help``. A new command is one line here (its help = the first sentence of its docstring).
"""

from pathlib import Path

import click

from lineage_pipeline.cli.common import CliState
from lineage_pipeline.cli.lazy import LazyGroup, LazyRegistry

COMMANDS: LazyRegistry = {
    "bench": (
        "lineage_pipeline.cli.bench_cmd:bench",
        "Benchmarks; every figure is reported next to a baseline measured in the same invocation.",
    ),
    "cache": (
        "lineage_pipeline.cli.cache_cmd:cache",
        "The parse cache: results keyed by file content, dialect and parser version.",
    ),
    "config": ("lineage_pipeline.cli.config_cmd:config", "Inspect the project settings (defaults < YAML file < environment)."),
    "export": ("lineage_pipeline.cli.export_cmd:export", "Export the lineage graph to other tools."),
    "impact": (
        "lineage_pipeline.cli.impact_cmd:impact",
        "Everything downstream of table or column NAME, nearest first, with the files, procedures, statements and lines "
        "that read or write each (report queries that only read included) and the transform kind on each hop.",
    ),
    "show": (
        "lineage_pipeline.cli.show_cmd:show",
        "Draw the table-level (and with --columns the column-level) lineage around table or column NAME, with the "
        "report queries that read it.",
    ),
    "downstream": (
        "lineage_pipeline.cli.graph_cmd:downstream",
        "List the tables (TABLE) or columns (TABLE.COLUMN) downstream of NAME, nearest first.",
    ),
    "flush": (
        "lineage_pipeline.cli.flush_cmd:flush",
        "Emit the sensor's pending batch at its next tick (debounce and threshold are skipped).",
    ),
    "graph": ("lineage_pipeline.cli.graph_cmd:graph", "Manage the graph store (the embedded FalkorDB server by default)."),
    "ingest": (
        "lineage_pipeline.cli.ingest_cmd:ingest",
        "Scan, parse and write the lineage graph of every domain of the corpus, one Dagster run each.",
    ),
    "metrics": (
        "lineage_pipeline.cli.metrics_cmd:metrics",
        "Prometheus metrics aggregated over every process that wrote them (multiprocess mode).",
    ),
    "parse": (
        "lineage_pipeline.cli.parse_cmd:parse",
        "Extract table- and column-level lineage from SQL files or folders (PATH...).",
    ),
    "replay-failed": (
        "lineage_pipeline.cli.replay_cmd:replay_failed_command",
        "Re-apply the dead-lettered rows (failed_ingestion.jsonl); exits 1 if any still fail.",
    ),
    "upstream": (
        "lineage_pipeline.cli.graph_cmd:upstream",
        "List the tables (TABLE) or columns (TABLE.COLUMN) upstream of NAME, nearest first.",
    ),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="LINEAGE_CONFIG",
    help="Settings YAML (default: config/ingestion.yaml; env LINEAGE_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Table- and column-level SQL lineage: ingest a corpus into the graph and ask it questions."""
    ctx.obj = CliState(config_file=config_file.resolve() if config_file else None)
