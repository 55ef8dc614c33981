"""Spec of ``lineage bench cache``: one invocation yields cold/warm passes and RSS probes that add up.

No speed is asserted here; the command's figures are for a quiet machine.
"""

import json

from benchmarks.generate import generate_corpus


def test_json_report_of_a_small_generated_corpus(project_env):
    result = project_env.run(
        "lineage", "bench", "cache", "--files", "60", "--rss-files", "20,40", "--format", "json", timeout=600
    )
    report = json.loads(result.stdout)
    one, many, warm = report["parse_passes"]
    assert [p["workers"] for p in (one, many, warm)] == [1, 2, 2]
    assert one["files"] == many["files"] == warm["files"] == 60
    assert (one["hits"], one["misses"], many["hits"], many["misses"]) == (0, 60, 0, 60)
    assert (warm["hits"], warm["misses"]) == (60, 0)
    cold_ingest, warm_ingest = report["ingest_passes"]
    assert (cold_ingest["files"], cold_ingest["parsed"], cold_ingest["reused"]) == (60, 60, 0)
    assert (warm_ingest["parsed"], warm_ingest["reused"]) == (0, 60)
    assert set(report["ratios"]) == {
        "warm_vs_cold_ingest", "warm_vs_cold_scan_and_parse", "warm_vs_cold_parse_stage", "warm_parse_files_per_s",
        "workers_vs_one_worker",
    }
    assert all(value > 0 for value in report["ratios"].values())
    assert [(p["files"], p["parsed"]) for p in report["rss"]] == [(20, 20), (40, 40)]
    assert all(p["peak_rss_mb"] > 0 and p["server_peak_rss_mb"] > 0 for p in report["rss"])


def test_table_report_on_a_given_corpus_without_rss_probes(project_env, tmp_path):
    corpus = generate_corpus(tmp_path / "given", 30, seed=5)
    result = project_env.run("lineage", "bench", "cache", "--corpus", str(corpus.root), "--rss-files", "", timeout=600)
    assert f"corpus: {corpus.root}" in result.stdout
    assert "warm, 2 workers" in result.stdout and "warm ingest" in result.stdout and "2 workers vs 1" in result.stdout
    assert "peak RSS" not in result.stdout
