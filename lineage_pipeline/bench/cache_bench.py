"""``lineage bench cache``: parse cache and parse pool, each figure next to its baseline in the same run.

On one generated corpus (or ``--corpus``), every domain is scanned and parsed the way ``parsed_sql``
does it (``build_manifest`` + ``parse_manifest``):

- ``cold, 1 worker`` (empty cache) is the baseline of ``cold, N workers`` (empty cache);
- ``cold, N workers`` is the baseline of ``warm`` (same corpus again, every file in the cache).

Then peak RSS of a cold ingest is measured for two corpus sizes, each in a fresh process, to show
memory does not grow with the corpus. The graph write is not included: it does not depend on the
cache and an unchanged file is skipped by it anyway.
"""

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from lineage_pipeline.bench.generate import generate_corpus
from lineage_pipeline.cli.common import settings_or_exit
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import DomainManifest, build_manifest
from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool
from lineage_pipeline.pipeline.parse_stage import ParseOptions, parse_manifest
from lineage_pipeline.stores.parse_cache import ParseCache

_TARGETS = {"warm_vs_cold": 20.0, "warm_parse_files_per_s": 5000.0, "two_vs_one_worker": 1.7, "rss_mb": 1024.0}


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


@dataclass(frozen=True)
class RssProbe:
    """Peak RSS of a cold ingest of ``files`` files in a fresh process: the parent and its largest worker."""

    files: int
    workers: int
    parent_mb: float
    worker_mb: float

    @property
    def total_mb(self) -> float:
        """Upper bound for the whole process tree: parent plus every worker at its peak."""
        return self.parent_mb + self.workers * self.worker_mb


def _manifests(root: Path, settings) -> list[DomainManifest]:
    return [
        build_manifest(root, domain, settings.file_extensions, settings.folder_dialects, settings.default_dialect)
        for domain in discover_domains(root, settings.file_extensions)
    ]


def run_pass(name: str, root: Path, cache: ParseCache, workers: int, settings) -> Pass:
    """Scan and parse every domain of ``root`` through ``cache`` with ``workers`` processes."""
    started = time.perf_counter()
    manifests = _manifests(root, settings)
    scan_s = time.perf_counter() - started
    options = ParseOptions(workers, settings.parse_chunk_size, settings.parse_file_timeout_s)
    outcomes = [parse_manifest(m, cache, settings.max_file_bytes, options) for m in manifests]
    parse_s = sum(o.seconds for o in outcomes)
    file_ms = sorted(ms for o in outcomes for ms in o.file_ms)

    def pct(q: float) -> float:
        return round(file_ms[min(len(file_ms) - 1, int(q * len(file_ms)))], 2) if file_ms else 0.0

    return Pass(
        name, sum(o.files for o in outcomes), workers, sum(o.hits for o in outcomes), sum(o.misses for o in outcomes),
        round(scan_s, 3), round(parse_s, 3), pct(0.5), pct(0.95),
    )


def rss_probe(root: str, cache_path: str, workers: int) -> None:
    """Entry point of the RSS subprocess: one cold pass, then print peak RSS figures as JSON."""
    settings = settings_or_exit()
    manifests = _manifests(Path(root), settings)
    cache = ParseCache(Path(cache_path), max_entries=settings.parse_cache_max_entries)
    options = ParseOptions(workers, settings.parse_chunk_size, settings.parse_file_timeout_s)
    outcomes = [parse_manifest(m, cache, settings.max_file_bytes, options) for m in manifests]
    print(json.dumps({
        "files": sum(o.files for o in outcomes),
        "parent": max(o.peak_rss_bytes for o in outcomes),
        "worker": max(o.worker_peak_rss_bytes for o in outcomes),
    }))


def _measure_rss(root: Path, cache_path: Path, workers: int) -> RssProbe:
    code = f"from lineage_pipeline.bench.cache_bench import rss_probe; rss_probe({str(root)!r}, {str(cache_path)!r}, {workers})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"RSS probe on {root} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return RssProbe(figures["files"], workers, round(figures["parent"] / 2**20, 1), round(figures["worker"] / 2**20, 1))


