"""``lineage bench pool``: what starting the parse workers costs, forked (``start_method="fork"``) next to
fresh interpreters (``"spawn"``, the baseline) in the same run.

Every measurement runs in a process of its own that has imported the parser (as an ingest process
has) and parses an evenly spread sample of N files of a generated corpus, domain by domain through one
pool (as ``parsed_sql`` does), each file in the dialect of its top-level folder. Figures: seconds from
pool creation to the first result, seconds for all N files, and the peak summed RSS and PSS of parent
plus workers (forked workers share pages with the parent, so their RSS sum over-counts; PSS does not).
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import psutil

from benchmarks.generate import DOMAIN_DIALECTS, generate_corpus
from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool, StartMethod, resolve_start_method

METHODS = ("spawn", "fork")
_SAMPLE_EVERY_S = 0.2


@dataclass(frozen=True)
class Measurement:
    """One pool's run over ``files`` files."""

    method: str
    files: int
    workers: int
    started_as: list[str]
    first_result_s: float
    total_s: float
    peak_rss_bytes: int
    peak_pss_bytes: int


def sample_tasks(root: Path, files: int) -> dict[str, list[FileTask]]:
    """``files`` corpus files spread evenly over the sorted corpus, grouped by domain (top-level folder)."""
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.sql"))
    if len(paths) < files:
        raise click.ClickException(f"corpus {root} has {len(paths)} .sql files, fewer than the {files} asked for")
    chosen = [paths[i * len(paths) // files] for i in range(files)]
    by_domain: dict[str, list[FileTask]] = {}
    for path in chosen:
        domain = path.split("/")[0]
        if domain not in DOMAIN_DIALECTS:
            raise click.ClickException(f"{root / path}: top-level folder {domain!r} is not a generated domain")
        by_domain.setdefault(domain, []).append(FileTask(path, DOMAIN_DIALECTS[domain]))
    return by_domain


def _memory(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:  # a worker being replaced
            continue
        rss, pss = rss + info.rss, pss + info.pss
    return rss, pss


def measure(root: Path, method: StartMethod, files: int, workers: int) -> Measurement:
    """Run one pool over the sample in this process (see the module docstring)."""
    by_domain = sample_tasks(root, files)
    parent = psutil.Process().pid
    peak_rss = peak_pss = parsed = 0
    first: float | None = None
    sampled = 0.0
    started = time.perf_counter()
    with ParsePool(root, 10_000_000, workers, start_method=method) as pool:
        for tasks in by_domain.values():
            for _ in pool.parse(tasks):
                parsed += 1
                now = time.perf_counter()
                first = now - started if first is None else first
                if now - sampled >= _SAMPLE_EVERY_S:
                    rss, pss = _memory([parent, *pool.worker_pids()])
                    peak_rss, peak_pss, sampled = max(peak_rss, rss), max(peak_pss, pss), now
        total = time.perf_counter() - started
        rss, pss = _memory([parent, *pool.worker_pids()])
        started_as = pool.worker_start_methods()
    if parsed != files:
        raise click.ClickException(f"the pool returned {parsed} results for {files} files")
    return Measurement(method, files, workers, started_as, first or 0.0, total, max(peak_rss, rss), max(peak_pss, pss))


def measure_in_subprocess(root: Path, method: str, files: int, workers: int) -> Measurement:
    """``measure`` in a fresh process, so no run inherits another's imports or warmed parser."""
    command = [sys.executable, "-m", "benchmarks.pool_bench", str(root), method, str(files), str(workers)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if run.returncode != 0:
        raise click.ClickException(f"{' '.join(command)} exited {run.returncode}:\n{run.stderr[-2000:]}")
    return Measurement(**json.loads(run.stdout.splitlines()[-1]))


def summary_table(measurements: list[Measurement]) -> str:
    """Medians per (files, method) as Markdown, with spawn/fork ratios."""
    rows = ["| files | start | first result s | total s | files/s | peak RSS sum MB | peak PSS sum MB | spawn/fork total |",
            "|---|---|---|---|---|---|---|---|"]
    for files in sorted({m.files for m in measurements}):
        medians = {}
        for method in METHODS:
            runs = [m for m in measurements if m.files == files and m.method == method]
            if runs:
                medians[method] = {key: statistics.median(getattr(m, key) for m in runs)
                                   for key in ("first_result_s", "total_s", "peak_rss_bytes", "peak_pss_bytes")}
        for method, med in medians.items():
            ratio = (f"{medians['spawn']['total_s'] / med['total_s']:.2f}x"
                     if method == "fork" and "spawn" in medians else "")
            rows.append(f"| {files} | {method} | {med['first_result_s']:.3f} | {med['total_s']:.3f} | "
                        f"{files / med['total_s']:.0f} | {med['peak_rss_bytes'] / 2**20:.0f} | "
                        f"{med['peak_pss_bytes'] / 2**20:.0f} | {ratio} |")
    return "\n".join(rows)


@click.command("pool")
@click.option("--files", "sizes", type=click.IntRange(min=1), multiple=True, default=(100, 1000), show_default=True,
              help="Files parsed per measurement (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parse workers per pool.")
@click.option(
    "--repeat", type=click.IntRange(min=1), default=3, show_default=True, help="Runs per size and method; medians reported."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated corpus.")
@click.option("--corpus", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A corpus from `lineage bench generate` (default: generate max(--files) files in a temp folder).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write every measurement here.")
def pool_bench(sizes: tuple[int, ...], workers: int, repeat: int, seed: int, corpus: Path | None, json_path: Path | None) -> None:
    """Parse-pool start-up and throughput with forked workers next to fresh-interpreter (spawn) workers."""
    with tempfile.TemporaryDirectory(prefix="lineage-pool-bench-") as scratch:
        root = corpus.resolve() if corpus else Path(scratch) / "corpus"
        if corpus is None:
            generate_corpus(root, max(sizes), seed)
        measurements = []
        for run in range(repeat):  # interleaved, so load from other processes hits both methods alike
            for files in sizes:
                for method in METHODS:
                    measurement = measure_in_subprocess(root, method, files, workers)
                    if measurement.started_as != [method] * workers:
                        raise click.ClickException(f"asked for {method} workers, got {measurement.started_as}")
                    click.echo(f"run {run + 1}: {files} files, {method}: first result {measurement.first_result_s:.3f}s, "
                               f"total {measurement.total_s:.3f}s", err=True)
                    measurements.append(measurement)
    click.echo(f"{workers} workers, median of {repeat} (shared machine: noisy; compare ratios, not absolutes)\n")
    click.echo(summary_table(measurements))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps([asdict(m) for m in measurements], indent=2) + "\n")


if __name__ == "__main__":
    method = resolve_start_method(sys.argv[2])  # the parent names fork or spawn
    print(json.dumps(asdict(measure(Path(sys.argv[1]), method, int(sys.argv[3]), int(sys.argv[4])))))
