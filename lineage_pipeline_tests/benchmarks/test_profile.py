"""Spec of the profiler: phases add up to the measured total and the parser is left unpatched."""

import pytest

from benchmarks.generate import generate_corpus
from benchmarks.profile import pipeline_rows, profile_parser
from lineage_pipeline.parsing import extraction, parser


def test_parser_phases_cover_the_total_and_timers_are_removed(tmp_path):
    originals = (parser.split_script, parser._parse_chunk, extraction.qualify_query)
    corpus = generate_corpus(tmp_path / "c", 12, seed=2)
    profile = profile_parser(corpus)
    assert profile.files == 12 and profile.total_s > 0
    assert set(profile.phases) == {
        "split", "sqlglot parse", "sqlglot qualify", "encode for cache/IPC", "lineage extraction (rest)"
    }
    assert all(seconds >= 0 for seconds in profile.phases.values())
    assert sum(profile.phases.values()) == pytest.approx(profile.total_s)
    assert profile.phases["sqlglot parse"] > 0 and profile.phases["sqlglot qualify"] > 0
    assert sum(profile.shares().values()) == pytest.approx(1.0)
    assert (parser.split_script, parser._parse_chunk, extraction.qualify_query) == originals


def test_pipeline_rows_split_parse_wall_time_into_worker_cpu_and_overhead():
    figures = {"scan_s": 0.5, "parse_s": 5.5, "catalog_s": 1.5, "parse_cpu_s": 6.0, "catalog_parse_cpu_s": 2.0,
               "write_s": 2.0}
    rows = dict(pipeline_rows(figures, workers=2))
    assert rows["scan + manifest"] == 0.5 and rows["graph write"] == 2.0
    assert rows["parse in workers (CPU / 2 workers)"] == 4.0, "first passes of every domain and resolutions"
    assert rows["pool start-up, IPC, cache writes, idle tails"] == 1.5
    assert sum(rows.values()) == 8.0, "the rows add up to the pass's stages"
