"""CI guard: a small ``bench run`` whose optimized/baseline ratio, measured in that same run, must reach a floor.

``python -m benchmarks.ci_guard`` prints the pass table and the verdict and exits 1 when a
ratio is under its floor (2 if a pass itself failed). Defaults keep it to a couple of minutes on 2 cores.
"""

import argparse
import json
import sys
from pathlib import Path

from benchmarks.run_bench import BenchError, BenchReport, markdown_table, run_benchmark

DEFAULT_FILES = 1000
DEFAULT_MIN_RATIO = 5.0


def check(report: BenchReport, min_ratio: float | None, min_warm_ratio: float | None) -> list[str]:
    """Human-readable failures of ``report`` against the floors; empty when it passes."""
    data = report.as_dict()
    floors = [("optimized/baseline (cold)", "ratio", min_ratio), ("warm/baseline", "warm_ratio", min_warm_ratio)]
    return [
        f"{label} is {data[key]:.2f}x, below the floor of {floor:g}x"
        for label, key, floor in floors
        if floor is not None and float(data[key]) < floor  # type: ignore[arg-type]  # the ratio keys hold floats
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help="corpus size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-ratio", type=float, default=DEFAULT_MIN_RATIO, help="cold optimized/baseline floor")
    parser.add_argument("--min-warm-ratio", type=float, default=None, help="warm/baseline floor (off by default)")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    args = parser.parse_args(argv)
    try:
        report = run_benchmark(args.files, args.seed, args.workers, progress=lambda m: print(m, file=sys.stderr))
    except BenchError as error:
        print(f"benchmark guard: a pass failed: {error}", file=sys.stderr)
        return 2
    print(markdown_table(report))
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    failures = check(report, args.min_ratio, args.min_warm_ratio)
    for failure in failures:
        print(f"benchmark guard FAILED: {failure}")
    if not failures:
        print(f"benchmark guard passed: optimized/baseline {report.ratio('optimized'):.2f}x >= {args.min_ratio:g}x")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
