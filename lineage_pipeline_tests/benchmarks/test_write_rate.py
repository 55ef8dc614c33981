"""Spec of ``lineage bench write-rate``: the same files written into a small and into a large graph, the
large graph left as it was."""

import pytest

from benchmarks.generate import generate_corpus
from benchmarks.run_bench import run_pass_process
from benchmarks.write_rate import measure
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline_tests.conftest import dump_of


@pytest.mark.integration  # a pass process and two graph servers
def test_same_rows_into_both_graphs_and_the_large_one_ends_as_it_started(tmp_path):
    corpus = generate_corpus(tmp_path / "corpus", 300, seed=4)
    data_dir = tmp_path / "data"
    run_pass_process("cold", corpus.root, data_dir, False, 2, timeout_s=600)
    before = dump_of(data_dir)
    try:
        small, large = measure(data_dir, "core", files=20, preload=10)
    finally:
        stop_server(data_dir)
    assert small.relationships == large.relationships > 0, "the same rows, written in full each time"
    assert large.existing_relationships > small.existing_relationships > 0
    assert small.per_second > 0 and large.per_second > 0
    assert dump_of(data_dir) == before
