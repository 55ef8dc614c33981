"""``lineage bench scale``: how the cost of a file changes from 1k to 100k files, in one run.

For each corpus size: a cold pass (empty data dir), a warm no-op pass (nothing changed), and a pass
after 1 % of the files changed (five times, other files each time: the median counts, as a pass can
meet the graph server's log rewrite or the write-back of the cold pass), then two more no-op passes
(the no-op figure is the median of the three), each a process of its own
(``ingest_pass``: the ingest service without Dagster), with per-phase seconds (scan, parse, catalog,
write), files/s, and peak RSS of the client process tree and of the graph server. The smallest size
is the baseline: every other size's cold cost per file is reported as a ratio to it (flat = 1.0), and
the 1 % pass as a ratio to what its changed files would cost cold plus the no-op.

Every pass after the cold one starts on a quiet machine (``quiet.wait_for_quiet``: written data flushed,
graph server idle); the wait is reported per pass (``settle_s``), never counted in it.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

from benchmarks.generate import generate_corpus, mutate_corpus
from benchmarks.quiet import wait_for_quiet
from benchmarks.run_bench import BenchError, PassResult, run_pass_process
from lineage_pipeline.graph.embedded_server import server_status, stop_server

CHANGED_SHARE = 0.01
CHANGED_PASSES = 5
NOOP_PASSES = 3


@dataclass
class SizeResult:
    """The three passes of one corpus size."""

    files: int
    passes: dict[str, PassResult] = field(default_factory=dict)
    """``cold``, ``warm 1``..., ``changed 1``... and ``warm``/``changed`` (the pass of median seconds)."""
    changed_files: int = 0
    settle_s: dict[str, float] = field(default_factory=dict)
    """Seconds waited for a quiet machine before each pass (``quiet.wait_for_quiet``)."""

    def cold_ms_per_file(self) -> float:
        cold = self.passes["cold"].figures
        return 1000 * cold.seconds / max(1, cold.files)

    def row(self, name: str) -> dict[str, object]:
        result = self.passes[name]
        f = result.figures
        return {
            "files": self.files, "pass": name, "seconds": round(f.seconds, 2), "process_s": round(result.process_s, 2),
            "files_per_s": round(f.files / f.seconds, 1) if f.seconds else 0.0,
            "scan_s": round(f.scan_s, 2), "parse_s": round(f.parse_s - f.catalog_s, 2), "catalog_s": round(f.catalog_s, 2),
            "write_s": round(f.write_s, 2), "client_rss_mb": round(result.peak_rss_mb, 1),
            "client_pss_mb": round(result.peak_pss_mb, 1), "main_rss_mb": round(result.main_peak_rss_mb, 1),
            "server_rss_mb": round(result.server_peak_rss_mb, 1), "parsed": f.parsed, "statements_reused": f.statements_reused,
            "files_written": f.files_written, "server_cpu_s": f.cpu_s.get("graph_server", 0.0),
            "settle_s": round(self.settle_s.get(name, 0.0), 1),
        }


def run_scale(sizes: list[int], seed: int, workers: int | None, work_dir: Path | None, say=print) -> list[SizeResult]:
    """Cold, no-op and 1 %-changed passes for every size (smallest first), in the order the module doc gives."""
    results = []
    with tempfile.TemporaryDirectory(prefix="lineage-scale-") as scratch:
        root = work_dir or Path(scratch)
        for size in sorted(sizes):
            corpus = generate_corpus(root / f"corpus-{size}", size, seed)
            data_dir = root / f"data-{size}"
            try:
                results.append(_passes_of_size(size, corpus.root, data_dir, seed, workers, say))
            finally:
                stop_server(data_dir)
    return results


def _passes_of_size(size: int, corpus: Path, data_dir: Path, seed: int, workers: int | None, say) -> SizeResult:
    result = SizeResult(size)

    def run(name: str, message: str, timeout_s: float = 3600) -> PassResult:
        if result.passes:  # the cold pass starts on an empty data dir, with no server
            server = server_status(data_dir)
            result.settle_s[name] = wait_for_quiet(server.pid if server else None)
        say(f"{size} files: {message} ...")
        result.passes[name] = run_pass_process(name, corpus, data_dir, False, workers, timeout_s=timeout_s)
        return result.passes[name]

    run("cold", "cold pass", timeout_s=4 * 3600)
    noops = [run("warm 1", f"no-op pass (1/{NOOP_PASSES})")]
    changed = []
    for revision in range(1, CHANGED_PASSES + 1):
        result.changed_files = len(mutate_corpus(corpus, CHANGED_SHARE, seed, revision=revision))
        message = f"pass after {result.changed_files} files changed ({revision}/{CHANGED_PASSES})"
        changed.append(run(f"changed {revision}", message))
    noops += [run(f"warm {number}", f"no-op pass ({number}/{NOOP_PASSES})") for number in range(2, NOOP_PASSES + 1)]
    result.passes["warm"], result.passes["changed"] = _median(noops), _median(changed)
    return result


def _median(passes: list[PassResult]) -> PassResult:
    return sorted(passes, key=lambda p: p.figures.seconds)[len(passes) // 2]


def report(results: list[SizeResult]) -> dict[str, list[dict[str, object]]]:
    """Rows per pass, and per size: cold cost per file against the smallest size, no-op seconds per
    thousand files, and the 1 % pass against its changed files' cold share plus the no-op."""
    base = results[0].cold_ms_per_file()
    curve: list[dict[str, object]] = []
    for result in results:
        cold_per_file_s = result.cold_ms_per_file() / 1000
        warm_s = result.passes["warm"].figures.seconds
        changed_s = result.passes["changed"].figures.seconds
        each = [result.passes[f"changed {i}"].figures.seconds for i in range(1, CHANGED_PASSES + 1)]
        budget = 1.5 * result.changed_files * cold_per_file_s + warm_s
        curve.append({
            "files": result.files,
            "cold_ms_per_file": round(result.cold_ms_per_file(), 2),
            "cold_cost_vs_smallest": round(result.cold_ms_per_file() / base, 2) if base else 0.0,
            "noop_s": round(warm_s, 2),
            "noop_process_s": round(result.passes["warm"].process_s, 2),
            "noop_ms_per_1000_files": round(1000 * warm_s / result.files * 1000, 1),
            "noop_s_each": ", ".join(f"{result.passes[f'warm {i}'].figures.seconds:.2f}" for i in range(1, NOOP_PASSES + 1)),
            "changed_files": result.changed_files,
            "changed_s": round(changed_s, 2),
            "changed_s_each": ", ".join(f"{s:.2f}" for s in each),
            "changed_vs_budget": round(changed_s / budget, 2) if budget else 0.0,
        })
    names = ("cold", "warm 1", *(f"changed {i}" for i in range(1, CHANGED_PASSES + 1)),
             *(f"warm {i}" for i in range(2, NOOP_PASSES + 1)))
    return {"passes": [r.row(name) for r in results for name in names], "curve": curve}


@click.command("scale")
@click.option("--files", "sizes", type=click.IntRange(min=100), multiple=True, default=(1000, 10000), show_default=True,
              help="Corpus sizes (repeatable); the smallest is the baseline of the cost-per-file curve.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parse workers (default: settings).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), help="Keep corpora and data dirs here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as JSON.")
def scale_bench(sizes: tuple[int, ...], seed: int, workers: int | None, work_dir: Path | None, json_path: Path | None) -> None:
    """Cold, warm no-op and 1 %-changed ingests at each corpus size: per-phase seconds, files/s, RSS, cost-per-file curve."""
    try:
        results = run_scale(list(sizes), seed, workers, work_dir, say=lambda message: click.echo(message, err=True))
    except BenchError as error:
        raise click.ClickException(str(error)) from None
    data = report(results)
    if json_path:
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    headers = list(data["passes"][0])
    click.echo(" | ".join(headers))
    for row in data["passes"]:
        click.echo(" | ".join(str(row[h]) for h in headers))
    click.echo("")
    curve_headers = list(data["curve"][0])
    click.echo(" | ".join(curve_headers))
    for row in data["curve"]:
        click.echo(" | ".join(str(row[h]) for h in curve_headers))
