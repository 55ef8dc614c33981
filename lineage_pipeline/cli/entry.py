"""Entry point of the ``lineage`` console script (``python -m lineage_pipeline.cli`` runs the same)."""

from lineage_pipeline.cli.main import cli
from lineage_pipeline.pipeline.collector import tune_for_ingest


def main() -> None:
    tune_for_ingest()
    cli(prog_name="lineage")
