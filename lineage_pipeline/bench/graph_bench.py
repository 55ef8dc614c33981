"""``lineage bench graph``: graph write throughput by batch size on a fresh embedded FalkorDB.

Each batch size writes the same synthetic lineage (tables shared between files, column fan-in, as a
warehouse has) into its own empty graph of one server, through the real ``GraphWriter``. Batch size 1
is the one-write-per-entity baseline: every node and every relationship is its own transaction.
Nodes/s counts the node phase (files, tables, columns), relationships/s the relationship phase; the
stale-edge and commit phase is in the total. Row preparation is timed separately because it is all
that parse/write overlap could hide.
"""

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from lineage_pipeline.graph.backend import WriteStats
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.queries import graph_counts
from lineage_pipeline.graph.rows import build_file_graph
from lineage_pipeline.graph.writer import GraphWriter, file_statements
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, StatementLineage

DEFAULT_BATCH_SIZES = (1, 100, 1000, 5000)


def synthetic_lineages(files: int, columns: int) -> list[FileLineage]:
    """``files`` files; file i loads ``dw.t<i>`` from its own ``stg.t<i>`` and a shared ``dw.t<7i mod n>``."""
    lineages = []
    for i in range(files):
        shared, own, target = f"dw.t{(i * 7) % files}", f"stg.t{i}", f"dw.t{i}"
        sources = [own] if shared == target else [own, shared]
        edges = [
            ColumnEdge(target=f"{target}.c{j}", sources=[f"{s}.c{j}" for s in sources], transform="direct")
            for j in range(columns)
        ]
        statement = StatementLineage(index=0, kind="INSERT", sources=sources, targets=[target], columns=edges)
        lineages.append(FileLineage(path=f"bench/f{i:06d}.sql", dialect="tsql", statements=[statement]))
    return lineages


@dataclass
class BatchFigures:
    """One batch size's write of the whole corpus."""

    batch_size: int
    nodes: int
    relationships: int
    node_s: float
    relationship_s: float
    total_s: float
    transactions: int

    @property
    def nodes_per_s(self) -> float:
        return self.nodes / self.node_s if self.node_s else 0.0

    @property
    def relationships_per_s(self) -> float:
        return self.relationships / self.relationship_s if self.relationship_s else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "nodes_per_s": round(self.nodes_per_s), "relationships_per_s": round(self.relationships_per_s)}


@dataclass
class GraphBenchReport:
    files: int
    columns: int
    prepare_s: float
    results: list[BatchFigures]

    def baseline(self) -> BatchFigures:
        return next(r for r in self.results if r.batch_size == 1)

    def best(self) -> BatchFigures:
        return min(self.results, key=lambda r: r.total_s)

    def as_dict(self) -> dict:
        base, best = self.baseline(), self.best()
        return {
            "files": self.files,
            "columns_per_table": self.columns,
            "prepare_s": round(self.prepare_s, 3),
            "results": [r.as_dict() for r in self.results],
            "per_entity": {"batch_size": 1, "total_s": round(base.total_s, 3), "transactions": base.transactions},
            "best_batched": {"batch_size": best.batch_size, "total_s": round(best.total_s, 3), "transactions": best.transactions},
            "speedup_best_vs_per_entity": round(base.total_s / best.total_s, 1) if best.total_s else None,
            "overlap_bound": round(self.prepare_s / (self.prepare_s + best.total_s), 3),
        }


def run_graph_bench(files: int, columns: int, batch_sizes: list[int], data_dir: Path) -> GraphBenchReport:
    """Write the synthetic corpus once per batch size (1 is always included) and time each phase."""
    lineages = synthetic_lineages(files, columns)
    started = time.perf_counter()
    graphs = [build_file_graph(lin, "bench", "0" * 64, "r1") for lin in lineages]
    statements = file_statements(graphs)
    prepare_s = time.perf_counter() - started
    results = []
    for size in sorted(set(batch_sizes) | {1}):
        with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name=f"bench_{size}")) as backend:
            writer = GraphWriter(backend, batch_size=size)
            stats, phase = WriteStats(), {"node": 0.0, "relationship": 0.0, "other": 0.0}
            for name, rows in statements:
                kind = "node" if name in ("files", "tables", "columns") else "relationship" if name.startswith("merge:") else "other"
                began = time.perf_counter()
                writer.write_rows(name, rows, stats)
                phase[kind] += time.perf_counter() - began
            nodes, relationships = graph_counts(backend)
        results.append(BatchFigures(
            batch_size=size,
            nodes=sum(nodes.values()),
            relationships=sum(relationships.values()),
            node_s=phase["node"],
            relationship_s=phase["relationship"],
            total_s=sum(phase.values()),
            transactions=stats.transactions,
        ))
    return GraphBenchReport(files, columns, prepare_s, results)


@click.command(name="graph")
@click.option("--files", type=click.IntRange(min=1), default=500, show_default=True, help="Synthetic files to write.")
@click.option("--columns", type=click.IntRange(min=1), default=8, show_default=True, help="Columns per table.")
@click.option("--batch-sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)), show_default=True,
              help="Comma-separated rows per transaction; 1 (one write per entity) is always measured.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def graph_bench(files: int, columns: int, batch_sizes: str, output: str) -> None:
    """Graph write throughput by batch size on a fresh embedded FalkorDB, against one write per entity."""
    try:
        sizes = [int(s) for s in batch_sizes.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of integers: {batch_sizes!r}", param_hint="--batch-sizes") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("batch sizes must be positive integers", param_hint="--batch-sizes")
    with tempfile.TemporaryDirectory(prefix="lineage-graph-bench-") as tmp:
        try:
            report = run_graph_bench(files, columns, sizes, Path(tmp))
        finally:
            stop_server(Path(tmp))
    summary = report.as_dict()
    if output == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{files} files, {columns} columns per table; row preparation {report.prepare_s:.2f}s")
    click.echo(f"{'batch':>6} {'nodes':>7} {'rels':>7} {'nodes/s':>9} {'rels/s':>9} {'total s':>8} {'transactions':>12}")
    for r in report.results:
        click.echo(
            f"{r.batch_size:>6} {r.nodes:>7} {r.relationships:>7} {r.nodes_per_s:>9.0f} {r.relationships_per_s:>9.0f} "
            f"{r.total_s:>8.2f} {r.transactions:>12}"
        )
    best = report.best()
    click.echo(
        f"batched (batch {best.batch_size}) vs one write per entity: {summary['speedup_best_vs_per_entity']}x faster, "
        f"{best.transactions} vs {report.baseline().transactions} transactions; "
        f"parse/write overlap could save at most {summary['overlap_bound']:.1%}"
    )
