"""``lineage bench graph``: graph write throughput by batch size on a fresh embedded FalkorDB.

Each batch size writes the same synthetic lineage (tables shared between files, column fan-in, as a
warehouse has) into its own empty graph of one server, through the real ``GraphWriter``. Batch size 1
is the one-write-per-entity baseline: every node and every relationship is its own transaction.
Nodes/s counts the node phase (files, tables, columns), relationships/s the relationship phase; the
stale-edge and commit phase is in the total. Row preparation is timed separately because it is all
that parse/write overlap could hide; a whole sync is then timed without and with that overlap.
"""

import json
import statistics
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
class OverlapFigures:
    """A whole sync (row preparation + write) with and without preparing the next chunk during the write."""

    batch_size: int
    chunk_files: int
    sequential_s: float
    overlapped_s: float


@dataclass
class GraphBenchReport:
    files: int
    columns: int
    prepare_s: float
    results: list[BatchFigures]
    overlap: OverlapFigures

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
            "overlap": {
                **asdict(self.overlap),
                "speedup": round(self.overlap.sequential_s / self.overlap.overlapped_s, 2),
            },
        }


def _timed_sync(data_dir: Path, graph_name: str, lineages: list[FileLineage], batch_size: int, overlap_files: int) -> float:
    by_path = {lin.path: lin for lin in lineages}

    def graphs_for(paths: list[str]):
        return [build_file_graph(by_path[p], "bench", "0" * 64, "r1") for p in paths]

    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name=graph_name)) as backend:
        writer = GraphWriter(backend, batch_size=batch_size, overlap_files=overlap_files)
        began = time.perf_counter()
        writer.sync_domain("bench", {path: "r1" for path in by_path}, graphs_for)
        elapsed = time.perf_counter() - began
        backend.write("MATCH (n) DETACH DELETE n")
        return elapsed


def _timed_write(data_dir: Path, graph_name: str, statements: list[tuple[str, list]], size: int) -> BatchFigures:
    with graph_backend(GraphStoreConfig(data_dir=data_dir, graph_name=graph_name)) as backend:
        writer = GraphWriter(backend, batch_size=size)
        stats, phase = WriteStats(), {"node": 0.0, "relationship": 0.0, "other": 0.0}
        for name, rows in statements:
            kind = "node" if name in ("files", "tables", "columns") else "relationship" if name.startswith("merge:") else "other"
            began = time.perf_counter()
            writer.write_rows(name, rows, stats)
            phase[kind] += time.perf_counter() - began
        nodes, relationships = graph_counts(backend)
        backend.write("MATCH (n) DETACH DELETE n")  # keep the server small for the next measurement
    return BatchFigures(
        batch_size=size,
        nodes=sum(nodes.values()),
        relationships=sum(relationships.values()),
        node_s=phase["node"],
        relationship_s=phase["relationship"],
        total_s=sum(phase.values()),
        transactions=stats.transactions,
    )


def _median_run(runs: list[BatchFigures]) -> BatchFigures:
    return sorted(runs, key=lambda r: r.total_s)[len(runs) // 2]


def run_graph_bench(
    files: int, columns: int, batch_sizes: list[int], data_dir: Path, overlap_batch_size: int = 1000, repeat: int = 1
) -> GraphBenchReport:
    """Write the synthetic corpus per batch size (1 is always included) and time each phase; then a whole
    sync at ``overlap_batch_size`` without and with parse/write overlap (chunks of 1/8 of the files).

    With ``repeat`` > 1 the sizes run round-robin ``repeat`` times (so load from other processes spreads
    over all of them) and the run with the median total time is reported.
    """
    lineages = synthetic_lineages(files, columns)
    started = time.perf_counter()
    statements = file_statements([build_file_graph(lin, "bench", "0" * 64, "r1") for lin in lineages])
    prepare_s = time.perf_counter() - started
    sizes = sorted(set(batch_sizes) | {1})
    chunk = max(1, files // 8)
    runs: dict[int, list[BatchFigures]] = {size: [] for size in sizes}
    sequential, overlapped = [], []
    for round_ in range(repeat):
        for size in sizes:
            runs[size].append(_timed_write(data_dir, f"bench_{size}_{round_}", statements, size))
        sequential.append(_timed_sync(data_dir, f"bench_sequential_{round_}", lineages, overlap_batch_size, 0))
        overlapped.append(_timed_sync(data_dir, f"bench_overlapped_{round_}", lineages, overlap_batch_size, chunk))
    overlap = OverlapFigures(overlap_batch_size, chunk, statistics.median(sequential), statistics.median(overlapped))
    return GraphBenchReport(files, columns, prepare_s, [_median_run(runs[size]) for size in sizes], overlap)


@click.command(name="graph")
@click.option("--files", type=click.IntRange(min=1), default=500, show_default=True, help="Synthetic files to write.")
@click.option("--columns", type=click.IntRange(min=1), default=8, show_default=True, help="Columns per table.")
@click.option("--batch-sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)), show_default=True,
              help="Comma-separated rows per transaction; 1 (one write per entity) is always measured.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Rounds over all sizes; the median run of each is reported.")
@click.option("--overlap-batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Batch size of the whole-sync overlap comparison.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def graph_bench(files: int, columns: int, batch_sizes: str, repeat: int, overlap_batch_size: int, output: str) -> None:
    """Graph write throughput by batch size on a fresh embedded FalkorDB, against one write per entity."""
    try:
        sizes = [int(s) for s in batch_sizes.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of integers: {batch_sizes!r}", param_hint="--batch-sizes") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("batch sizes must be positive integers", param_hint="--batch-sizes")
    with tempfile.TemporaryDirectory(prefix="lineage-graph-bench-") as tmp:
        try:
            report = run_graph_bench(files, columns, sizes, Path(tmp), overlap_batch_size, repeat)
        finally:
            stop_server(Path(tmp))
    summary = report.as_dict()
    if output == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"{files} files, {columns} columns per table, median of {repeat} round(s); row preparation {report.prepare_s:.2f}s"
    )
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
        f"row preparation is {summary['overlap_bound']:.1%} of prepare+write"
    )
    o = report.overlap
    click.echo(
        f"whole sync at batch {o.batch_size}: {o.sequential_s:.2f}s sequential, {o.overlapped_s:.2f}s with rows of the "
        f"next {o.chunk_files} files prepared during each write ({summary['overlap']['speedup']}x)"
    )
