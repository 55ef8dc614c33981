"""Entry point of the ``lineage`` console script (``python -m lineage_pipeline.cli`` runs the same)."""

from lineage_pipeline.cli.main import cli


def main() -> None:
    cli(prog_name="lineage")
