"""``lineage bench write-rate``: relationships written per second into a small graph and into a large one.

Takes ``--files`` files of one domain of an ingested data dir (e.g. a ``bench scale`` work dir's
``data-100000``), removes their lineage from that graph and writes it again, then writes the same files
into a fresh graph that holds only ``--preload`` other files of the domain: the same rows, so the two
rates differ only by what the graphs already hold. The large graph ends as it started.
"""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

from lineage_pipeline.corpus.manifest import load_manifest
from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend, WriteStats
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.rows import FileGraph, build_file_graph
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.pipeline.graph_stage import current_revisions
from lineage_pipeline.stores.parse_results import ParseResults


@dataclass(frozen=True)
class Rate:
    graph: str
    existing_relationships: int
    relationships: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.relationships / self.seconds if self.seconds else 0.0


def _relationships(backend: GraphBackend) -> int:
    return sum(int(backend.read(cypher.count_relationships(t))[0][0]) for t in cypher.RELATIONSHIP_ENDPOINTS)


def _write(name: str, backend: GraphBackend, graphs: list[FileGraph], preload: list[FileGraph]) -> Rate:
    writer = GraphWriter(backend)
    writer.write_files(preload, WriteStats())
    writer.delete_files([g.path for g in graphs], WriteStats())
    existing = _relationships(backend)
    stats = WriteStats()
    started = time.perf_counter()
    writer.write_files(graphs, stats)
    return Rate(name, existing, stats.relationships_created, time.perf_counter() - started)


def measure(data_dir: Path, domain: str, files: int, preload: int) -> list[Rate]:
    """The write rate of the same ``files`` files into a graph of ``preload`` files and into ``data_dir``'s."""
    manifest = load_manifest(data_dir / "manifests", domain)
    results = ParseResults(data_dir / "parse_results.sqlite")
    revisions = current_revisions(manifest, results)
    sha256 = {e.path: e.sha256 for e in manifest.files}
    paths = [e.path for e in manifest.files]
    if len(paths) < files + preload:
        raise click.ClickException(f"domain {domain!r} has {len(paths)} files, fewer than --files + --preload")

    def graphs(chosen: list[str]) -> list[FileGraph]:
        return [build_file_graph(lin, domain, sha256[lin.path], revisions[lin.path]) for lin in results.read(chosen)]

    measured, others = graphs(paths[-files:]), graphs(paths[:preload])
    rates = []
    with tempfile.TemporaryDirectory(prefix="lineage-write-rate-") as scratch:
        small = open_backend(GraphStoreConfig(data_dir=Path(scratch), graph_name="lineage"))
        try:
            rates.append(_write("small", small, measured, others))
        finally:
            small.close()
            stop_server(Path(scratch))
    large = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="lineage"))
    try:
        rates.append(_write("large", large, measured, []))
    finally:
        large.close()
    return rates


@click.command("write-rate")
@click.option("--data-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="An ingested data dir (manifests, parse results, graph), e.g. a bench scale work dir's data-100000.")
@click.option("--domain", default="core", show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--preload", type=click.IntRange(min=0), default=250, show_default=True,
              help="Other files of the domain the small graph holds first.")
def write_rate(data_dir: Path, domain: str, files: int, preload: int) -> None:
    """Relationships written per second by the same new files into a small graph and into a large one."""
    rates = measure(data_dir.resolve(), domain, files, preload)
    click.echo("graph | existing relationships | relationships written | seconds | rels/s")
    for rate in rates:
        click.echo(f"{rate.graph} | {rate.existing_relationships} | {rate.relationships} | {rate.seconds:.2f} | "
                   f"{rate.per_second:,.0f}")
    small, large = rates
    click.echo(f"large / small rate: {large.per_second / small.per_second:.2f}")
