"""``lineage bench load``: steady-state throughput and memory over repeated incremental passes on a large corpus.

One cold optimized pass, then ``passes`` passes each after changing ``change_rate`` of the files (a new
revision block per pass, so every pass has real work). Every pass is a fresh process on the same
data dir, as scheduled runs would be; memory is the pass's process tree plus the graph server's peak.
``--baseline`` adds a cold baseline-mode pass on its own data dir for the ratio (slow on large corpora).
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import GeneratedCorpus, generate_corpus, mutate_corpus
from benchmarks.run_bench import PassResult, fresh_work_dir, run_pass_process
from lineage_pipeline.graph.embedded_server import stop_server


@dataclass
class LoadReport:
    """The cold pass, each change pass in order, and an optional baseline."""

    corpus: GeneratedCorpus
    change_rate: float
    cold: PassResult
    passes: list[PassResult] = field(default_factory=list)
    baseline: PassResult | None = None

    @property
    def steady_files_per_s(self) -> float:
        """Mean files/s of the change passes (the whole corpus is checked each time)."""
        return sum(p.files_per_s for p in self.passes) / len(self.passes) if self.passes else 0.0

    @property
    def steady_changed_per_s(self) -> float:
        """Changed files per second of pass time, averaged over the change passes."""
        rates = [p.changed_files / p.figures.seconds for p in self.passes if p.figures.seconds]
        return sum(rates) / len(rates) if rates else 0.0

    def as_dict(self) -> dict[str, object]:
        reference = self.baseline or self.cold
        return {
            "files": self.corpus.files,
            "change_rate": self.change_rate,
            "cold_files_per_s": round(self.cold.files_per_s, 1),
            "baseline_files_per_s": round(self.baseline.files_per_s, 1) if self.baseline else None,
            "steady_files_per_s": round(self.steady_files_per_s, 1),
            "steady_changed_files_per_s": round(self.steady_changed_per_s, 1),
            "peak_rss_mb": round(max(p.peak_rss_mb for p in [self.cold, *self.passes]), 1),
            "graph_server_peak_rss_mb": round(max(p.server_peak_rss_mb for p in [self.cold, *self.passes]), 1),
            "passes": [p.summary(reference) for p in [self.cold, *self.passes]],
        }


def run_load(files: int, seed: int, workers: int | None, change_rate: float, passes: int,
             work_dir: Path | None = None, baseline: bool = False, progress=None) -> LoadReport:
    """Generate ``files`` files and run the cold pass plus ``passes`` change passes; servers stopped after."""
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="lineage-load-") as scratch:
        root = fresh_work_dir(work_dir) if work_dir else Path(scratch)
        corpus = generate_corpus(root / "corpus", files, seed)
        say(f"generated {corpus.files} files, {corpus.statements} statements")
        data_dir, baseline_dir = root / "data-optimized", root / "data-baseline"
        try:
            reference = None
            if baseline:
                say("pass baseline (cold) ...")
                reference = run_pass_process("baseline", corpus.root, baseline_dir, True, None)
            say("pass cold ...")
            cold = run_pass_process("cold", corpus.root, data_dir, False, workers)
            report = LoadReport(corpus, change_rate, cold, baseline=reference)
            for number in range(1, passes + 1):
                changed = mutate_corpus(corpus.root, change_rate, seed, revision=number)
                say(f"pass {number} ({len(changed)} files changed) ...")
                result = run_pass_process(f"change {number}", corpus.root, data_dir, False, workers)
                result.changed_files = len(changed)
                report.passes.append(result)
        finally:
            stop_server(data_dir)
            stop_server(baseline_dir)
        return report


def markdown_table(report: LoadReport) -> str:
    """One row per pass: changed files, time, files/s, changed files/s, memory, CPU."""
    lines = [
        "| pass | changed | parsed | s | files/s | changed files/s | parse s | write s | peak RSS MB | server RSS MB "
        "| CPU s | cores busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = ([report.baseline] if report.baseline else []) + [report.cold, *report.passes]
    for p in rows:
        changed_rate = p.changed_files / p.figures.seconds if p.figures.seconds and p.changed_files else 0.0
        lines.append(
            f"| {p.name} | {p.changed_files} | {p.figures.parsed} | {p.figures.seconds:.2f} | {p.files_per_s:.1f} | "
            f"{changed_rate:.1f} | {p.figures.parse_s:.2f} | {p.figures.write_s:.2f} | {p.peak_rss_mb:.0f} | "
            f"{p.server_peak_rss_mb:.0f} | {p.cpu.total:.2f} | {p.cores_busy:.2f} |"
        )
    data = report.as_dict()
    lines += ["", f"{report.corpus.files} files, change rate {report.change_rate:g}: steady state "
              f"{data['steady_files_per_s']} files/s checked, {data['steady_changed_files_per_s']} changed files/s; "
              f"peak RSS {data['peak_rss_mb']} MB (graph server {data['graph_server_peak_rss_mb']} MB)."]
    return "\n".join(lines)
