"""``lineage bench cache``: parse cache and parse pool, each figure next to its baseline in the same run.

On one generated corpus (or ``--corpus``):

- parse stage, in this process, every domain scanned and parsed as ``parsed_sql`` does it
  (``build_manifest`` + ``parse_domain_files`` with the domain's own catalog): ``cold, 1 worker`` (empty cache) is the baseline of
  ``cold, N workers`` (empty cache), which is the baseline of ``warm`` (every file in the cache, and
  the scan reusing the previous manifest's hashes of files whose stat signature is unchanged);
- whole ingest (scan, parse, graph write into an embedded FalkorDB), each pass a process of its own
  (``ingest_pass``): ``cold ingest`` is the baseline of ``warm ingest`` of the unchanged corpus;
- peak RSS of the process tree (parent and parse workers, sampled with psutil) of a cold ingest of
  two corpus sizes, to show memory does not grow with the corpus; the graph server is reported apart.
"""

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from benchmarks.generate import generate_corpus
from benchmarks.run_bench import BenchError, PassResult, run_pass_process
from lineage_pipeline.cli.common import settings_or_exit
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import DomainManifest, build_manifest
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.pipeline.parse_stage import ParseOptions, parse_domain_files
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults

_TARGETS = {"warm_vs_cold": 20.0, "warm_parse_files_per_s": 5000.0, "workers_vs_one_worker": 1.7, "peak_rss_mb": 1024.0}


@dataclass(frozen=True)
class Pass:
    """One scan + parse of the whole corpus."""

    name: str
    files: int
    workers: int
    hits: int
    misses: int
    scan_s: float
    parse_s: float
    p50_file_ms: float
    p95_file_ms: float

    @property
    def total_s(self) -> float:
        return self.scan_s + self.parse_s

    @property
    def parse_files_per_s(self) -> float:
        return self.files / self.parse_s if self.parse_s else 0.0


def _manifests(root: Path, settings, previous: dict[str, DomainManifest]) -> list[DomainManifest]:
    """Every domain's manifest; a file whose stat signature ``previous`` holds is not re-read. ``previous``
    is updated in place, as ``sql_corpus`` saves the manifest for the next scan."""
    domains = discover_domains(root, settings.file_extensions)
    for domain in domains:
        previous[domain] = build_manifest(
            root, domain, settings.file_extensions, settings.folder_dialects, settings.default_dialect,
            previous.get(domain),
        )
    return [previous[domain] for domain in domains]


def run_pass(
    name: str,
    root: Path,
    cache: ParseCache,
    results: ParseResults,
    workers: int,
    settings,
    manifests: dict[str, DomainManifest] | None = None,
) -> Pass:
    """Scan and parse every domain of ``root`` through ``cache`` into ``results`` with ``workers`` processes;
    ``manifests`` are the previous scan's (reused where unchanged, then replaced by this pass's), None = a
    scan from scratch."""
    started = time.perf_counter()
    scanned = _manifests(root, settings, {} if manifests is None else manifests)
    scan_s = time.perf_counter() - started
    options = ParseOptions(workers, settings.parse_chunk_size, settings.parse_file_timeout_s, settings.parse_worker_start)
    outcomes = [parse_domain_files(m, (), cache, results, settings.max_file_bytes, options)[0] for m in scanned]
    parse_s = sum(o.seconds for o in outcomes)
    file_ms = sorted(ms for o in outcomes for ms in o.file_ms)

    def pct(q: float) -> float:
        return round(file_ms[min(len(file_ms) - 1, int(q * len(file_ms)))], 2) if file_ms else 0.0

    return Pass(
        name, sum(o.files for o in outcomes), workers, sum(o.hits for o in outcomes), sum(o.misses for o in outcomes),
        round(scan_s, 3), round(parse_s, 3), pct(0.5), pct(0.95),
    )


def _ingest(name: str, root: Path, data_dir: Path, workers: int) -> PassResult:
    try:
        return run_pass_process(name, root, data_dir, baseline=False, workers=workers)
    except BenchError as error:
        raise click.ClickException(str(error)) from None


def _ingest_row(result: PassResult) -> dict:
    f = result.figures
    return {
        "name": result.name, "files": f.files, "parsed": f.parsed, "reused": f.reused, "seconds": round(f.seconds, 3),
        "scan_s": round(f.scan_s, 3), "parse_s": round(f.parse_s, 3), "write_s": round(f.write_s, 3),
        "peak_rss_mb": round(result.peak_rss_mb, 1), "server_peak_rss_mb": round(result.server_peak_rss_mb, 1),
    }


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator else 0.0


@click.command("cache")
@click.option("--files", "file_count", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Size of the generated corpus for the cold/warm passes.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Use this corpus instead of generating one.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=2), default=2, show_default=True,
              help="Workers of the parallel passes (the baseline uses 1).")
