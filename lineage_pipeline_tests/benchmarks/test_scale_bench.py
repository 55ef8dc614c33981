"""Spec of ``lineage bench scale``: cold, no-op and five 1 %-changed passes per size, each a real pass
process on a generated corpus; the 1 % figure is the median pass, reported against its budget."""

import pytest

from benchmarks.scale_bench import CHANGED_PASSES, report, run_scale

pytestmark = pytest.mark.integration  # seven pass processes on a real graph server


def test_each_size_gets_cold_noop_and_the_median_of_its_changed_passes(tmp_path):
    (result,) = run_scale([100], seed=3, workers=1, work_dir=tmp_path, say=lambda message: None)
    changed = [result.passes[f"changed {i}"] for i in range(1, CHANGED_PASSES + 1)]
    assert result.changed_files == 1 and all(p.figures.files_written == 1 for p in changed)
    assert result.passes["warm"].figures.files_written == 0 and result.passes["cold"].figures.files_written == 100
    seconds = sorted(p.figures.seconds for p in changed)
    assert result.passes["changed"].figures.seconds == seconds[len(seconds) // 2]
    (curve,) = report([result])["curve"]
    assert curve["changed_s"] == round(seconds[len(seconds) // 2], 2)
    assert curve["changed_s_each"] == ", ".join(f"{p.figures.seconds:.2f}" for p in changed)
    budget = 1.5 * 1 * result.cold_ms_per_file() / 1000 + result.passes["warm"].figures.seconds
    assert curve["changed_vs_budget"] == round(seconds[len(seconds) // 2] / budget, 2)
    assert [row["pass"] for row in report([result])["passes"]] == ["cold", "warm", *(f"changed {i}" for i in range(1, 6))]
