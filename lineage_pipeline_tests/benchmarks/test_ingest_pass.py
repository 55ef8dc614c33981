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
        # baseline mode's disabled cache stored nothing: the first optimized pass parses every file again,
        # and finds the graph already equal to its results (same revisions): it writes nothing
        assert optimized["reused"] == 0 and optimized["parsed"] >= optimized["files"] == cold["files"]
        assert optimized["transactions"] == 0 and optimized["files_written"] == 0
        again = _run_pass(project_env, baseline=False)
        # the optimized pass stored its results: the next one reuses them all
        assert again["reused"] == again["files"] == cold["files"] and again["parsed"] == 0
        assert again["transactions"] == 0 and again["files_written"] == 0
        # CPU by part: the cold pass parsed in workers and wrote through the server; nothing parses again
        assert cold["cpu_s"]["parse_workers"] > 0 and cold["cpu_s"]["graph_server"] > 0
        assert again["cpu_s"]["parse_workers"] < 0.05 and again["cpu_s"]["pass_process"] > 0
    finally:
        stop_server(project_env.data_dir)
