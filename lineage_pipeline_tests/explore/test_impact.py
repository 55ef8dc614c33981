"""Spec of explore.impact on the fixture corpus in a real FalkorDB: downstream nodes by depth, with the
statements that read (report queries included) and write each, and the transform on each hop."""

import json
import shutil

import pytest

from lineage_pipeline.explore.impact import (
    Hop,
    ImpactNode,
    Site,
    impact,
    impact_json,
    impact_markdown,
    impact_text,
    resolve,
)
from lineage_pipeline.graph.queries import UnknownNameError
from lineage_pipeline_tests.explore.conftest import CORPUS, ingest

LOAD_DIM = Site("core/usp_load_dim_account.sql", "core", 0, 4, "INSERT", "dw.usp_load_dim_account")
REPORT_DIM = Site("reporting/report_balances.sql", "reporting", 0, 2, "SELECT")
REPORT_STG = Site("reporting/report_balances.sql", "reporting", 1, 6, "SELECT")
VIEW = Site("reporting/balance_summary.sql", "reporting", 0, 1, "CREATE VIEW")
STG_DDL = Site("staging/00_create_stg_accounts.sql", "staging", 0, 1, "CREATE TABLE")
STG_LOAD = Site("staging/load_accounts.sql", "staging", 0, 2, "INSERT")


def test_table_impact_lists_every_reader_by_depth(fixture_graph):
    result = impact(fixture_graph, "stg.accounts")
    assert (result.start, result.level) == ("stg.accounts", "table")
    assert result.nodes == [
        ImpactNode("stg.accounts", 0, [], [LOAD_DIM, REPORT_STG], [STG_DDL, STG_LOAD]),
        ImpactNode(
            "dw.dim_account", 1,
            [Hop("stg.accounts", ["core/usp_load_dim_account.sql"], ["direct", "expression"])],
            [VIEW, REPORT_DIM], [LOAD_DIM],
        ),
        ImpactNode(
            "rpt.balance_summary", 2,
            [Hop("dw.dim_account", ["reporting/balance_summary.sql"], ["aggregation"])], [], [VIEW],
        ),
    ]
    assert result.reader_files() == [
        "core/usp_load_dim_account.sql", "reporting/balance_summary.sql", "reporting/report_balances.sql",
    ]


def test_a_table_only_report_queries_read_has_readers(fixture_graph):
    # `downstream` finds nothing past a table no statement writes from; impact lists its readers
    result = impact(fixture_graph, "rpt.balance_summary")
    assert [n.name for n in result.nodes] == ["rpt.balance_summary"]
    result = impact(fixture_graph, "dw.dim_account", depth=1)
    assert result.nodes[0].readers == [VIEW, REPORT_DIM]


def test_column_impact_follows_derivations_with_their_transforms(fixture_graph):
    result = impact(fixture_graph, "stg.accounts.balance")
    assert result.level == "column"
    assert result.nodes == [
        ImpactNode("stg.accounts.balance", 0, [], [LOAD_DIM, REPORT_STG], [STG_LOAD]),
        ImpactNode(
            "dw.dim_account.balance_eur", 1,
            [Hop("stg.accounts.balance", ["core/usp_load_dim_account.sql"], ["expression"])],
            [VIEW, REPORT_DIM], [LOAD_DIM],
        ),
        ImpactNode(
            "rpt.balance_summary.total_eur", 2,
            [Hop("dw.dim_account.balance_eur", ["reporting/balance_summary.sql"], ["aggregation"])], [], [VIEW],
        ),
    ]


def test_depth_limits_the_walk(fixture_graph):
    assert [n.name for n in impact(fixture_graph, "stg.accounts", depth=1).nodes] == ["stg.accounts", "dw.dim_account"]
    with pytest.raises(ValueError, match="depth"):
        impact(fixture_graph, "stg.accounts", depth=0)


def test_names_resolve_by_unique_suffix_else_a_clear_error(fixture_graph):
    assert resolve(fixture_graph, "dim_account") == ("table", "dw.dim_account")
    assert resolve(fixture_graph, "balance_eur") == ("column", "dw.dim_account.balance_eur")
    with pytest.raises(UnknownNameError, match="account_id"):
        resolve(fixture_graph, "account_id")  # in three tables: the candidates are listed
    with pytest.raises(UnknownNameError, match="no table or column named 'nowhere'"):
        resolve(fixture_graph, "nowhere")


def test_renderings(fixture_graph):
    result = impact(fixture_graph, "stg.accounts")
    assert json.loads(impact_json(result))["nodes"][1]["via"][0]["transforms"] == ["direct", "expression"]
    text = impact_text(result)
    assert "read    reporting/report_balances.sql:6 #1 SELECT" in text
    assert "written core/usp_load_dim_account.sql:4 #0 INSERT in dw.usp_load_dim_account" in text
    markdown = impact_markdown(result)
    assert markdown.startswith("## Impact of changing `stg.accounts` (table)\n")
    assert "| `dw.dim_account` | stg.accounts [direct, expression] |" in markdown
    assert markdown.endswith("- [ ] `reporting/report_balances.sql`\n")


def test_a_graph_written_without_statement_sites_still_names_the_files(falkordb_backend):
    ingest(falkordb_backend)  # the shared writer as it is: READS/WRITES may lack statement lists
    readers = impact(falkordb_backend, "dw.dim_account").nodes[0].readers
    assert {s.file for s in readers} == {"reporting/balance_summary.sql", "reporting/report_balances.sql"}


def test_rewriting_a_file_replaces_its_reader_sites_exactly(falkordb_backend, monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    ingest(falkordb_backend, corpus)
    report = corpus / "reporting" / "report_balances.sql"
    # the stg.accounts probe goes; the dim_account query moves down two lines
    report.write_text("-- report queries\n--\n\nSELECT account_id\nFROM dw.dim_account;\n")
    ingest(falkordb_backend, corpus)
    assert impact(falkordb_backend, "stg.accounts", depth=1).nodes[0].readers == [LOAD_DIM]
    assert impact(falkordb_backend, "dw.dim_account", depth=1).nodes[0].readers == [
        VIEW, Site("reporting/report_balances.sql", "reporting", 0, 4, "SELECT"),
    ]


def test_a_table_read_by_many_report_queries_lists_every_one(falkordb_backend, monkeypatch, tmp_path):
    # the case: a fact table that 67 benchmark queries read and no statement writes from
    for n in range(1, 68):
        query = tmp_path / "reports" / f"query{n:02d}.sql"
        query.parent.mkdir(exist_ok=True)
        query.write_text(
            f"-- query {n}\n\nSELECT ss_item_sk, SUM(ss_net_paid) AS paid\nFROM tpcds.store_sales\nWHERE ss_quantity > {n}\n"
            "GROUP BY ss_item_sk;\n"
        )
    ingest(falkordb_backend, tmp_path)
    [start] = impact(falkordb_backend, "store_sales").nodes
    assert [(s.file, s.line, s.kind) for s in start.readers] == [(f"reports/query{n:02d}.sql", 3, "SELECT") for n in range(1, 68)]
