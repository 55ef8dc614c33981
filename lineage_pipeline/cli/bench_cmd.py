"""``lineage bench``: generate corpora and measure the pipeline against a baseline in the same run."""

import json
from pathlib import Path

import click

from lineage_pipeline.cli.lazy import LazyGroup, LazyRegistry

# the benchmark modules' own commands, imported when they run (module path, first sentence of the docstring)
BENCH_COMMANDS: LazyRegistry = {
    "cache": (
        "benchmarks.cache_bench:cache_bench",
        "Cold (1 and N workers) vs. warm parse stage and whole ingest of one corpus; peak RSS of cold ingests.",
    ),
    "graph": (
        "benchmarks.graph_bench:graph_bench",
        "Graph write throughput by batch size on a fresh embedded FalkorDB, against one write per entity.",
    ),
    "parse": (
        "benchmarks.parse_bench:parse_bench",
        "Parser throughput with column lineage vs. a naive sqlglot parse + table scan, same run, one process.",
    ),
    "pool": (
        "benchmarks.pool_bench:pool_bench",
        "Parse-pool start-up and throughput with forked workers next to fresh-interpreter (spawn) workers.",
    ),
    "scale": (
        "benchmarks.scale_bench:scale_bench",
        "Cold, warm no-op and 1 %-changed ingests at each corpus size: "
        "per-phase seconds, files/s, RSS, cost-per-file curve.",
    ),
    "scan": (
        "benchmarks.scan_bench:scan_bench",
        "Seconds per 10k files of the sensor's metadata scan and tick, with an os.walk baseline in the same run.",
    ),
    "write-rate": (
        "benchmarks.write_rate:write_rate",
        "Relationships written per second by the same new files into a small graph and into a large one.",
    ),
}


def _emit(table: str, data: dict, json_path: Path | None) -> None:
    """Print a benchmark's Markdown table and, when asked, write its JSON report."""
    click.echo(table)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2) + "\n")


@click.group(cls=LazyGroup, lazy_commands=BENCH_COMMANDS)
def bench() -> None:
    """Benchmarks; every figure is reported next to a baseline measured in the same invocation."""


@bench.command()
@click.option("--files", type=click.IntRange(min=1), required=True, help="Number of SQL files to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, byte-identical corpus.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder (created)."
)
@click.option("--overwrite", is_flag=True, help="Replace a corpus generated earlier in --out.")
def generate(files: int, seed: int, out_dir: Path, overwrite: bool) -> None:
    """Write a synthetic bank-warehouse SQL corpus (staging/core T-SQL, risk Snowflake, reporting BigQuery, marts Postgres)."""
    from benchmarks.generate import CorpusExistsError, generate_corpus

    try:
        corpus = generate_corpus(out_dir, files, seed, overwrite=overwrite)
    except CorpusExistsError as error:
        raise click.ClickException(str(error)) from None
    domains = ", ".join(f"{domain} {count}" for domain, count in corpus.domains.items())
    click.echo(
        f"wrote {corpus.files} files ({corpus.bytes / 1e6:.1f} MB) to {out_dir}: {corpus.statements} statements, "
        f"{corpus.broken_statements} deliberately broken; domains: {domains}"
    )


@bench.command()
@click.option("--files", type=click.IntRange(min=10), default=1000, show_default=True, help="Corpus size.")
@click.option("--seed", type=int, default=0, show_default=True, help="Corpus generator seed.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parse workers of the optimized passes."
)
@click.option("--change-rate", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.1, show_default=True,
              help="Share of files changed before the incremental pass.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON report here.")
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep corpus and data dirs in this new or empty folder.",
)
@click.option("--min-ratio", type=click.FloatRange(min=0), help="Exit 1 if optimized/baseline files/s (cold) is below this.")
@click.option("--min-warm-ratio", type=click.FloatRange(min=0), help="Exit 1 if warm/baseline files/s is below this.")
def run(files: int, seed: int, workers: int, change_rate: float, json_path: Path | None, keep_dir: Path | None,
        min_ratio: float | None, min_warm_ratio: float | None) -> None:
    """Ingest one generated corpus in baseline and optimized mode, then warm and incremental; print the figures."""
    from benchmarks.ci_guard import check
    from benchmarks.run_bench import BenchError, markdown_table, run_benchmark

    try:
        report = run_benchmark(files, seed, workers, change_rate, keep_dir, progress=lambda m: click.echo(m, err=True))
    except BenchError as error:
        raise click.ClickException(str(error)) from None
    _emit(markdown_table(report), report.as_dict(), json_path)
    failures = check(report, min_ratio, min_warm_ratio)
    if failures:
        raise click.ClickException("; ".join(failures))


