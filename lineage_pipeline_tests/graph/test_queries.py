"""Spec of graph.queries: upstream/downstream traversal over tables and columns, name resolution, counts."""

import os
import signal
import time

import pytest

from lineage_pipeline.graph.embedded_server import server_status
from lineage_pipeline.graph.queries import UnknownNameError, graph_counts, trace
from lineage_pipeline_tests.graph.lineage_fixtures import insert_select
from lineage_pipeline_tests.graph.test_writer import sync


@pytest.fixture
def chain(falkordb_backend):
    """src.accounts -> stg.accounts -> dw.dim_account -> rpt.accounts, plus stg.fx -> dw.dim_account."""
    files = {
        "staging/1.sql": ("r", insert_select("staging/1.sql", "src.accounts", "stg.accounts", {"id": ["id"], "amt": ["amount"]})),
        "core/2.sql": ("r", insert_select("core/2.sql", "stg.accounts", "dw.dim_account", {"id": ["id"], "amt": ["amt"]})),
        "core/3.sql": ("r", insert_select("core/3.sql", "stg.fx", "dw.dim_account", {"amt": ["rate"]})),
        "reporting/4.sql": (
            "r", insert_select("reporting/4.sql", "dw.dim_account", "rpt.accounts", {"total": ["amt"]}, kind="view")
        ),
    }
    sync(falkordb_backend, "all", files)
    return falkordb_backend


def test_downstream_of_staging_table_crosses_domains(chain):
    start, hits = trace(chain, "stg.accounts", "downstream")
    assert start == "stg.accounts"
    assert [(h.name, h.depth) for h in hits] == [("dw.dim_account", 1), ("rpt.accounts", 2)]
    assert hits[1].files == ["reporting/4.sql"]


def test_upstream_depth_limit(chain):
    _, hits = trace(chain, "rpt.accounts", "upstream", depth=1)
    assert [h.name for h in hits] == ["dw.dim_account"]
    _, hits = trace(chain, "rpt.accounts", "upstream", depth=5)
    assert [(h.name, h.depth) for h in hits] == [
        ("dw.dim_account", 1), ("stg.accounts", 2), ("stg.fx", 2), ("src.accounts", 3)
    ]


def test_column_upstream_lists_source_columns(chain):
    start, hits = trace(chain, "RPT.Accounts.Total", "upstream")
    assert start == "rpt.accounts.total"
    assert [(h.name, h.depth) for h in hits] == [
        ("dw.dim_account.amt", 1), ("stg.accounts.amt", 2), ("stg.fx.rate", 2), ("src.accounts.amount", 3)
    ]


def test_unqualified_name_resolves_when_unique(chain):
    start, _ = trace(chain, "dim_account", "downstream")
    assert start == "dw.dim_account"


def test_ambiguous_or_unknown_names_are_named(chain):
    with pytest.raises(UnknownNameError, match="did you mean one of: rpt.accounts, src.accounts, stg.accounts"):
        trace(chain, "accounts", "downstream")
    with pytest.raises(UnknownNameError, match="no table named 'nope.nothing'"):
        trace(chain, "nope.nothing", "upstream")


def test_depth_is_validated(chain):
    with pytest.raises(ValueError, match="depth must be between 1 and 50"):
        trace(chain, "stg.accounts", "downstream", depth=0)


def test_counts_by_label_and_type(chain):
    nodes, rels = graph_counts(chain)
    assert nodes == {"Column": 8, "SqlFile": 4, "Table": 5}
    assert rels == {"DERIVES": 6, "FEEDS": 4, "HAS_COLUMN": 12, "READS": 4, "WRITES": 4}


def test_queries_wait_for_a_killed_server_to_come_back(chain, tmp_path):
    """Reads go through the retry layer: a server killed under a query is restarted, not a raw ConnectionError."""
    data_dir = tmp_path / "graph-data"
    pid = server_status(data_dir).pid
    os.kill(pid, signal.SIGKILL)
    while server_status(data_dir) is not None:
        time.sleep(0.01)
    nodes, _ = graph_counts(chain)
    assert nodes["Table"] == 5 and server_status(data_dir).pid != pid
