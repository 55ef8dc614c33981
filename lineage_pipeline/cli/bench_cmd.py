"""``lineage bench``: generate corpora and measure the pipeline against a baseline in the same run."""

import click


@click.group()
def bench() -> None:
    """Benchmarks; every figure is reported next to a baseline measured in the same invocation."""