@click.option("--rss-files", default="2000,10000", show_default=True,
              help="Comma-separated corpus sizes for the peak-RSS cold ingests; empty to skip.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def cache_bench(file_count: int, corpus: Path | None, seed: int, workers: int, rss_files: str, output: str) -> None:
    """Cold (1 and N workers) vs. warm parse stage and whole ingest of one corpus; peak RSS of cold ingests."""
    settings = settings_or_exit()
    rss_sizes = [int(n) for n in rss_files.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="lineage-cache-bench-") as scratch:
        work = Path(scratch)
        root = corpus or work / "corpus"
        if corpus is None:
            generate_corpus(root, file_count, seed)
        data_dirs = [work / "ingest", *(work / f"rss{size}-data" for size in rss_sizes)]
        try:
            ttl_s = settings.parse_cache_ttl_days * 86400
            one = run_pass(
                "cold, 1 worker", root, ParseCache(work / "one.sqlite", max_entries=settings.parse_cache_max_entries,
                                                   ttl_seconds=ttl_s),
                ParseResults(work / "one-results.sqlite"), 1, settings,
            )
            cache = ParseCache(work / "many.sqlite", max_entries=max(settings.parse_cache_max_entries, one.files),
                               ttl_seconds=ttl_s)
            results = ParseResults(work / "many-results.sqlite")
            scanned: dict[str, DomainManifest] = {}
            many = run_pass(f"cold, {workers} workers", root, cache, results, workers, settings, scanned)
            warm = run_pass(f"warm, {workers} workers", root, cache, results, workers, settings, scanned)
            cold_ingest = _ingest("cold ingest", root, data_dirs[0], workers)
            warm_ingest = _ingest("warm ingest", root, data_dirs[0], workers)
            probes = []
            for size, data_dir in zip(rss_sizes, data_dirs[1:], strict=True):
                generate_corpus(work / f"rss{size}", size, seed)
                probes.append(_ingest(f"cold ingest {size} files", work / f"rss{size}", data_dir, workers))
        finally:
            for data_dir in data_dirs:
                stop_server(data_dir)
    ingests = [_ingest_row(r) for r in (cold_ingest, warm_ingest)]
    report = {
        "corpus": str(corpus) if corpus else f"generated, {file_count} files, seed {seed}",
        "parse_passes": [
            asdict(p) | {"total_s": round(p.total_s, 3), "parse_files_per_s": round(p.parse_files_per_s, 1)}
            for p in (one, many, warm)
        ],
        "ingest_passes": ingests,
        "ratios": {
            "warm_vs_cold_ingest": _ratio(cold_ingest.figures.seconds, warm_ingest.figures.seconds),
            "warm_vs_cold_scan_and_parse": _ratio(many.total_s, warm.total_s),
            "warm_vs_cold_parse_stage": _ratio(many.parse_s, warm.parse_s),
            "warm_parse_files_per_s": round(warm.parse_files_per_s, 1),
            "workers_vs_one_worker": _ratio(one.parse_s, many.parse_s),
        },
        "rss": [_ingest_row(p) for p in probes],
        "targets": _TARGETS,
    }
    if output == "json":
        click.echo(json.dumps(report, indent=2))
        return
    _print_table(report, workers)


def _print_table(report: dict, workers: int) -> None:
    click.echo(f"corpus: {report['corpus']}")
    click.echo("parse stage (scan + parse_domain_files, in process):")
    click.echo(f"  {'pass':<20}{'files':>7}{'hits':>7}{'misses':>8}{'scan s':>9}{'parse s':>9}{'total s':>9}"
               f"{'parse files/s':>15}{'p50 ms':>8}{'p95 ms':>8}")
    for p in report["parse_passes"]:
        click.echo(f"  {p['name']:<20}{p['files']:>7}{p['hits']:>7}{p['misses']:>8}{p['scan_s']:>9.2f}{p['parse_s']:>9.2f}"
                   f"{p['total_s']:>9.2f}{p['parse_files_per_s']:>15.0f}{p['p50_file_ms']:>8.2f}{p['p95_file_ms']:>8.2f}")
    click.echo("whole ingest (scan + parse + graph write, one process per pass):")
    click.echo(f"  {'pass':<26}{'files':>7}{'parsed':>8}{'reused':>8}{'total s':>9}{'scan s':>8}{'parse s':>9}"
               f"{'write s':>9}{'tree RSS MB':>13}{'server MB':>11}")
    for p in report["ingest_passes"] + report["rss"]:
        click.echo(f"  {p['name']:<26}{p['files']:>7}{p['parsed']:>8}{p['reused']:>8}{p['seconds']:>9.2f}{p['scan_s']:>8.2f}"
                   f"{p['parse_s']:>9.2f}{p['write_s']:>9.2f}{p['peak_rss_mb']:>13.0f}{p['server_peak_rss_mb']:>11.0f}")
    r = report["ratios"]
    click.echo(f"warm vs cold: whole ingest {r['warm_vs_cold_ingest']}x, scan+parse {r['warm_vs_cold_scan_and_parse']}x, "
               f"parse stage {r['warm_vs_cold_parse_stage']}x (target >= 20x)")
    click.echo(f"warm parse stage: {r['warm_parse_files_per_s']:.0f} files/s (target >= 5000)")
    click.echo(f"cold parse stage, {workers} workers vs 1: {r['workers_vs_one_worker']}x (target >= 1.7x on 2 cores)")
    for p in report["rss"]:
        click.echo(f"peak RSS, {p['name']}: parent + workers {p['peak_rss_mb']:.0f} MB (target < 1024 MB), "
                   f"graph server {p['server_peak_rss_mb']:.0f} MB")
