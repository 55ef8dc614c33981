"""Spec of the CI guard: a real small run, the verdict and exit code follow the floors."""

import pytest

from benchmarks import ci_guard

pytestmark = pytest.mark.integration  # real benchmark passes: subprocesses, parse workers, a graph server


def test_guard_fails_below_the_floor_and_prints_the_figures(capsys, tmp_path):
    report_path = tmp_path / "guard.json"
    code = ci_guard.main(["--files", "10", "--min-ratio", "1000", "--json", str(report_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "benchmark guard FAILED: optimized/baseline (cold)" in out and "below the floor of 1000x" in out
    assert "| baseline |" in out and "| optimized |" in out
    assert '"ratio"' in report_path.read_text()


def test_check_names_each_ratio_under_its_floor(tmp_path):
    from benchmarks.run_bench import run_benchmark

    report = run_benchmark(files=10, seed=1, workers=1, work_dir=tmp_path)
    ratio, warm = report.ratio("optimized"), report.ratio("warm")
    assert ci_guard.check(report, min_ratio=0, min_warm_ratio=None) == []
    failures = ci_guard.check(report, min_ratio=ratio * 2, min_warm_ratio=warm * 2)
    assert len(failures) == 2 and "optimized/baseline" in failures[0] and "warm/baseline" in failures[1]
