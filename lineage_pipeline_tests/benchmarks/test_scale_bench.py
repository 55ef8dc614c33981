"""Spec of ``lineage bench scale``: cold, three no-op and five 1 %-changed passes per size, each a real pass
process on a generated corpus; the no-op and 1 % figures are the median passes, the 1 % one reported
against its budget."""

import pytest

from benchmarks.scale_bench import CHANGED_PASSES, NOOP_PASSES, report, run_scale

pytestmark = pytest.mark.integration  # nine pass processes on a real graph server


def test_each_size_gets_cold_noop_and_the_median_of_its_changed_passes_each_started_quiet(tmp_path):
    (result,) = run_scale([100], seed=3, workers=1, work_dir=tmp_path, say=lambda message: None)
    changed = [result.passes[f"changed {i}"] for i in range(1, CHANGED_PASSES + 1)]
    assert result.changed_files == 1 and all(p.figures.files_written == 1 for p in changed)
    noops = [result.passes[f"warm {i}"] for i in range(1, NOOP_PASSES + 1)]
    assert all(p.figures.files_written == 0 and p.figures.files == 100 for p in noops)
    assert result.passes["cold"].figures.files_written == 100
    noop_seconds = sorted(p.figures.seconds for p in noops)
    assert result.passes["warm"].figures.seconds == noop_seconds[len(noop_seconds) // 2]
    seconds = sorted(p.figures.seconds for p in changed)
    assert result.passes["changed"].figures.seconds == seconds[len(seconds) // 2]
    (curve,) = report([result])["curve"]
    assert curve["changed_s"] == round(seconds[len(seconds) // 2], 2)
    assert curve["changed_s_each"] == ", ".join(f"{p.figures.seconds:.2f}" for p in changed)
    budget = 1.5 * 1 * result.cold_ms_per_file() / 1000 + result.passes["warm"].figures.seconds
    assert curve["changed_vs_budget"] == round(seconds[len(seconds) // 2] / budget, 2)
    assert curve["noop_s"] == round(noop_seconds[len(noop_seconds) // 2], 2)
    assert curve["noop_s_each"] == ", ".join(f"{p.figures.seconds:.2f}" for p in noops)
    assert [row["pass"] for row in report([result])["passes"]] == [
        "cold", "warm 1", *(f"changed {i}" for i in range(1, 6)), "warm 2", "warm 3"
    ]

    waited = {"warm 1", *(f"changed {i}" for i in range(1, CHANGED_PASSES + 1)), "warm 2", "warm 3"}
    assert set(result.settle_s) == waited
    rows = {row["pass"]: row for row in report([result])["passes"]}
    assert rows["cold"]["settle_s"] == 0.0
    assert all(rows[name]["settle_s"] == round(result.settle_s[name], 1) for name in waited)
    assert rows["cold"]["server_cpu_s"] > 0  # the server's own CPU, read per pass
    assert all(rows[name]["server_cpu_s"] >= 0 for name in rows)
