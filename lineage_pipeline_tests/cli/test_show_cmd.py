"""Spec of ``lineage show`` on the demo corpus. The command object runs in a subprocess of the venv's
Python (it is registered in ``cli.main`` separately)."""

import pytest

RUN_SHOW = "from lineage_pipeline.cli.show_cmd import show; show(prog_name='lineage show')"


@pytest.fixture
def ingested(project_env):
    project_env.run("lineage", "ingest")
    return project_env


def test_show_formats(ingested):
    mermaid = ingested.run("python", "-c", RUN_SHOW, "stg.accounts", "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart LR\n")
    assert '["stg.accounts"]' in mermaid and '["dw.dim_account"]' in mermaid and '["src_core_banking.accounts"]' in mermaid
    dot = ingested.run("python", "-c", RUN_SHOW, "stg.accounts", "--columns", "--format", "dot").stdout
    assert dot.startswith("digraph lineage {") and 'label="account_number"' in dot
    page = ingested.root / "stg_accounts.html"
    result = ingested.run("python", "-c", RUN_SHOW, "stg.accounts", "--depth", "3", "--out", str(page))
    assert "nodes around stg.accounts" in result.stderr
    assert page.read_text().startswith("<!DOCTYPE html>") and 'data-id="reporting.regulatory_capital"' in page.read_text()
    svg = ingested.run("python", "-c", RUN_SHOW, "stg.accounts.account_number", "--format", "svg").stdout
    assert svg.startswith("<svg") and "stg.accounts.account_number" in svg


def test_unknown_name_is_a_clear_error(ingested):
    result = ingested.run("python", "-c", RUN_SHOW, "nowhere.nothing", check=False)
    assert result.returncode == 1 and "no table or column named 'nowhere.nothing'" in result.stderr
