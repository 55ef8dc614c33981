"""A self-contained HTML page of a ``Picture``: Cytoscape.js with the dagre layered layout, inlined, so the
page opens offline and can be attached to a ticket.

Why these libraries: Cytoscape.js draws on a canvas (hundreds of nodes stay fluid), has compound nodes
(a table box holding its columns) and pan/zoom; dagre is the standard layered layout for DAGs, which
lineage is. Both are MIT-licensed and vendored unmodified from the npm registry (``vendor/``).

The page also carries the nodes as an HTML list (searchable, readable without JavaScript) and, once
laid out, reports on ``#cy`` how many nodes and edges it drew and how many node boxes overlap, which
is what the headless-browser test checks.
"""

import json
from functools import cache
from importlib import resources

from lineage_pipeline.explore.picture import Picture, html_escape

VENDOR_SCRIPTS = ("cytoscape.min.js", "dagre.min.js", "cytoscape-dagre.js")


@cache
def _vendor_js() -> str:
    folder = resources.files("lineage_pipeline.explore") / "vendor"
    return "\n".join(f"/* {name} */\n{(folder / name).read_text(encoding='utf-8')}" for name in VENDOR_SCRIPTS)


def _elements(picture: Picture) -> list[dict]:
    parents = {n.parent for n in picture.nodes if n.parent}
    elements: list[dict] = []
    for node in picture.nodes:
        data = {"id": node.id, "label": node.label, "kind": node.kind, "depth": node.depth}
        if node.parent and node.parent in {n.id for n in picture.nodes}:
            data["parent"] = node.parent
        classes = [node.kind] + (["focus"] if node.focus else []) + (["holder"] if node.id in parents else [])
        elements.append({"group": "nodes", "data": data, "classes": " ".join(classes)})
    first_child: dict[str, str] = {}
    for node in picture.nodes:
        if node.parent in parents:
            first_child.setdefault(node.parent, node.id)
    for i, edge in enumerate(picture.edges):
        data = {"id": f"e{i}", "source": edge.source, "target": edge.target, "kind": edge.kind, "label": edge.label}
        elements.append({"group": "edges", "data": data, "classes": edge.kind})
        # dagre ranks leaf nodes only: an edge from a table drawn as a box of columns would leave its
        # target unranked, so the layout gets a twin edge from the box's first column
        if edge.source in first_child or edge.target in first_child:
            twin = {"id": f"e{i}-layout", "source": first_child.get(edge.source, edge.source),
                    "target": first_child.get(edge.target, edge.target)}
            elements.append({"group": "edges", "data": twin, "classes": "layout-only"})
    return elements


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: ``<`` escaped, so no name can close the element."""
    return json.dumps(value, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


STYLE = """
body { margin: 0; font: 13px Helvetica, Arial, sans-serif; color: #223; display: flex; height: 100vh; }
#side { width: 300px; padding: 12px; border-right: 1px solid #ccd; overflow: auto; box-sizing: border-box; }
#cy { flex: 1; min-width: 0; }
h1 { font-size: 15px; margin: 0 0 8px; word-break: break-all; }
#search { width: 100%; box-sizing: border-box; padding: 4px; margin: 6px 0; }
#info { white-space: pre-wrap; font-family: monospace; font-size: 12px; background: #f6f7f9; padding: 6px; min-height: 3em; }
.legend span { display: inline-block; padding: 1px 6px; margin: 2px; border: 1px solid #889; border-radius: 3px; }
#node-list { padding-left: 16px; font-size: 12px; }
"""

APP_JS = """
(function () {
  var data = JSON.parse(document.getElementById('lineage-data').textContent);
  var box = document.getElementById('cy');
  var cy = cytoscape({
    container: box, elements: data.elements, minZoom: 0.05, maxZoom: 4, wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: { 'label': 'data(label)', 'shape': 'round-rectangle', 'font-size': 11,
        'text-valign': 'center', 'text-halign': 'center', 'width': 'label', 'height': 'label', 'padding': '6px',
        'background-color': '#e7f0fd', 'border-width': 1, 'border-color': '#445' } },
      { selector: 'node.view', style: { 'background-color': '#e6f7ea' } },
      { selector: 'node.query', style: { 'background-color': '#fff4e0', 'shape': 'tag' } },
      { selector: 'node.column', style: { 'background-color': '#ffffff', 'font-size': 10, 'padding': '3px' } },
      { selector: 'node.holder', style: { 'text-valign': 'top', 'font-weight': 'bold', 'background-opacity': 0.6 } },
      { selector: 'node.focus', style: { 'border-width': 3, 'border-color': '#d9480f' } },
      { selector: 'node.match', style: { 'border-width': 3, 'border-color': '#7048e8' } },
      { selector: 'edge', style: { 'width': 1.2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle',
        'line-color': '#667', 'target-arrow-color': '#667', 'arrow-scale': 0.8 } },
      { selector: 'edge.reads', style: { 'line-style': 'dashed' } },
      { selector: 'edge.layout-only', style: { 'visibility': 'hidden' } },
      { selector: '.faded', style: { 'opacity': 0.15 } },
      { selector: 'edge.lit', style: { 'label': 'data(label)', 'font-size': 9, 'text-background-color': '#fff',
        'text-background-opacity': 1, 'line-color': '#d9480f', 'target-arrow-color': '#d9480f', 'width': 2 } }
    ]
  });
  // edges touching a box of columns are ranked through their layout-only twins (see _elements)
  var boxes = cy.nodes(':parent');
  cy.elements().not(boxes.connectedEdges()).layout({ name: 'dagre', rankDir: 'LR', nodeSep: 14, rankSep: 90, edgeSep: 8,
    nodeDimensionsIncludeLabels: true, fit: true, padding: 20 }).run();
  // a big picture fitted whole is too small to read: start readable, on the focus, and let the user pan
  if (cy.zoom() < 0.9) { cy.zoom(0.9); cy.center(cy.nodes('.focus')); }
  var info = document.getElementById('info');
  function describe(node) {
    var lines = [node.id() + '  (' + node.data('kind') + ', depth ' + node.data('depth') + ')'];
    node.incomers('edge').forEach(function (e) {
      lines.push('  <- ' + e.source().id() + (e.data('label') ? ' [' + e.data('label') + ']' : ''));
    });
    node.outgoers('edge').forEach(function (e) {
      lines.push('  -> ' + e.target().id() + (e.data('label') ? ' [' + e.data('label') + ']' : ''));
    });
    return lines.join('\\n');
  }
  cy.on('tap', 'node', function (event) {
    var node = event.target, keep = node.predecessors().union(node.successors()).union(node)
      .union(node.children()).union(node.parents());
    keep = keep.union(keep.parents());
    cy.elements().removeClass('lit').addClass('faded');
    keep.removeClass('faded');
    keep.edges().addClass('lit');
    info.textContent = describe(node);
  });
  cy.on('tap', function (event) {
    if (event.target === cy) { cy.elements().removeClass('faded lit'); info.textContent = ''; }
  });
  document.getElementById('search').addEventListener('input', function (event) {
    var text = event.target.value.trim().toLowerCase();
    cy.nodes().removeClass('match');
    if (!text) { return; }
    var found = cy.nodes().filter(function (n) { return n.id().toLowerCase().indexOf(text) >= 0; });
    found.addClass('match');
    if (found.length) { cy.fit(found, 60); }
  });
  document.getElementById('fit').addEventListener('click', function () { cy.fit(undefined, 20); });
  // what the page drew, for tests and for a reader wondering whether everything is there
  var leaves = cy.nodes().filter(function (n) { return !n.isParent(); }).map(function (n) { return n.boundingBox(); });
  var overlaps = 0;
  for (var i = 0; i < leaves.length; i++) {
    for (var j = i + 1; j < leaves.length; j++) {
      var a = leaves[i], b = leaves[j];
      if (a.x1 < b.x2 - 1 && b.x1 < a.x2 - 1 && a.y1 < b.y2 - 1 && b.y1 < a.y2 - 1) { overlaps++; }
    }
  }
  box.dataset.renderedNodes = cy.nodes().length;
  box.dataset.renderedEdges = cy.edges().not('.layout-only').length;
  box.dataset.overlaps = overlaps;
  box.dataset.status = 'rendered';
})();
"""


def to_html(picture: Picture) -> str:
    """The page: a side panel (focus, search, legend, details of the clicked node, list of every node)
    and the graph, all inline."""
    title = f"Lineage around {picture.focus}"
    counts = f"{len(picture.nodes)} nodes, {len(picture.edges)} edges"
    if picture.truncated:
        counts += f" ({picture.truncated} more left out: raise --max-nodes or lower --depth)"
    items = "\n".join(
        f'<li data-id="{html_escape(n.id)}" data-kind="{n.kind}" data-depth="{n.depth}">{html_escape(n.id)}</li>'
        for n in picture.nodes
    )
    data = _script_json({"focus": picture.focus, "elements": _elements(picture)})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html_escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<div id="side">
<h1>{html_escape(title)}</h1>
<div id="counts">{html_escape(counts)}</div>
<input id="search" type="search" placeholder="find a table or column">
<button id="fit" type="button">fit</button>
<div class="legend"><span style="background:#e7f0fd">table</span><span style="background:#e6f7ea">view</span><span
 style="background:#fff4e0">report query</span><span style="border-color:#d9480f;border-width:3px">focus</span>
 dashed: read by</div>
<p>Click a node for its up- and downstream and the transforms on its edges.</p>
<div id="info"></div>
<details><summary>every node</summary><ul id="node-list">
{items}
</ul></details>
<noscript>The drawing needs JavaScript; every node is listed above.</noscript>
</div>
<div id="cy" data-status="pending"></div>
<script type="application/json" id="lineage-data">{data}</script>
<script>{_vendor_js()}</script>
<script>{APP_JS}</script>
</body>
</html>
"""
