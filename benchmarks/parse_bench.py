"""``lineage bench parse``: parser throughput with column lineage next to a naive sqlglot baseline.

Single process, cold: every file is read into memory first, then parsed exactly once per contender
(no result caches; a one-statement warm-up per dialect keeps one-off import/initialisation costs out
of both). Contenders, in this order:

- ``baseline``: ``sqlglot.parse`` of the whole file plus a scan of its table nodes - no splitting,
  no temp resolution, no column lineage; a file fails as a whole if sqlglot rejects any statement.
- ``lineage``: ``parse_file_bytes`` - statements, tables and column lineage (first pass, no catalog).
- ``lineage+catalog``: the first pass plus the corpus catalog pass (``resolve_with_catalog``);
  its time is both passes together.
"""

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import sqlglot
import sqlglot.parser
from sqlglot import exp

from benchmarks.generate import generate_corpus
from lineage_pipeline.cli.common import settings_or_exit
from lineage_pipeline.corpus.files import iter_corpus_files
from lineage_pipeline.corpus.manifest import folder_dialect
from lineage_pipeline.parsing import FileLineage, header_dialect, parse_file_bytes, resolve_with_catalog
from lineage_pipeline.parsing.dialects import canonical_dialect, sqlglot_dialect

_HEADER_BYTES = 2048


@dataclass(frozen=True)
class BenchFile:
    """One corpus file held in memory with the dialect it is parsed in."""

    path: str
    data: bytes
    dialect: str


@dataclass(frozen=True)
class RunResult:
    """Figures of one contender over the whole corpus."""

    name: str
    files: int
    statements: int
    seconds: float
    p50_ms: float
    p95_ms: float
    failed_files: int
    failed_statements: int
    column_edges: int

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    @property
    def statements_per_s(self) -> float:
        return self.statements / self.seconds if self.seconds else 0.0

    @property
    def file_failure_rate(self) -> float:
        return self.failed_files / self.files if self.files else 0.0

    @property
    def statement_failure_rate(self) -> float:
        return self.failed_statements / self.statements if self.statements else 0.0

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "files_per_s": round(self.files_per_s, 1),
            "statements_per_s": round(self.statements_per_s, 1),
            "file_failure_rate": round(self.file_failure_rate, 4),
            "statement_failure_rate": round(self.statement_failure_rate, 4),
        }


@dataclass(frozen=True)
class ParseBenchReport:
    """All contenders of one run, the corpus they ran on, and whether sqlglot's compiled build was used."""

    corpus: str
    compiled_sqlglot: bool
    runs: tuple[RunResult, ...]

    def ratio(self, name: str) -> float:
        """How many times slower than the baseline ``name`` is (per file, total time)."""
        by_name = {run.name: run for run in self.runs}
        baseline = by_name["baseline"].seconds
        return by_name[name].seconds / baseline if baseline else 0.0

    def as_dict(self) -> dict:
        return {
            "corpus": self.corpus,
            "compiled_sqlglot": self.compiled_sqlglot,
            "runs": [run.as_dict() for run in self.runs],
            "time_vs_baseline": {run.name: round(self.ratio(run.name), 2) for run in self.runs},
        }


def compiled_sqlglot() -> bool:
    """True when sqlglot's parser is the compiled module installed by ``sqlglotc``."""
    return Path(sqlglot.parser.__file__).suffix in (".so", ".pyd")


def load_corpus(root: Path, folder_dialects: dict[str, str], default_dialect: str, limit: int | None = None) -> list[BenchFile]:
    """The corpus's SQL files in path order (the first ``limit``), each with its header or folder dialect."""
    files: list[BenchFile] = []
    for relative in iter_corpus_files(root, [".sql"]):
        if limit is not None and len(files) >= limit:
            break
        data = (root / relative).read_bytes()
        head = data[:_HEADER_BYTES].decode("utf-8", errors="replace")
        dialect = header_dialect(head) or folder_dialect(relative, folder_dialects, default_dialect)
        files.append(BenchFile(relative, data, dialect))
    return files


def generated_corpus(files: int, seed: int) -> tuple[list[BenchFile], str]:
    """``files`` generated bank-warehouse files (``benchmarks.generate``), read into memory."""
    with tempfile.TemporaryDirectory(prefix="lineage-parse-bench-") as folder:
        generated = generate_corpus(Path(folder) / "corpus", files, seed)
        loaded = load_corpus(generated.root, {}, "ansi")
    return loaded, f"generated bank warehouse, {files} files, seed {seed}"


def _baseline_file(file: BenchFile) -> tuple[int, int, int]:
    """``(statements, failed statements, 0)``: sqlglot parse plus table scan, the whole file or nothing."""
    text = file.data.decode("utf-8", errors="replace")
    try:
        expressions = sqlglot.parse(text, read=sqlglot_dialect(canonical_dialect(file.dialect) or "ansi"))
    except Exception:  # noqa: BLE001 - the naive baseline: any error of sqlglot's on a file fails the whole file
        return 1, 1, 0
    tables: set[str] = set()
    for expression in expressions:
        if expression is not None:
            tables.update(table.sql() for table in expression.find_all(exp.Table))
    return len(expressions), 0, 0


def _counts(lineage: FileLineage) -> tuple[int, int, int]:
    failed = sum(1 for issue in lineage.errors if issue.statement is not None)
    edges = sum(len(statement.columns) for statement in lineage.statements)
    return len(lineage.statements) + failed, failed, edges


