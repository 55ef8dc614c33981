"""Spec of ``bench load``: a cold pass then change passes on one data dir, each re-parsing only what changed."""

import pytest

from benchmarks.load_bench import markdown_table, run_load
from lineage_pipeline.graph.embedded_server import server_status

pytestmark = pytest.mark.integration  # pass processes and a real graph server


def test_change_passes_reparse_only_the_changed_share(tmp_path):
    report = run_load(files=20, seed=4, workers=1, change_rate=0.2, passes=2, work_dir=tmp_path)
    assert report.cold.figures.parsed == 20 and report.cold.changed_files == 0
    assert [p.changed_files for p in report.passes] == [4, 4]
    assert [p.figures.parsed for p in report.passes] == [4, 4]
    assert all(p.figures.files == 20 and p.figures.transactions > 0 for p in report.passes)
    data = report.as_dict()
    assert data["baseline_files_per_s"] is None and len(data["passes"]) == 3
    assert data["steady_files_per_s"] > 0 and data["peak_rss_mb"] > 0
    assert server_status(tmp_path / "data-optimized") is None
    table = markdown_table(report)
    assert table.count("| change ") == 2
    # every pass row carries its CPU seconds: the cold pass parsed all 20 files, so its workers worked
    cold_row = next(line for line in table.splitlines() if line.startswith("| cold "))
    assert float(cold_row.split("|")[-3]) == round(report.cold.cpu.total, 2) > 0
    assert report.cold.cpu.parse_workers > 0
