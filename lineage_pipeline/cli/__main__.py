"""``python -m lineage_pipeline.cli``: the ``lineage`` command line."""

from lineage_pipeline.cli.entry import main

main()