def _lineage_file(file: BenchFile) -> tuple[int, int, int]:
    return _counts(parse_file_bytes(file.data, file.dialect, file.path))


def _timed(name: str, files: list[BenchFile], one: Callable[[BenchFile], tuple[int, int, int]]) -> RunResult:
    durations: list[float] = []
    statements = failed_statements = failed_files = edges = 0
    started = time.perf_counter()
    for file in files:
        file_started = time.perf_counter()
        count, failed, file_edges = one(file)
        durations.append((time.perf_counter() - file_started) * 1000)
        statements += count
        failed_statements += failed
        failed_files += failed > 0
        edges += file_edges
    return _result(name, len(files), statements, time.perf_counter() - started, durations, failed_files, failed_statements, edges)


def _result(name, files, statements, seconds, durations, failed_files, failed_statements, edges) -> RunResult:
    ordered = sorted(durations) or [0.0]
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return RunResult(name, files, statements, seconds, statistics.median(ordered), p95, failed_files, failed_statements, edges)


def _with_catalog(files: list[BenchFile]) -> RunResult:
    """First pass plus the catalog pass; per-file time is a file's first parse plus its re-parse, if any."""
    by_path = {file.path: file for file in files}
    durations: dict[str, float] = {}
    started = time.perf_counter()
    first = {}
    for file in files:
        file_started = time.perf_counter()
        first[file.path] = parse_file_bytes(file.data, file.dialect, file.path)
        durations[file.path] = (time.perf_counter() - file_started) * 1000

    def reparse(path: str, catalog) -> FileLineage:
        file_started = time.perf_counter()
        file = by_path[path]
        lineage = parse_file_bytes(file.data, file.dialect, path, catalog)
        durations[path] += (time.perf_counter() - file_started) * 1000
        return lineage

    final, _ = resolve_with_catalog(first, reparse)
    seconds = time.perf_counter() - started
    counts = [_counts(lineage) for lineage in final.values()]
    return _result(
        "lineage+catalog",
        len(files),
        sum(c[0] for c in counts),
        seconds,
        list(durations.values()),
        sum(c[1] > 0 for c in counts),
        sum(c[1] for c in counts),
        sum(c[2] for c in counts),
    )


def _warm_up(files: list[BenchFile]) -> None:
    """Initialise each dialect's tokenizer and parser once, outside the timed runs."""
    for dialect in sorted({file.dialect for file in files}):
        parse_file_bytes(b"SELECT a FROM t", dialect, "<warm-up>")
        _baseline_file(BenchFile("<warm-up>", b"SELECT a FROM t", dialect))


def run_parse_bench(files: list[BenchFile], corpus: str, catalog_pass: bool = True) -> ParseBenchReport:
    """Measure the baseline, the lineage parser and (optionally) the catalog pass over ``files``."""
    _warm_up(files)
    runs = [_timed("baseline", files, _baseline_file), _timed("lineage", files, _lineage_file)]
    if catalog_pass:
        runs.append(_with_catalog(files))
    return ParseBenchReport(corpus, compiled_sqlglot(), tuple(runs))


def format_report(report: ParseBenchReport) -> list[str]:
    """Human-readable lines: one row per contender, then the ratios to the baseline."""
    lines = [
        f"corpus: {report.corpus}",
        f"sqlglot compiled (sqlglotc): {'yes' if report.compiled_sqlglot else 'NO - pure Python'}",
        f"{'run':<16}{'files':>7}{'stmts':>8}{'seconds':>9}{'files/s':>9}{'stmts/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'failed files':>14}{'failed stmts':>14}{'col edges':>11}",
    ]
    for run in report.runs:
        lines.append(
            f"{run.name:<16}{run.files:>7}{run.statements:>8}{run.seconds:>9.2f}{run.files_per_s:>9.1f}"
            f"{run.statements_per_s:>9.1f}{run.p50_ms:>8.2f}{run.p95_ms:>8.2f}"
            f"{run.file_failure_rate:>13.1%} {run.statement_failure_rate:>13.1%} {run.column_edges:>10}"
        )
    for run in report.runs[1:]:
        lines.append(f"{run.name} takes {report.ratio(run.name):.2f}x the baseline's time")
    return lines


@click.command("parse")
@click.option("--files", "file_count", type=click.IntRange(min=1), default=500, show_default=True,
              help="Files to generate (or, with --corpus, the most to read).")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Measure this folder of .sql files instead of a generated corpus (dialects from headers, "
                   "folder_dialects and default_dialect settings).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated corpus.")
@click.option("--catalog-pass/--no-catalog-pass", default=True, show_default=True,
              help="Also time the corpus-wide catalog pass.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def parse_bench(file_count: int, corpus: Path | None, seed: int, catalog_pass: bool, output: str) -> None:
    """Parser throughput with column lineage vs. a naive sqlglot parse + table scan, same run, one process."""
    if corpus is not None:
        settings = settings_or_exit()
        files = load_corpus(corpus, settings.folder_dialects, settings.default_dialect, file_count)
        if not files:
            raise click.ClickException(f"{corpus}: no .sql files")
        description = f"{corpus} ({len(files)} files)"
    else:
        files, description = generated_corpus(file_count, seed)
    report = run_parse_bench(files, description, catalog_pass)
    if output == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    for line in format_report(report):
        click.echo(line)
