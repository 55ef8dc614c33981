"""``lineage bench scan``: what a sql_corpus_sensor tick costs on a large corpus, next to a plain-walk baseline.

On N generated files (D domain folders), each timed step is repeated and its best run kept:

- ``baseline: os.walk + lstat`` — the least any Python metadata scan pays (no filtering, no symlink care);
- ``sensor scan (metadata)`` — ``scan_stats``: the sensor's safe walk, one lstat per file;
- ``state store load`` — reading the last-seen manifest of N files from SQLite;
- ``no-change tick`` — scan + load + diff with nothing changed: the steady-state cost of a tick;
- ``first tick hashing`` — once: hashing every file of a corpus the sensor has never seen.
"""

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from lineage_pipeline.sensors.changes import detect_changes, file_sha256, scan_stats
from lineage_pipeline.sensors.state_store import StateStore

SENSOR_TIMEOUT_S = 60.0
"""Dagster's default sensor evaluation timeout: the budget a tick must stay well inside."""


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    files: int

    @property
    def per_10k(self) -> float:
        return self.seconds / self.files * 10_000


def write_corpus(root: Path, files: int, domains: int) -> None:
    """``files`` small SQL files spread over ``domains`` top-level folders."""
    folders = [root / f"domain_{d:02}" for d in range(domains)]
    for folder in folders:
        folder.mkdir(parents=True)
    for i in range(files):
        (folders[i % domains] / f"load_{i:07}.sql").write_text(f"INSERT INTO t{i} SELECT a FROM s{i};\n")


def plain_walk(root: Path) -> int:
    count = 0
    for directory, _, names in os.walk(root):
        for name in names:
            os.lstat(os.path.join(directory, name))
            count += 1
    return count


def best_of(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def measure(root: Path, files: int, repeat: int) -> list[Step]:
    """Time every step over the corpus at ``root`` (see the module docstring)."""
    extensions = [".sql"]
    baseline = best_of(repeat, lambda: plain_walk(root))
    scan = best_of(repeat, lambda: scan_stats(root, extensions))
    with tempfile.TemporaryDirectory(prefix="lineage-scan-state-") as scratch:
        with StateStore(Path(scratch) / "state.sqlite") as store:
            started = time.perf_counter()
            first = detect_changes({}, scan_stats(root, extensions), file_sha256(root))
            store.commit(first)
            hashing = time.perf_counter() - started
            if len(store.load()) != files:
                raise click.ClickException(f"state store holds {len(store.load())} files, expected {files}")
            load = best_of(repeat, store.load)

            def tick() -> None:
                changes = detect_changes(store.load(), scan_stats(root, extensions), file_sha256(root))
                if changes or changes.upserts:
                    raise click.ClickException("the no-change tick found changes: the corpus moved under the benchmark")

            steady = best_of(repeat, tick)
    return [
        Step("baseline: os.walk + lstat", baseline, files),
        Step("sensor scan (metadata)", scan, files),
        Step("state store load", load, files),
        Step("no-change tick (scan + load + diff)", steady, files),
        Step("first tick hashing (one-off)", hashing, files),
    ]


@click.command("scan")
@click.option("--files", type=click.IntRange(min=100), default=100_000, show_default=True, help="Corpus size.")
@click.option("--domains", type=click.IntRange(min=1), default=10, show_default=True, help="Top-level folders.")
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True, help="Runs per step; best kept.")
def scan_bench(files: int, domains: int, repeat: int) -> None:
    """Seconds per 10k files of the sensor's metadata scan and tick, with an os.walk baseline in the same run."""
    with tempfile.TemporaryDirectory(prefix="lineage-scan-bench-") as scratch:
        root = Path(scratch) / "corpus"
        started = time.perf_counter()
        write_corpus(root, files, domains)
        click.echo(f"wrote {files} files in {domains} folders in {time.perf_counter() - started:.1f}s", err=True)
        steps = measure(root, files, repeat)
    baseline = steps[0].seconds
    click.echo(f"{files} files, best of {repeat} (shared machine: noisy; compare ratios, not absolutes)\n")
    click.echo("| step | s | s per 10k files | vs baseline |\n|---|---|---|---|")
    for step in steps:
        click.echo(f"| {step.name} | {step.seconds:.3f} | {step.per_10k:.3f} | {step.seconds / baseline:.2f}x |")
    tick = steps[3].seconds
    click.echo(f"\nno-change tick uses {tick / SENSOR_TIMEOUT_S:.1%} of the {SENSOR_TIMEOUT_S:.0f}s sensor evaluation timeout")
