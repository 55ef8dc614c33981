"""Spec of ``bench run``: a tiny real end-to-end run yields a complete, self-consistent report (speed never asserted)."""

import os

import pytest

from benchmarks.run_bench import BenchError, markdown_table, pass_environment, run_benchmark
from lineage_pipeline.graph.embedded_server import server_status

REQUIRED_KEYS = {
    "files", "baseline_files_per_s", "optimized_files_per_s", "ratio", "warm_files_per_s", "warm_ratio",
    "incremental_files_per_s", "p50_ms", "p95_ms", "peak_rss_mb",
}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    return run_benchmark(files=20, seed=3, workers=2, change_rate=0.1, work_dir=work), work


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_report_has_every_pass_and_the_required_figures(bench):
    report, _ = bench
    data = report.as_dict()
    assert REQUIRED_KEYS <= set(data)
    assert list(data["passes"]) == ["baseline", "optimized", "warm", "incremental"]
    assert data["files"] == 20
    for name, figures in data["passes"].items():
        assert figures["files"] == 20, name
        assert figures["seconds"] > 0 and figures["files_per_s"] > 0, name
        assert figures["peak_rss_mb"] > 0 and figures["server_peak_rss_mb"] > 0, name
    assert data["ratio"] == pytest.approx(data["optimized_files_per_s"] / data["baseline_files_per_s"], rel=0.02)
    assert data["warm_ratio"] == pytest.approx(data["warm_files_per_s"] / data["baseline_files_per_s"], rel=0.02)
    assert 0 < data["p50_ms"] <= data["p95_ms"]


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_incremental_cost_is_split_into_the_fixed_part_and_the_changed_files_own(bench):
    passes = bench[0].as_dict()["passes"]
    data = bench[0].as_dict()
    cold_per_file = passes["optimized"]["seconds"] / passes["optimized"]["files"]
    expected = passes["incremental"]["changed_files"] * cold_per_file
    # the report's seconds are rounded (ms), the factors computed from the unrounded ones
    assert data["incremental_cost_factor"] == pytest.approx(passes["incremental"]["seconds"] / expected, rel=0.05, abs=0.02)
    marginal = (passes["incremental"]["seconds"] - passes["warm"]["seconds"]) / expected
    assert data["incremental_marginal_cost_factor"] == pytest.approx(marginal, rel=0.05, abs=0.05)
    warm_per_file = passes["warm"]["seconds"] / passes["warm"]["files"]
    assert data["unchanged_file_cost"] == pytest.approx(warm_per_file / cold_per_file, rel=0.05, abs=0.002)


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_each_pass_reports_its_cpu_by_part_and_the_ratio_at_the_cpu_floor(bench):
    report, _ = bench
    data = report.as_dict()
    passes = data["passes"]
    for name, figures in passes.items():
        parts = figures["cpu_s_by_part"]
        assert set(parts) == {"pass_process", "parse_workers", "graph_server"}, name
        assert figures["cpu_s"] == pytest.approx(sum(parts.values()), abs=0.003), name
        assert parts["pass_process"] > 0, name
        # more than every core busy for the whole pass is impossible, up to the accounting's resolution:
        # user and system time of each of the three parts count in 10 ms ticks (a no-op pass lasts ~50 ms)
        assert 0 < figures["cores_busy"], name
        assert figures["cpu_s"] <= report.cores * figures["seconds"] * 1.1 + 3 * 2 * 0.01, name
    # the passes that parse run the parser in their workers; the warm pass parses nothing
    assert passes["optimized"]["cpu_s_by_part"]["parse_workers"] > 0
    assert passes["baseline"]["cpu_s_by_part"]["parse_workers"] > 0
    assert passes["warm"]["cpu_s_by_part"]["parse_workers"] < passes["optimized"]["cpu_s_by_part"]["parse_workers"]
    assert passes["optimized"]["cpu_s_by_part"]["graph_server"] > 0
    floor = passes["optimized"]["cpu_s"] / report.cores
    assert data["optimized_cpu_floor_s"] == pytest.approx(floor, abs=0.002)
    assert data["ratio_at_cpu_floor"] == pytest.approx(passes["baseline"]["seconds"] / floor, rel=0.02)
    assert "with all" in markdown_table(report) and f"{data['ratio_at_cpu_floor']:.1f}x" in markdown_table(report)


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_baseline_and_optimized_run_with_their_own_knobs(bench):
    passes = bench[0].as_dict()["passes"]
    baseline, optimized = passes["baseline"], passes["optimized"]
    assert baseline["settings"]["baseline_mode"] is True
    assert baseline["settings"]["enable_parse_cache"] is False
    assert baseline["settings"]["workers"] == 1 and baseline["settings"]["write_batch_size"] == 1
    assert optimized["settings"]["baseline_mode"] is False and optimized["settings"]["workers"] == 2
    assert optimized["settings"]["write_batch_size"] > 1
    # the same corpus gives the same lineage either way; one write per entity means many more transactions
    assert baseline["statements"] == optimized["statements"] and baseline["parse_errors"] == optimized["parse_errors"] > 0
    assert baseline["graph_entities_written"] == optimized["graph_entities_written"] > 0
    assert baseline["graph_transactions"] > optimized["graph_transactions"]


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_warm_reuses_everything_and_incremental_reparses_only_changed_files(bench):
    passes = bench[0].as_dict()["passes"]
    warm, incremental = passes["warm"], passes["incremental"]
    assert warm["files_parsed"] == 0 and warm["cache_hit_rate"] == 1.0 and warm["graph_transactions"] == 0
    assert incremental["changed_files"] == 2 and incremental["files_parsed"] == 2
    assert incremental["cache_hit_rate"] == pytest.approx(18 / 20)
    assert incremental["graph_transactions"] > 0


@pytest.mark.integration  # the module\'s benchmark run: pass processes and graph servers
def test_servers_are_stopped_and_markdown_lists_each_pass(bench):
    report, work = bench
    assert server_status(work / "data-baseline") is None and server_status(work / "data-optimized") is None
    table = markdown_table(report)
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| pass")]
    assert [row.split("|")[1].strip() for row in rows] == ["baseline", "optimized", "warm", "incremental"]


def test_pass_environment_drops_inherited_pipeline_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("LINEAGE_PARSE_CACHE_PATH", "/elsewhere/cache.sqlite")
    monkeypatch.setenv("PARSE_CACHE_PATH", "/elsewhere/cache.sqlite")
    monkeypatch.setenv("LINEAGE_WRITE_BATCH_SIZE", "7")
    env = pass_environment(tmp_path / "data", tmp_path / "corpus", baseline=False, workers=3)
    assert "LINEAGE_PARSE_CACHE_PATH" not in env and "PARSE_CACHE_PATH" not in env
    assert "LINEAGE_WRITE_BATCH_SIZE" not in env
    assert env["LINEAGE_DATA_DIR"] == str(tmp_path / "data") and env["LINEAGE_WORKERS"] == "3"
    assert env["LINEAGE_BASELINE_MODE"] == "false" and env["PATH"] == os.environ["PATH"]
    baseline = pass_environment(tmp_path / "data", tmp_path / "corpus", baseline=True, workers=3)
    assert baseline["LINEAGE_BASELINE_MODE"] == "true" and "LINEAGE_WORKERS" not in baseline


def test_a_used_work_folder_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "data-optimized").mkdir()
    with pytest.raises(BenchError, match="not empty"):
        run_benchmark(files=10, work_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data-optimized"]
