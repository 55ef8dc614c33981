"""Spec of explore.html_page: the page renders offline in a real headless Chromium, draws every node and
edge, and keeps node boxes apart at 200 nodes. Skipped only where no Chromium is installed."""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lineage_pipeline.explore.html_page import to_html
from lineage_pipeline.explore.picture import (
    Picture,
    PictureEdge,
    PictureNode,
    neighbourhood,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install -y chromium)")


def render(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``page``, with a fresh profile and nothing that reaches the network on its own."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
        *extra, page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Graph(HTMLParser):
    """The ``#cy`` element's data attributes and the ids in ``#node-list``."""

    def __init__(self):
        super().__init__()
        self.cy: dict[str, str] = {}
        self.listed: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id") == "cy":
            self.cy = attributes
        if tag == "li" and "data-id" in attributes:
            self.listed.append(attributes["data-id"])


def dom_of(tmp_path: Path, picture: Picture) -> _Graph:
    page = tmp_path / "page.html"
    page.write_text(to_html(picture), encoding="utf-8")
    parsed = _Graph()
    parsed.feed(render(page, tmp_path / "profile", "--dump-dom").stdout)
    return parsed


def test_page_is_self_contained(fixture_graph):
    page = to_html(neighbourhood(fixture_graph, "dw.dim_account", depth=2, columns=True))
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=""", page), "no resource is loaded from elsewhere"
    assert "</script" not in page.split('id="lineage-data">')[1].split("</script>")[0]


@needs_chromium
def test_fixture_graph_renders_every_node_and_edge(fixture_graph, tmp_path):
    picture = neighbourhood(fixture_graph, "dw.dim_account", depth=2, columns=True)
    dom = dom_of(tmp_path, picture)
    assert dom.cy["data-status"] == "rendered"
    assert int(dom.cy["data-rendered-nodes"]) == len(picture.nodes) == 12
    assert int(dom.cy["data-rendered-edges"]) == len(picture.edges) == 7
    assert dom.cy["data-overlaps"] == "0"
    assert dom.listed == [n.id for n in picture.nodes]


def _wide_picture(tables: int = 160, columns_per_table: int = 0) -> Picture:
    """A layered lineage of ``tables`` tables in 8 layers, each fed by two of the previous layer."""
    nodes, edges = [], []
    per_layer = tables // 8
    for i in range(tables):
        layer, slot = divmod(i, per_layer)
        key = f"layer{layer}.table_{slot:03d}_with_a_realistic_name"
        nodes.append(PictureNode(key, key, "view" if slot % 5 == 0 else "table", layer - 4, focus=i == 4 * per_layer))
        if layer:
            for parent in (slot, (slot * 7 + 3) % per_layer):
                edges.append(PictureEdge(f"layer{layer - 1}.table_{parent:03d}_with_a_realistic_name", key, "feeds"))
        for c in range(columns_per_table):
            nodes.append(PictureNode(f"{key}.col_{c}", f"col_{c}", "column", layer - 4, parent=key))
    return Picture(nodes[0].id, "table", nodes, sorted(set(edges), key=lambda e: (e.source, e.target)))


@needs_chromium
@pytest.mark.parametrize(("tables", "columns"), [(200, 0), (80, 2)], ids=["200-tables", "80-tables-160-columns"])
def test_two_hundred_nodes_render_without_overlapping(tmp_path, tables, columns):
    picture = _wide_picture(tables, columns)
    assert len(picture.nodes) >= 200
    dom = dom_of(tmp_path, picture)
    assert int(dom.cy["data-rendered-nodes"]) == len(picture.nodes)
    assert int(dom.cy["data-rendered-edges"]) == len(picture.edges)
    assert dom.cy["data-overlaps"] == "0"
