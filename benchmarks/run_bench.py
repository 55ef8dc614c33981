"""``lineage bench run``: baseline vs optimized ingest of one generated corpus, then warm and incremental passes.

Every pass is its own process (``ingest_pass``) whose settings come from the environment set here:
baseline = ``LINEAGE_BASELINE_MODE=true`` (parse cache off, one worker, one write per entity);
optimized = the project defaults with ``workers``. Each pass gets a fresh temp data dir (own parse
cache and embedded FalkorDB) except warm and incremental, which reuse the optimized one - that is
their point. The parent samples the RSS of the pass's whole process tree (parse workers included)
and reads the graph server's peak RSS separately (it is a daemon, not a child).
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.cpu_clock import CpuSeconds, usable_cores
from benchmarks.generate import GeneratedCorpus, generate_corpus, mutate_corpus
from benchmarks.ingest_pass import PassFigures
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline.settings import IngestionSettings

_SAMPLE_INTERVAL_S = 0.02
_PSS_EVERY = 25
_MB = 2**20


class BenchError(RuntimeError):
    """A pass process failed; carries its stderr tail so the cause is visible."""


@dataclass
class PassResult:
    """One pass: the figures the pass process reported plus what the parent measured around it."""

    name: str
    figures: PassFigures
    changed_files: int = 0
    peak_rss_mb: float = 0.0
    """Summed RSS of the pass process and its parse workers: counts the pages the forked workers share
    with their parent once per process, so it overstates what the tree uses (``peak_pss_mb`` does not)."""
    peak_pss_mb: float = 0.0
    """Proportional set size of the tree: each shared page divided among the processes sharing it."""
    main_peak_rss_mb: float = 0.0
    """Peak RSS of the pass process alone (``VmHWM``): the part that could grow with the corpus."""
    server_peak_rss_mb: float = 0.0
    process_s: float = 0.0
    """The pass process from spawn to exit (interpreter start and imports included)."""

    @property
    def files_per_s(self) -> float:
        return self.figures.files / self.figures.seconds if self.figures.seconds else 0.0

    def percentile_ms(self, q: int) -> float:
        """``q``-th percentile of per-file parse time over every parse this pass ran (0 if none)."""
        ms = self.figures.file_ms + self.figures.catalog_file_ms
        if len(ms) < 2:
            return ms[0] if ms else 0.0
        return statistics.quantiles(ms, n=100, method="inclusive")[q - 1]

    @property
    def cache_hit_rate(self) -> float:
        return self.figures.reused / self.figures.files if self.figures.files else 0.0

    @property
    def graph_entities_per_s(self) -> float:
        return self.figures.entities_written / self.figures.write_s if self.figures.write_s else 0.0

    @property
    def graph_transactions_per_s(self) -> float:
        return self.figures.transactions / self.figures.write_s if self.figures.write_s else 0.0

    @property
    def cpu(self) -> CpuSeconds:
        return CpuSeconds(**self.figures.cpu_s)

    @property
    def cores_busy(self) -> float:
        """Average number of cores the pass kept busy (its CPU seconds per wall second)."""
        return self.cpu.total / self.figures.seconds if self.figures.seconds else 0.0

    def summary(self, baseline: "PassResult") -> dict[str, object]:
        f = self.figures
        return {
            "files": f.files,
            "changed_files": self.changed_files,
            "files_parsed": f.parsed,
            "seconds": round(f.seconds, 3),
            "files_per_s": round(self.files_per_s, 1),
            "ratio_to_baseline": round(self.files_per_s / baseline.files_per_s, 2) if baseline.files_per_s else None,
            "p50_ms": round(self.percentile_ms(50), 2),
            "p95_ms": round(self.percentile_ms(95), 2),
            "scan_s": round(f.scan_s, 3),
            "parse_s": round(f.parse_s, 3),
            "parse_cpu_s": round(sum(f.file_ms) / 1000, 3),
            "catalog_parse_cpu_s": round(sum(f.catalog_file_ms) / 1000, 3),
            "catalog_s": round(f.catalog_s, 3),
            "catalog_parsed": f.catalog_parsed,
            "write_s": round(f.write_s, 3),
            "setup_s": round(f.setup_s, 3),
            "process_s": round(self.process_s, 3),
            "graph_transactions": f.transactions,
            "graph_entities_written": f.entities_written,
            "graph_entities_per_s": round(self.graph_entities_per_s, 1),
            "graph_transactions_per_s": round(self.graph_transactions_per_s, 1),
            "cache_hit_rate": round(self.cache_hit_rate, 4),
            "statements": f.statements,
            "parse_errors": f.errors,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "server_peak_rss_mb": round(self.server_peak_rss_mb, 1),
            "cpu_s": round(self.cpu.total, 3),
            "cpu_s_by_part": self.cpu.as_dict(),
            "cores_busy": round(self.cores_busy, 2),
            "settings": f.settings,
        }


@dataclass
class BenchReport:
    """All passes of one ``bench run`` and the headline figures derived from them."""

    corpus: GeneratedCorpus
    workers: int
    change_rate: float
    passes: dict[str, PassResult] = field(default_factory=dict)
    cores: int = field(default_factory=usable_cores)

    def ratio(self, name: str) -> float:
        base = self.passes["baseline"].files_per_s
        return self.passes[name].files_per_s / base if base else 0.0

    @property
    def incremental_cost_factor(self) -> float:
        """Incremental pass time / (changed files x cold optimized per-file cost); ~1 means unchanged files are free."""
        cold, incremental = self.passes["optimized"], self.passes["incremental"]
        expected = incremental.changed_files * cold.figures.seconds / cold.figures.files
        return incremental.figures.seconds / expected if expected else 0.0

    @property
    def unchanged_file_cost(self) -> float:
        """Warm per-file cost / cold optimized per-file cost: what an unchanged file costs, as a share of
        a file that must be parsed and written (the warm pass is the incremental pass's fixed part)."""
        cold, warm = self.passes["optimized"], self.passes["warm"]
        if not (cold.figures.seconds and cold.figures.files and warm.figures.files):
            return 0.0
        return (warm.figures.seconds / warm.figures.files) / (cold.figures.seconds / cold.figures.files)

    @property
    def incremental_marginal_cost_factor(self) -> float:
        """(Incremental - warm pass time) / (changed files x cold per-file cost): the changed files' own
        cost, with the fixed part an unchanged corpus costs taken out."""
        cold, warm, incremental = self.passes["optimized"], self.passes["warm"], self.passes["incremental"]
        expected = incremental.changed_files * cold.figures.seconds / cold.figures.files
        return (incremental.figures.seconds - warm.figures.seconds) / expected if expected else 0.0

    @property
    def cpu_floor_s(self) -> float:
        """The shortest the optimized pass could take here: its CPU seconds spread over every usable core."""
        return self.passes["optimized"].cpu.total / self.cores

    @property
    def ratio_at_cpu_floor(self) -> float:
        """The cold ratio the optimized pass would reach at its CPU floor (every core busy throughout): the
        ceiling of this design on this machine, against this run's baseline."""
        floor = self.cpu_floor_s
        return self.passes["baseline"].figures.seconds / floor if floor else 0.0

    def as_dict(self) -> dict[str, object]:
        baseline, optimized = self.passes["baseline"], self.passes["optimized"]
        warm, incremental = self.passes["warm"], self.passes["incremental"]
        return {
            "files": self.corpus.files,
            "seed": self.corpus.seed,
            "statements": self.corpus.statements,
            "broken_statements": self.corpus.broken_statements,
            "workers": self.workers,
            "baseline_files_per_s": round(baseline.files_per_s, 1),
            "optimized_files_per_s": round(optimized.files_per_s, 1),
            "ratio": round(self.ratio("optimized"), 2),
            "warm_files_per_s": round(warm.files_per_s, 1),
            "warm_ratio": round(self.ratio("warm"), 2),
            "incremental_files_per_s": round(incremental.files_per_s, 1),
            "incremental_ratio": round(self.ratio("incremental"), 2),
            "incremental_changed_files": incremental.changed_files,
            "incremental_cost_factor": round(self.incremental_cost_factor, 2),
            "incremental_marginal_cost_factor": round(self.incremental_marginal_cost_factor, 2),
            "unchanged_file_cost": round(self.unchanged_file_cost, 4),
            "p50_ms": round(optimized.percentile_ms(50), 2),
            "p95_ms": round(optimized.percentile_ms(95), 2),
            "peak_rss_mb": round(max(p.peak_rss_mb for p in self.passes.values()), 1),
            "graph_server_peak_rss_mb": round(max(p.server_peak_rss_mb for p in self.passes.values()), 1),
            "cache_hit_rate_warm": round(warm.cache_hit_rate, 4),
            "optimized_cpu_s": round(optimized.cpu.total, 3),
            "optimized_cpu_floor_s": round(self.cpu_floor_s, 3),
            "ratio_at_cpu_floor": round(self.ratio_at_cpu_floor, 2),
            "passes": {name: p.summary(baseline) for name, p in self.passes.items()},
            "machine": {
                "cpus": os.cpu_count(), "usable_cores": self.cores,
                "python": platform.python_version(), "platform": platform.platform(),
            },
        }


def pass_environment(data_dir: Path, corpus_root: Path, baseline: bool, workers: int | None) -> dict[str, str]:
    """The environment of a pass: no inherited pipeline settings, only the ones this benchmark chooses."""
    names = {name.lower() for name in IngestionSettings.model_fields}
    env = {
        key: value for key, value in os.environ.items()
        if not key.upper().startswith("LINEAGE_") and key.lower() not in names
    }
    env.update({
        "LINEAGE_DATA_DIR": str(data_dir),
        "LINEAGE_CORPUS_ROOT": str(corpus_root),
        "LINEAGE_BASELINE_MODE": "true" if baseline else "false",
        "LINEAGE_GRAPH_BACKEND": "falkordb",
    })
    if workers is not None and not baseline:
        env["LINEAGE_WORKERS"] = str(workers)
    return env


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident set of a live process (Linux ``VmHWM``), 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / _MB
    except (OSError, ValueError):
        pass
    return 0.0


class _TreeRss:
    """Samples the summed RSS, and every ``_PSS_EVERY``-th sample the summed PSS, of a process and all its
    descendants until stopped; keeps the maxima and the root's own peak RSS."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.root_peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "_TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        sample = 0
        while not self._stop.is_set():
            total = pss = 0
            with_pss = sample % _PSS_EVERY == 0  # PSS reads every mapping of /proc/<pid>/smaps: slower
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    try:
                        total += process.memory_info().rss
                        pss += process.memory_full_info().pss if with_pss else 0
                    except psutil.Error:
                        continue
                self.root_peak_bytes = max(self.root_peak_bytes, int(_vm_hwm_mb(self.root.pid) * _MB))
            except psutil.Error:
                return
            self.peak_bytes = max(self.peak_bytes, total)
            self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
            sample += 1
            self._stop.wait(_SAMPLE_INTERVAL_S)


def fresh_work_dir(path: Path) -> Path:
    """``path`` created if missing; a non-empty folder is refused (old caches or graphs would void a cold pass)."""
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise BenchError(f"work folder {path} is not empty; a benchmark needs a new or empty folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_pass_process(name: str, corpus_root: Path, data_dir: Path, baseline: bool, workers: int | None,
                     timeout_s: float = 3600) -> PassResult:
    """Run one pass in a fresh process and measure it; raises BenchError if the pass fails."""
    command = [sys.executable, "-m", "benchmarks.ingest_pass", "--corpus", str(corpus_root)]
    env = pass_environment(data_dir, corpus_root, baseline, workers)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with _TreeRss(process.pid) as rss:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise BenchError(f"pass {name!r} did not finish within {timeout_s:g} s") from None
    process_s = time.perf_counter() - started
    if process.returncode != 0 or not stdout.strip():
        raise BenchError(f"pass {name!r} exited {process.returncode}:\n{stderr[-4000:]}")
    figures = PassFigures(**json.loads(stdout.strip().splitlines()[-1]))
    server = server_status(data_dir)
    server_mb = _vm_hwm_mb(server.pid) if server else 0.0
    return PassResult(
        name, figures, peak_rss_mb=rss.peak_bytes / _MB, peak_pss_mb=rss.peak_pss_bytes / _MB,
        main_peak_rss_mb=rss.root_peak_bytes / _MB, server_peak_rss_mb=server_mb, process_s=process_s,
    )


def run_benchmark(files: int, seed: int = 0, workers: int | None = 2, change_rate: float = 0.1,
                  work_dir: Path | None = None, progress=None) -> BenchReport:
    """Generate a corpus and run baseline, optimized (cold), warm and incremental passes on it.

    ``work_dir`` keeps corpus and data dirs for inspection (a temp dir otherwise, removed after);
    every embedded graph server started for the benchmark is stopped before returning.
    """
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as scratch:
        root = fresh_work_dir(work_dir) if work_dir else Path(scratch)
        corpus = generate_corpus(root / "corpus", files, seed)
        say(f"generated {corpus.files} files, {corpus.statements} statements under {corpus.root}")
        report = BenchReport(corpus, workers or 0, change_rate)
        baseline_dir, optimized_dir = root / "data-baseline", root / "data-optimized"
        try:
            plan = [("baseline", baseline_dir, True), ("optimized", optimized_dir, False), ("warm", optimized_dir, False)]
            for name, data_dir, is_baseline in plan:
                say(f"pass {name} ...")
                report.passes[name] = run_pass_process(name, corpus.root, data_dir, is_baseline, workers)
            changed = mutate_corpus(corpus.root, change_rate, seed)
            say(f"pass incremental ({len(changed)} files changed) ...")
            report.passes["incremental"] = run_pass_process("incremental", corpus.root, optimized_dir, False, workers)
            report.passes["incremental"].changed_files = len(changed)
        finally:
            for data_dir in (baseline_dir, optimized_dir):
                stop_server(data_dir)
        return report


def markdown_table(report: BenchReport) -> str:
    """The passes side by side as a Markdown table, ratios against the baseline of the same run."""
    baseline = report.passes["baseline"]
    header = ("| pass | files | parsed | s | files/s | x baseline | p50 ms | p95 ms | parse s | write s | "
              "graph tx | graph entities/s | cache hit | peak RSS MB | server RSS MB | CPU s | cores busy |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, result in report.passes.items():
        s = result.summary(baseline)
        lines.append(
            f"| {name} | {s['files']} | {s['files_parsed']} | {s['seconds']:.2f} | {s['files_per_s']:.1f} | "
            f"{s['ratio_to_baseline']:.1f}x | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['parse_s']:.2f} | {s['write_s']:.2f} | "
            f"{s['graph_transactions']} | {s['graph_entities_per_s']:.0f} | {s['cache_hit_rate']:.0%} | "
            f"{s['peak_rss_mb']:.0f} | {s['server_peak_rss_mb']:.0f} | {s['cpu_s']:.2f} | {s['cores_busy']:.2f} |"
        )
    data = report.as_dict()
    lines.append("")
    lines.append(
        f"{report.corpus.files} files, {report.corpus.statements} statements, seed {report.corpus.seed}, "
        f"workers {report.workers}, {os.cpu_count()} CPUs. Incremental: {data['incremental_changed_files']} files changed, "
        f"cost {data['incremental_cost_factor']:.2f}x (changed files x cold per-file cost), "
        f"{data['incremental_marginal_cost_factor']:.2f}x without the warm pass's fixed part; an unchanged file "
        f"costs {data['unchanged_file_cost']:.1%} of a cold one."
    )
    optimized = report.passes["optimized"].cpu
    lines.append(
        f"CPU of the optimized pass: {optimized.total:.2f} s (process {optimized.pass_process:.2f}, parse workers "
        f"{optimized.parse_workers:.2f}, graph server {optimized.graph_server:.2f}); with all {report.cores} usable "
        f"cores busy throughout it would take {data['optimized_cpu_floor_s']:.2f} s, a cold ratio of "
        f"{data['ratio_at_cpu_floor']:.1f}x against this baseline (measured: {data['ratio']:.1f}x)."
    )
    return "\n".join(lines)
