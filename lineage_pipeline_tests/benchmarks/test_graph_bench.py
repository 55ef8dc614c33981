"""Spec of ``lineage bench graph``: every batch size writes the same graph, batching cuts transactions,
and the report carries the figures (no speed is asserted: that is what the benchmark measures)."""

import json

import pytest

from benchmarks.graph_bench import run_graph_bench, synthetic_lineages
from lineage_pipeline.graph.embedded_server import stop_server


def test_synthetic_lineage_shares_tables_between_files():
    lineages = synthetic_lineages(10, 3)
    sources = [s for lin in lineages for s in lin.statements[0].sources]
    targets = {t for lin in lineages for t in lin.statements[0].targets}
    assert len(lineages) == 10 and len(lineages[1].statements[0].columns) == 3
    assert targets & set(sources), "files read tables other files write"


@pytest.mark.integration  # a real graph server
def test_every_batch_size_writes_the_same_graph_with_fewer_transactions(tmp_path):
    try:
        report = run_graph_bench(files=20, columns=2, batch_sizes=[10, 1000], data_dir=tmp_path, repeat=2)
    finally:
        stop_server(tmp_path)
    by_size = {r.batch_size: r for r in report.results}
    assert sorted(by_size) == [1, 10, 1000], "one write per entity is always the baseline"
    assert len({(r.nodes, r.relationships) for r in report.results}) == 1
    assert by_size[1].transactions > by_size[10].transactions > by_size[1000].transactions
    assert all(r.nodes_per_s > 0 and r.relationships_per_s > 0 for r in report.results)
    summary = report.as_dict()
    assert summary["per_entity"]["transactions"] == by_size[1].transactions
    assert 0 <= summary["overlap_bound"] <= 1
    assert report.overlap.chunk_files == 2 and report.overlap.sequential_s > 0 and report.overlap.overlapped_s > 0


def test_cli_json_report(project_env):
    result = project_env.run(
        "lineage", "bench", "graph", "--files", "10", "--columns", "2", "--batch-sizes", "100", "--format", "json"
    )
    summary = json.loads(result.stdout)
    assert [r["batch_size"] for r in summary["results"]] == [1, 100]
    assert {"nodes_per_s", "relationships_per_s", "transactions"} <= set(summary["results"][0])
    assert summary["speedup_best_vs_per_entity"] > 0


def test_cli_rejects_bad_batch_sizes(project_env):
    result = project_env.run("lineage", "bench", "graph", "--batch-sizes", "10,x", check=False)
    assert result.returncode == 2 and "--batch-sizes" in result.stderr