def _warm_up_pool(root: Path, settings) -> None:
    """Start the forkserver (it preloads the parser once per process) outside every timed pass."""
    sample = next(iter(_manifests(root, settings)[0].files), None)
    if sample is not None:
        with ParsePool(root, settings.max_file_bytes, workers=1) as pool:
            list(pool.parse([FileTask(sample.path, sample.dialect)]))


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
              help="Comma-separated corpus sizes for the peak-RSS probes; empty to skip.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def cache_bench(file_count: int, corpus: Path | None, seed: int, workers: int, rss_files: str, output: str) -> None:
    """Cold (1 and N workers) vs. warm ingest of one corpus, and peak RSS of cold ingests of two sizes."""
    settings = settings_or_exit()
    rss_sizes = [int(n) for n in rss_files.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="lineage-cache-bench-") as scratch:
        work = Path(scratch)
        root = corpus or work / "corpus"
        if corpus is None:
            generate_corpus(root, file_count, seed)
        _warm_up_pool(root, settings)
        one = run_pass("cold, 1 worker", root, ParseCache(work / "one.sqlite"), 1, settings)
        cache = ParseCache(work / "many.sqlite", max_entries=max(settings.parse_cache_max_entries, one.files))
        many = run_pass(f"cold, {workers} workers", root, cache, workers, settings)
        warm = run_pass(f"warm, {workers} workers", root, cache, workers, settings)
        probes = []
        for size in rss_sizes:
            generate_corpus(work / f"rss{size}", size, seed)
            probes.append(_measure_rss(work / f"rss{size}", work / f"rss{size}.sqlite", workers))
    report = {
        "corpus": str(corpus) if corpus else f"generated, {file_count} files, seed {seed}",
        "passes": [asdict(p) | {"total_s": round(p.total_s, 3), "parse_files_per_s": round(p.parse_files_per_s, 1)}
                   for p in (one, many, warm)],
        "ratios": {
            "warm_vs_cold": _ratio(many.total_s, warm.total_s),
            "warm_vs_cold_parse_stage": _ratio(many.parse_s, warm.parse_s),
            "warm_parse_files_per_s": round(warm.parse_files_per_s, 1),
            "two_vs_one_worker" if workers == 2 else f"{workers}_vs_one_worker": _ratio(one.parse_s, many.parse_s),
        },
        "rss": [asdict(p) | {"total_mb": round(p.total_mb, 1)} for p in probes],
        "targets": _TARGETS,
    }
    if output == "json":
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"corpus: {report['corpus']}")
    click.echo(f"{'pass':<20}{'files':>7}{'hits':>7}{'misses':>8}{'scan s':>9}{'parse s':>9}{'total s':>9}"
               f"{'parse files/s':>15}{'p50 ms':>8}{'p95 ms':>8}")
    for p in (one, many, warm):
        click.echo(f"{p.name:<20}{p.files:>7}{p.hits:>7}{p.misses:>8}{p.scan_s:>9.2f}{p.parse_s:>9.2f}{p.total_s:>9.2f}"
                   f"{p.parse_files_per_s:>15.0f}{p.p50_file_ms:>8.2f}{p.p95_file_ms:>8.2f}")
    ratios = report["ratios"]
    click.echo(f"warm vs cold (scan+parse): {ratios['warm_vs_cold']}x (target >= 20x); parse stage alone "
               f"{ratios['warm_vs_cold_parse_stage']}x; warm parse stage {ratios['warm_parse_files_per_s']:.0f} files/s "
               f"(target >= 5000)")
    click.echo(f"{workers} workers vs 1 worker, cold parse: {_ratio(one.parse_s, many.parse_s)}x (target >= 1.7x on 2 cores)")
    for p in probes:
        click.echo(f"peak RSS, cold ingest of {p.files} files: parent {p.parent_mb} MB, largest worker {p.worker_mb} MB, "
                   f"parent + {p.workers} workers <= {p.total_mb:.0f} MB (target < 1024 MB)")
