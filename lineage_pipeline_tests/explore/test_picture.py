"""Spec of explore.picture on the fixture corpus in a real FalkorDB: the neighbourhood around a node and
its Mermaid, DOT and SVG renderings."""

import xml.etree.ElementTree as ET

from lineage_pipeline.explore.picture import (
    PictureEdge,
    PictureNode,
    neighbourhood,
    to_dot,
    to_mermaid,
    to_svg,
)

REPORT = "file:reporting/report_balances.sql"


def test_table_neighbourhood_has_both_sides_and_the_report_queries(fixture_graph):
    picture = neighbourhood(fixture_graph, "dim_account", depth=2)
    assert picture.focus == "dw.dim_account" and picture.truncated == 0
    assert picture.nodes == [
        PictureNode("src.accounts", "src.accounts", "table", -2),
        PictureNode("stg.accounts", "stg.accounts", "table", -1),
        PictureNode("dw.dim_account", "dw.dim_account", "table", 0, focus=True),
        PictureNode(REPORT, "reporting/report_balances.sql", "query", 1),
        PictureNode("rpt.balance_summary", "rpt.balance_summary", "view", 1),
    ]
    assert picture.edges == [
        PictureEdge("dw.dim_account", REPORT, "reads"),
        PictureEdge("dw.dim_account", "rpt.balance_summary", "feeds"),
        PictureEdge("src.accounts", "stg.accounts", "feeds"),
        PictureEdge("stg.accounts", "dw.dim_account", "feeds"),
        PictureEdge("stg.accounts", REPORT, "reads"),
    ]
    assert [n.id for n in neighbourhood(fixture_graph, "dim_account", depth=1).nodes] == [
        "stg.accounts", "dw.dim_account", REPORT, "rpt.balance_summary",
    ]


def test_columns_replace_the_table_edges_they_explain(fixture_graph):
    picture = neighbourhood(fixture_graph, "stg.accounts", depth=1, columns=True, readers=False)
    columns = [n for n in picture.nodes if n.kind == "column"]
    assert {(n.id, n.parent) for n in columns} == {
        ("src.accounts.acct_no", "src.accounts"), ("src.accounts.bal", "src.accounts"),
        ("stg.accounts.account_id", "stg.accounts"), ("stg.accounts.balance", "stg.accounts"),
        ("dw.dim_account.account_id", "dw.dim_account"), ("dw.dim_account.balance_eur", "dw.dim_account"),
    }
    assert {e.kind for e in picture.edges} == {"derives"}
    assert PictureEdge("stg.accounts.balance", "dw.dim_account.balance_eur", "derives", "expression") in picture.edges


def test_column_focus_follows_derivations(fixture_graph):
    picture = neighbourhood(fixture_graph, "dw.dim_account.balance_eur", depth=5, readers=False)
    assert picture.level == "column"
    assert [(n.id, n.depth, n.focus) for n in picture.nodes if n.kind == "column"] == [
        ("src.accounts.bal", -2, False), ("stg.accounts.balance", -1, False),
        ("dw.dim_account.balance_eur", 0, True), ("rpt.balance_summary.total_eur", 1, False),
    ]


def test_max_nodes_keeps_the_nearest(fixture_graph):
    picture = neighbourhood(fixture_graph, "dw.dim_account", depth=2, max_nodes=3)
    assert [n.id for n in picture.nodes] == ["stg.accounts", "dw.dim_account", "rpt.balance_summary"]
    assert picture.truncated == 2
    assert all(e.source in {"stg.accounts", "dw.dim_account", "rpt.balance_summary"} for e in picture.edges)


MERMAID = """flowchart LR
  subgraph n0 ["stg.accounts"]
    n1("account_id")
    n2("balance")
  end
  subgraph n3 ["dw.dim_account"]
    n4("account_id")
    n5("balance_eur")
  end
  n6[/"reporting/report_balances.sql"/]
  subgraph n7 ["rpt.balance_summary"]
    n8("total_eur")
  end
  n3 -.-> n6
  n5 -->|"aggregation"| n8
  n0 -.-> n6
  n1 -->|"direct"| n4
  n2 -->|"expression"| n5
  classDef focus stroke:#d9480f,stroke-width:3px
  class n3 focus
"""


def test_mermaid(fixture_graph):
    assert to_mermaid(neighbourhood(fixture_graph, "dw.dim_account", depth=1, columns=True)) == MERMAID


def test_labels_cannot_break_the_text_formats():
    from lineage_pipeline.explore.picture import Picture

    name = 'odd"name<b>#x'
    picture = Picture(name, "table", [PictureNode(name, name, "table", 0, focus=True)], [])
    assert '"odd#quot;name#lt;b#gt;#35;x"' in to_mermaid(picture)
    assert 'label="odd\\"name<b>#x"' in to_dot(picture)
    ET.fromstring(to_svg(picture))  # well-formed XML despite the markup in the name


def test_dot_reaches_a_column_box_through_its_cluster(fixture_graph):
    text = to_dot(neighbourhood(fixture_graph, "dw.dim_account", depth=1, columns=True))
    assert text.startswith("digraph lineage {\n  rankdir=LR;\n  compound=true;")
    assert '  subgraph cluster_n3 {\n    label="dw.dim_account"; color="#d9480f"; penwidth=3;\n' in text
    assert "  n4 -> n6 [style=dashed, ltail=cluster_n3];\n" in text  # the table's read edge, clipped at its box
    assert "  n2 -> n5 [label=\"expression\"];\n" in text
    assert text.endswith("}\n") and text.count("{") == text.count("}")


def test_svg_is_well_formed_with_one_box_per_table_and_one_path_per_edge(fixture_graph):
    picture = neighbourhood(fixture_graph, "dw.dim_account", depth=2, columns=True)
    root = ET.fromstring(to_svg(picture))
    ns = {"s": "http://www.w3.org/2000/svg"}
    boxes = [g.get("data-id") for g in root.findall("s:g", ns)]
    assert sorted(boxes) == sorted(n.id for n in picture.nodes if n.kind != "column")
    assert len(root.findall("s:path", ns)) == len(picture.edges)
    assert [t.text for t in root.findall(".//s:text[@class='column']", ns)][:2] == ["acct_no", "bal"]
