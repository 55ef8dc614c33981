"""Spec of bench.pool_bench: both start methods measured in fresh processes, with the figures and ratio reported."""

import json

import pytest
from click.testing import CliRunner

from benchmarks.generate import generate_corpus
from benchmarks.pool_bench import pool_bench, sample_tasks


def test_the_sample_spreads_over_every_domain_in_corpus_order(tmp_path):
    generate_corpus(tmp_path, 60, seed=0)
    by_domain = sample_tasks(tmp_path, 12)
    assert sum(len(tasks) for tasks in by_domain.values()) == 12
    assert list(by_domain) == sorted(by_domain) and len(by_domain) >= 4
    assert all(t.dialect == {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery",
                             "marts": "postgres"}[domain] for domain, tasks in by_domain.items() for t in tasks)


@pytest.mark.integration  # forked and spawned workers
def test_the_command_measures_fork_and_spawn_and_reports_both(tmp_path):
    report = tmp_path / "pool.json"
    result = CliRunner().invoke(pool_bench, ["--files", "8", "--repeat", "1", "--workers", "2", "--json", str(report)])
    assert result.exit_code == 0, result.output
    assert "| 8 | spawn |" in result.output and "| 8 | fork |" in result.output
    measurements = json.loads(report.read_text())
    assert {m["method"]: m["started_as"] for m in measurements} == {"spawn": ["spawn"] * 2, "fork": ["fork"] * 2}
    for m in measurements:
        assert m["files"] == 8 and 0 < m["first_result_s"] <= m["total_s"]
        assert 0 < m["peak_pss_bytes"] <= m["peak_rss_bytes"]
