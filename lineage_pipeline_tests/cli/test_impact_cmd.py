"""Spec of ``lineage impact`` on the demo corpus: a staging table's impact lists the report queries
that read what it feeds. The command object runs in a subprocess of the venv's Python (it is
registered in ``cli.main`` separately), against the graph a real ``lineage ingest`` wrote."""

import json

import pytest

RUN_IMPACT = "from lineage_pipeline.cli.impact_cmd import impact; impact(prog_name='lineage impact')"


@pytest.fixture
def ingested(project_env):
    project_env.run("lineage", "ingest")
    return project_env


def test_impact_of_a_staging_table_lists_the_report_queries_reading_it(ingested):
    result = json.loads(ingested.run("python", "-c", RUN_IMPACT, "stg.accounts", "--format", "json").stdout)
    assert result["start"] == "stg.accounts" and result["level"] == "table"
    depths = {node["name"]: node["depth"] for node in result["nodes"]}
    assert depths["stg.accounts"] == 0 and depths["dw.dim_account"] == 1
    assert depths["reporting.regulatory_capital"] >= 2
    readers = {(site["file"], site["kind"]) for node in result["nodes"] for site in node["readers"]}
    reporting = {file for file, _ in readers if file.startswith("reporting/")}
    assert {"reporting/regulatory_capital.sql", "reporting/customer_360.sql"} <= reporting
    # the data-quality probe in the staging load only reads stg.customers: a reader, not a writer
    probe = json.loads(ingested.run("python", "-c", RUN_IMPACT, "stg.customers", "--format", "json").stdout)
    selects = [s for s in probe["nodes"][0]["readers"] if s["kind"] == "SELECT"]
    assert [(s["file"], s["line"]) for s in selects] == [("staging/load_stg_customers.sql", 44)]


def test_markdown_and_table_formats(ingested):
    markdown = ingested.run("python", "-c", RUN_IMPACT, "stg.accounts", "--format", "markdown").stdout
    assert markdown.startswith("## Impact of changing `stg.accounts` (table)")
    assert "- [ ] `reporting/regulatory_capital.sql`" in markdown
    table = ingested.run("python", "-c", RUN_IMPACT, "stg.accounts", "--depth", "1").stdout
    assert "depth 1" in table and "depth 2" not in table


def test_unknown_name_is_a_clear_error(ingested):
    result = ingested.run("python", "-c", RUN_IMPACT, "nowhere.nothing", check=False)
    assert result.returncode == 1 and "no table or column named 'nowhere.nothing'" in result.stderr