@bench.command()
@click.option("--files", type=click.IntRange(min=10), default=500, show_default=True, help="Corpus size.")
@click.option("--seed", type=int, default=0, show_default=True, help="Corpus generator seed.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parse workers of the pass.")
def profile(files: int, seed: int, workers: int) -> None:
    """Where a cold ingest spends its time: split/parse/qualify/lineage in the parser, then scan/parse/IPC/write."""
    import tempfile

    from benchmarks.generate import generate_corpus
    from benchmarks.profile import figure, pipeline_rows, profile_parser
    from benchmarks.run_bench import BenchError, run_pass_process
    from lineage_pipeline.graph.embedded_server import stop_server

    with tempfile.TemporaryDirectory(prefix="lineage-profile-") as scratch:
        corpus = generate_corpus(Path(scratch) / "corpus", files, seed)
        parser_profile = profile_parser(corpus)
        click.echo(f"Parser, one process, {parser_profile.files} files, {parser_profile.total_s:.2f} s "
                   f"({parser_profile.total_s / parser_profile.files * 1000:.1f} ms/file):\n")
        click.echo("| phase | s | share |\n|---|---|---|")
        for name, seconds in sorted(parser_profile.phases.items(), key=lambda item: -item[1]):
            click.echo(f"| {name} | {seconds:.2f} | {seconds / parser_profile.total_s:.0%} |")
        data_dir = Path(scratch) / "data"
        try:
            result = run_pass_process("optimized", corpus.root, data_dir, baseline=False, workers=workers)
        except BenchError as error:
            raise click.ClickException(str(error)) from None
        finally:
            stop_server(data_dir)
        summary = result.summary(result)
        click.echo(f"\nPipeline, one cold optimized pass, {summary['files']} files, {summary['seconds']:.2f} s:\n")
        click.echo("| component | s | share |\n|---|---|---|")
        total_s = figure(summary, "seconds")
        for name, seconds in pipeline_rows(summary, workers):
            click.echo(f"| {name} | {seconds:.2f} | {seconds / total_s:.0%} |")


@bench.command()
@click.option("--files", type=click.IntRange(min=10), default=10_000, show_default=True, help="Corpus size.")
@click.option("--change-rate", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.2, show_default=True,
              help="Share of files changed before each pass.")
@click.option("--passes", type=click.IntRange(min=1), default=3, show_default=True, help="Change passes after the cold one.")
@click.option("--seed", type=int, default=0, show_default=True, help="Corpus generator seed.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parse workers.")
@click.option("--baseline", is_flag=True, help="Also run a cold baseline-mode pass for the ratio (slow on large corpora).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON report here.")
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep corpus and data dirs in this new or empty folder.",
)
def load(files: int, change_rate: float, passes: int, seed: int, workers: int, baseline: bool,
         json_path: Path | None, keep_dir: Path | None) -> None:
    """Steady-state throughput and memory over repeated passes, each after changing a share of the files."""
    from benchmarks.load_bench import markdown_table, run_load
    from benchmarks.run_bench import BenchError

    try:
        report = run_load(
            files, seed, workers, change_rate, passes, keep_dir, baseline, progress=lambda m: click.echo(m, err=True)
        )
    except BenchError as error:
        raise click.ClickException(str(error)) from None
    _emit(markdown_table(report), report.as_dict(), json_path)

