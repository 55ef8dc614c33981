"""Jobs: ``ingest_corpus`` materializes manifest, parse results and graph for one domain partition."""

import dagster as dg

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.assets.parsed import parsed_sql

# in-process: the three steps share one process, which saves seconds of start-up per run and
# keeps one graph connection per run; parallelism lives inside parsed_sql instead.
ingest_corpus = dg.define_asset_job(
    "ingest_corpus",
    selection=dg.AssetSelection.assets(sql_corpus, parsed_sql, lineage_graph),
    executor_def=dg.in_process_executor,
    description="Scan, parse and write the lineage graph of one corpus domain.",
)
