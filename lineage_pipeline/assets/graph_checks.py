"""Asset check of ``lineage_graph``: no row of the domain is waiting in the dead-letter file."""

import dagster as dg

from lineage_pipeline.assets.graph import lineage_graph
from lineage_pipeline.resources import GraphStoreResource

_SHOWN = 20


@dg.asset_check(asset=lineage_graph, description="No rows of this domain were rejected by the graph store (dead-letter file).")
def no_dead_lettered_rows(context: dg.AssetCheckExecutionContext, graph_store: GraphStoreResource) -> dg.AssetCheckResult:
    dead_letters = graph_store.dead_letters()
    domain = context.run.tags.get("dagster/partition")
    pending = dead_letters.read(domain)
    table = "\n".join(
        ["| statement | file | run | error |", "|---|---|---|---|"]
        + [f"| {e.statement} | {e.file or ''} | {e.run_id[:8]} | {e.error.replace('|', '/')[:200]} |" for e in pending[:_SHOWN]]
    )
    return dg.AssetCheckResult(
        passed=not pending,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "pending_rows": len(pending),
            "domain": domain or "(all)",
            "dead_letter_path": str(dead_letters.path),
            "rows": dg.MetadataValue.md(table if pending else "none"),
            "fix": "fix the cause, then run `lineage replay-failed`",
        },
    )
