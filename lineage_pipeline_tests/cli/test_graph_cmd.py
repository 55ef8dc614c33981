"""Spec of ``lineage upstream|downstream`` and ``lineage graph start|stop|status`` on the demo corpus."""

import json

import pytest

from lineage_pipeline.graph.embedded_server import server_status


@pytest.fixture
def ingested(project_env):
    project_env.run("lineage", "ingest")
    return project_env


def test_downstream_of_staging_table_crosses_domains(ingested):
    result = json.loads(ingested.run("lineage", "downstream", "stg.accounts", "--format", "json").stdout)
    names = {hit["name"] for hit in result["results"]}
    assert result["start"] == "stg.accounts"
    assert "dw.dim_account" in names
    assert any(n.startswith("risk.") for n in names) and any(n.startswith("reporting.") for n in names)
    table = ingested.run("lineage", "downstream", "stg.accounts").stdout
    assert "dw.dim_account" in table and "depth" in table


def test_upstream_of_fact_column_lists_source_columns(ingested):
    result = json.loads(
        ingested.run("lineage", "upstream", "dw.fact_transaction.amount_eur", "--format", "json").stdout
    )
    names = {hit["name"] for hit in result["results"]}
    assert {"stg.transactions.amount", "stg.fx_rates.rate"} <= names


def test_unknown_name_is_a_clear_error(ingested):
    result = ingested.run("lineage", "upstream", "nowhere.nothing", check=False)
    assert result.returncode == 1 and "no table named 'nowhere.nothing'" in result.stderr


def test_graph_status_stop_start(ingested):
    status = json.loads(ingested.run("lineage", "graph", "status", "--format", "json").stdout)
    assert status["backend"] == "falkordb"
    assert status["pid"] == server_status(ingested.data_dir).pid
    assert set(status["nodes"]) == {"SqlFile", "Table", "Column"}
    assert set(status["relationships"]) == {"READS", "WRITES", "FEEDS", "HAS_COLUMN", "DERIVES"}
    assert "stopped" in ingested.run("lineage", "graph", "stop").stdout
    assert server_status(ingested.data_dir) is None
    assert "running" in ingested.run("lineage", "graph", "start").stdout
    again = json.loads(ingested.run("lineage", "graph", "status", "--format", "json").stdout)
    assert again["nodes"] == status["nodes"] and again["relationships"] == status["relationships"]


@pytest.mark.parametrize("args", [[], ["ingest"], ["parse"], ["upstream"], ["downstream"], ["graph"], ["graph", "status"]])
def test_every_command_has_help(project_env, args):
    result = project_env.run("lineage", *args, "--help")
    assert "Usage:" in result.stdout
