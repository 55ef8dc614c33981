"""Spec of ``lineage bench cache``: one invocation yields cold/warm passes and RSS probes that add up.

No speed is asserted here; the command's figures are for a quiet machine.
"""

import json

from lineage_pipeline.bench.generate import generate_corpus


def test_json_report_of_a_small_generated_corpus(project_env):
    result = project_env.run(
        "lineage", "bench", "cache", "--files", "60", "--rss-files", "20,40", "--format", "json", timeout=600
    )
    report = json.loads(result.stdout)
    one, many, warm = report["passes"]
    assert [p["workers"] for p in (one, many, warm)] == [1, 2, 2]
    assert one["files"] == many["files"] == warm["files"] == 60
    assert (one["hits"], one["misses"], many["hits"], many["misses"]) == (0, 60, 0, 60)
    assert (warm["hits"], warm["misses"]) == (60, 0)
    assert set(report["ratios"]) == {"warm_vs_cold", "warm_vs_cold_parse_stage", "warm_parse_files_per_s", "two_vs_one_worker"}
    assert all(value > 0 for value in report["ratios"].values())
    assert [(p["files"], p["workers"]) for p in report["rss"]] == [(20, 2), (40, 2)]
    assert all(p["parent_mb"] > 0 and p["worker_mb"] > 0 for p in report["rss"])


def test_table_report_on_a_given_corpus_without_rss_probes(project_env, tmp_path):
    corpus = generate_corpus(tmp_path / "given", 30, seed=5)
    result = project_env.run("lineage", "bench", "cache", "--corpus", str(corpus.root), "--rss-files", "", timeout=600)
    assert f"corpus: {corpus.root}" in result.stdout
    assert "warm, 2 workers" in result.stdout and "2 workers vs 1 worker" in result.stdout
    assert "peak RSS" not in result.stdout
