"""Spec of one ingest pass process: the stage functions run on the demo corpus with the knobs the environment sets."""

import json
import subprocess
import sys

from benchmarks.run_bench import pass_environment
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.queries import graph_counts


def _run_pass(project_env, baseline: bool) -> dict:
    env = pass_environment(project_env.data_dir, project_env.corpus, baseline=baseline, workers=2)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest_pass", "--corpus", str(project_env.corpus)],
        env=env, capture_output=True, text=True, timeout=600, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_baseline_pass_then_optimized_pass_on_the_same_graph(project_env):
    try:
        cold = _run_pass(project_env, baseline=True)
        assert cold["settings"]["baseline_mode"] is True and cold["settings"]["write_batch_size"] == 1
        # with the cache off, each domain's catalog pass parses the other domains' files again
        assert cold["parsed"] >= cold["files"] > 30 and cold["reused"] == 0
        assert cold["errors"] > 0  # the demo corpus holds deliberately bad files
        assert len(cold["file_ms"]) + len(cold["catalog_file_ms"]) == cold["parsed"] + cold["catalog_parsed"]
        assert cold["transactions"] >= cold["entities_written"] > 0
        with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="lineage")) as backend:
            nodes, relationships = graph_counts(backend)
        assert sum(nodes.values()) > 0 and sum(relationships.values()) > 0

        optimized = _run_pass(project_env, baseline=False)
        # like `lineage ingest`: every domain is current (same files, final results, same revisions in the
        # graph), so the pass is the no-op check alone, whatever the knobs that produced the state
        assert optimized["current_check_s"] > 0 and optimized["parsed"] == 0
        assert optimized["reused"] == optimized["files"] == cold["files"]
        assert optimized["transactions"] == 0 and optimized["files_written"] == 0
        (project_env.corpus / "core" / "added_by_the_spec.sql").write_text("INSERT INTO dw.t (id) SELECT id FROM stg.t;\n")
        again = _run_pass(project_env, baseline=False)
        # one file more in core: core runs (it also holds a file resolved against the corpus catalog, which the
        # new file could change); the four domains none of whose files a catalog can change are left alone.
        # The cache is cold after the baseline pass, so core's files are parsed again, but only the new file
        # changes the graph
        assert again["files"] == cold["files"] + 1 and again["parsed"] >= 1
        assert again["domains_left_alone"] == 4
        assert again["files_written"] == 1
        # CPU by part: the cold pass parsed in workers and wrote through the server; nothing parses again
        assert cold["cpu_s"]["parse_workers"] > 0 and cold["cpu_s"]["graph_server"] > 0
        assert optimized["cpu_s"]["parse_workers"] < 0.05 and optimized["cpu_s"]["pass_process"] > 0
    finally:
        stop_server(project_env.data_dir)
