"""The graph around one table or column, as a picture: Mermaid or Graphviz DOT text, a standalone SVG, or
a self-contained HTML page (``explore.html_page``).

``neighbourhood`` reads the subgraph: tables up- and downstream within ``depth`` FEEDS hops (a column:
DERIVES hops), the files that only read them (report queries, drawn as query nodes so their dependence
is visible), and with ``columns`` each table's columns and the derivations between them. Upstream nodes
get negative depths, downstream positive: the renderers lay the picture out left to right by depth.
"""

import html
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from lineage_pipeline.explore.impact import resolve
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.rows import table_of

NodeKind = Literal["table", "view", "column", "query"]
EdgeKind = Literal["feeds", "derives", "reads"]

NEIGHBOURS = {
    ("Table", "down"): "UNWIND $keys AS k MATCH (a:Table {key: k})-[:FEEDS]->(b:Table) RETURN DISTINCT a.key, b.key",
    ("Table", "up"): "UNWIND $keys AS k MATCH (b:Table)-[:FEEDS]->(a:Table {key: k}) RETURN DISTINCT a.key, b.key",
    ("Column", "down"): "UNWIND $keys AS k MATCH (a:Column {key: k})-[:DERIVES]->(b:Column) RETURN DISTINCT a.key, b.key",
    ("Column", "up"): "UNWIND $keys AS k MATCH (b:Column)-[:DERIVES]->(a:Column {key: k}) RETURN DISTINCT a.key, b.key",
}
"""One BFS step from a frontier: (frontier node, neighbour) pairs; labels and types fixed here."""

TABLE_KINDS = "UNWIND $keys AS k MATCH (t:Table {key: k}) RETURN t.key, t.kind"
FEEDS_AMONG = (
    "UNWIND $keys AS k MATCH (a:Table {key: k})-[e:FEEDS]->(b:Table) WHERE b.key IN $keys "
    "RETURN a.key, b.key, collect(DISTINCT e.file)"
)
QUERY_READERS = """
UNWIND $keys AS k
MATCH (f:SqlFile)-[:READS]->(t:Table {key: k}) WHERE NOT (f)-[:WRITES]->()
RETURN f.path, collect(DISTINCT k)
"""
"""Files that read these tables and write nothing at all: report queries."""
COLUMNS_OF = "UNWIND $keys AS k MATCH (t:Table {key: k})-[:HAS_COLUMN]->(c:Column) RETURN DISTINCT k, c.key"
DERIVES_AMONG = """
UNWIND $keys AS k
MATCH (a:Column {key: k})-[d:DERIVES]->(b:Column) WHERE b.key IN $keys
RETURN a.key, b.key, collect(DISTINCT d.transform)
"""


@dataclass(frozen=True)
class PictureNode:
    id: str
    label: str
    kind: NodeKind
    depth: int
    """Hops from the focus: negative upstream, positive downstream (a column: its table's)."""
    parent: str | None = None
    """The table a column is drawn inside."""
    focus: bool = False


@dataclass(frozen=True)
class PictureEdge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Picture:
    focus: str
    level: Literal["table", "column"]
    nodes: list[PictureNode] = field(default_factory=list)
    edges: list[PictureEdge] = field(default_factory=list)
    truncated: int = 0
    """Nodes left out to stay within ``max_nodes``."""


def _bfs(backend: GraphBackend, label: str, start: str, depth: int) -> dict[str, int]:
    """node -> signed depth: downstream nodes positive, upstream negative, the nearest side winning."""
    found = {start: 0}
    for direction, sign in (("down", 1), ("up", -1)):
        frontier, seen = [start], {start}
        for hop in range(1, depth + 1):
            if not frontier:
                break
            reached = sorted({b for _, b in backend.read(NEIGHBOURS[(label, direction)], {"keys": frontier})} - seen)
            seen.update(reached)
            for key in reached:
                if key not in found or abs(found[key]) > hop:
                    found[key] = sign * hop
            frontier = reached
    return found


def neighbourhood(
    backend: GraphBackend, name: str, depth: int = 2, columns: bool = False, max_nodes: int = 400, readers: bool = True
) -> Picture:
    """The picture data around table or column ``name``: nodes sorted by (depth, id), at most ``max_nodes``
    (the farthest dropped first, counted in ``truncated``)."""
    level, focus = resolve(backend, name)
    picture = Picture(focus=focus, level=level)
    if level == "table":
        table_depth = _bfs(backend, "Table", focus, depth)
        column_depth: dict[str, int] = {}
    else:
        column_depth = _bfs(backend, "Column", focus, depth)
        table_depth = {}
        for key, d in column_depth.items():
            table = table_of(key)
            table_depth[table] = d if table not in table_depth or abs(d) < abs(table_depth[table]) else table_depth[table]
        columns = True
    tables = sorted(table_depth)
    kinds = dict(backend.read(TABLE_KINDS, {"keys": tables})) if tables else {}
    if columns and level == "table" and tables:
        for table, column in backend.read(COLUMNS_OF, {"keys": tables}):
            column_depth[column] = table_depth[table]
    queries: dict[str, list[str]] = {}
    if readers and tables:
        queries = {path: sorted(keys) for path, keys in backend.read(QUERY_READERS, {"keys": tables})}

    # the budget goes to the nearest nodes first: tables, then their columns, then report queries
    budget = max_nodes
    kept_tables = sorted(tables, key=lambda t: (abs(table_depth[t]), t))[:budget]
    budget -= len(kept_tables)
    kept = set(kept_tables)
    kept_columns = sorted((c for c in column_depth if table_of(c) in kept), key=lambda c: (abs(column_depth[c]), c))
    kept_columns = kept_columns[: max(budget, 0)]
    budget -= len(kept_columns)
    kept_queries = sorted((q for q in queries if any(t in kept for t in queries[q])),
                          key=lambda q: (min(abs(table_depth[t]) for t in queries[q]), q))[: max(budget, 0)]
    picture.truncated = len(tables) + len(column_depth) + len(queries) - len(kept_tables) - len(kept_columns) - len(kept_queries)

    for table in kept_tables:
        picture.nodes.append(PictureNode(table, table, "view" if kinds.get(table) == "view" else "table", table_depth[table],
                                         focus=table == focus))
    for column in kept_columns:
        picture.nodes.append(PictureNode(column, column.rpartition(".")[2], "column", table_depth[table_of(column)],
                                         parent=table_of(column), focus=column == focus))
    for path in kept_queries:
        read = [t for t in queries[path] if t in kept]
        picture.nodes.append(PictureNode(f"file:{path}", path, "query", max(table_depth[t] for t in read) + 1))
        picture.edges += [PictureEdge(t, f"file:{path}", "reads") for t in read]
    derived: set[tuple[str, str]] = set()
    if kept_columns:
        for a, b, transforms in backend.read(DERIVES_AMONG, {"keys": kept_columns}):
            picture.edges.append(PictureEdge(a, b, "derives", ", ".join(sorted(transforms))))
            derived.add((table_of(a), table_of(b)))
    if level == "table":
        # a table edge its column edges already draw would only add clutter
        for a, b, _files in backend.read(FEEDS_AMONG, {"keys": kept_tables}):
            if a != b and (a, b) not in derived:
                picture.edges.append(PictureEdge(a, b, "feeds"))
    picture.nodes.sort(key=lambda n: (n.depth, n.kind == "column", n.id))
    picture.edges.sort(key=lambda e: (e.source, e.target, e.kind))
    return picture


# -- text formats ----------------------------------------------------------------------------


def _ids(picture: Picture) -> dict[str, str]:
    """Short identifiers for formats whose ids cannot hold arbitrary names (labels carry the names)."""
    return {node.id: f"n{i}" for i, node in enumerate(picture.nodes)}


def _mermaid_label(text: str) -> str:
    """A quoted Mermaid label; Mermaid's entity codes (``#quot;``) keep quotes and markup out of the syntax."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return f'"{text}"'


MERMAID_SHAPES = {"table": ("[", "]"), "view": ("([", "])"), "query": ("[/", "/]"), "column": ("(", ")")}


def to_mermaid(picture: Picture) -> str:
    """A Mermaid flowchart, left to right; with columns each table is a subgraph of its columns."""
    ids = _ids(picture)
    children: dict[str, list[PictureNode]] = defaultdict(list)
    for node in picture.nodes:
        if node.parent is not None and node.parent in ids:
            children[node.parent].append(node)
    lines = ["flowchart LR"]
    for node in picture.nodes:
        if node.parent is not None and node.parent in ids:
            continue
        if children.get(node.id):
            lines.append(f"  subgraph {ids[node.id]} [{_mermaid_label(node.label)}]")
            for child in children[node.id]:
                opening, closing = MERMAID_SHAPES["column"]
                lines.append(f"    {ids[child.id]}{opening}{_mermaid_label(child.label)}{closing}")
            lines.append("  end")
        else:
            opening, closing = MERMAID_SHAPES[node.kind]
            lines.append(f"  {ids[node.id]}{opening}{_mermaid_label(node.label)}{closing}")
    for edge in picture.edges:
        arrow = "-.->" if edge.kind == "reads" else "-->"
        label = f"|{_mermaid_label(edge.label)}|" if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    focus = [ids[n.id] for n in picture.nodes if n.focus]
    lines.append("  classDef focus stroke:#d9480f,stroke-width:3px")
    if focus:
        lines.append(f"  class {','.join(focus)} focus")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


DOT_SHAPES = {"table": "box", "view": "box, style=rounded", "query": "note", "column": "plaintext"}


def to_dot(picture: Picture) -> str:
    """Graphviz DOT, left to right; with columns each table is a cluster of its columns."""
    ids = _ids(picture)
    children: dict[str, list[PictureNode]] = defaultdict(list)
    for node in picture.nodes:
        if node.parent is not None and node.parent in ids:
            children[node.parent].append(node)
    lines = ["digraph lineage {", "  rankdir=LR;", "  compound=true;", '  node [fontname="Helvetica", fontsize=11];']
    for node in picture.nodes:
        if node.parent is not None and node.parent in ids:
            continue
        focus = ', color="#d9480f", penwidth=3' if node.focus else ""
        if children.get(node.id):
            lines.append(f"  subgraph cluster_{ids[node.id]} {{")
            cluster_focus = ' color="#d9480f"; penwidth=3;' if node.focus else ""
            lines.append(f"    label={_dot_string(node.label)};{cluster_focus}")
            for child in children[node.id]:
                child_focus = ', fontcolor="#d9480f"' if child.focus else ""
                lines.append(f"    {ids[child.id]} [label={_dot_string(child.label)}, shape=plaintext{child_focus}];")
            lines.append("  }")
        else:
            lines.append(f"  {ids[node.id]} [label={_dot_string(node.label)}, shape={DOT_SHAPES[node.kind]}{focus}];")
    for edge in picture.edges:
        attributes = ["style=dashed"] if edge.kind == "reads" else []
        if edge.label:
            attributes.append(f"label={_dot_string(edge.label)}")
        # DOT edges join nodes, not clusters: a table drawn as a cluster is reached through its first
        # column, the edge clipped at the cluster's border (compound=true, ltail/lhead)
        source, target = ids[edge.source], ids[edge.target]
        if children.get(edge.source):
            source = ids[children[edge.source][0].id]
            attributes.append(f"ltail=cluster_{ids[edge.source]}")
        if children.get(edge.target):
            target = ids[children[edge.target][0].id]
            attributes.append(f"lhead=cluster_{ids[edge.target]}")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- SVG ---------------------------------------------------------------------------------------

FILLS = {"table": "#e7f0fd", "view": "#e6f7ea", "query": "#fff4e0"}
FOCUS = "#d9480f"
ROW, HEAD, GAP_X, GAP_Y, CHAR = 18, 26, 90, 18, 7


def _layers(picture: Picture) -> tuple[dict[int, list[str]], dict[str, list[PictureNode]], dict[str, str]]:
    """Boxes (top-level nodes) per depth, ordered to shorten edges: a few barycenter sweeps, the
    standard layered-drawing heuristic; plus each box's columns and the box each node is drawn in."""
    top = [n for n in picture.nodes if n.parent is None or n.parent not in {m.id for m in picture.nodes}]
    box_of = {n.id: n.id for n in top}
    rows: dict[str, list[PictureNode]] = defaultdict(list)
    for node in picture.nodes:
        if node.id not in box_of and node.parent is not None:  # not a box: drawn inside its parent's
            box_of[node.id] = node.parent
            rows[node.parent].append(node)
    layers: dict[int, list[str]] = defaultdict(list)
    for node in top:
        layers[node.depth].append(node.id)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in picture.edges:
        a, b = box_of[edge.source], box_of[edge.target]
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    for _ in range(4):
        position = {box: i for layer in layers.values() for i, box in enumerate(layer)}
        for depth in sorted(layers):
            # CPython shows a list as empty while sorting it, so ``layer`` is empty when the keys are computed
            # and neighbours in the same layer count towards the centre too.
            layers[depth].sort(key=partial(_order, layer=layers[depth], position=position, neighbours=neighbours))
    return layers, rows, box_of


def _order(box: str, layer: list[str], position: dict[str, int], neighbours: dict[str, set[str]]) -> tuple[float, str]:
    return _centre(box, layer, position, neighbours), box


def _centre(box: str, layer: list[str], position: dict[str, int], neighbours: dict[str, set[str]]) -> float:
    """Mean position of a box's neighbours in other layers (its own position when it has none)."""
    near = [position[n] for n in neighbours[box] if n in position and n not in layer]
    return sum(near) / len(near) if near else position[box]


def to_svg(picture: Picture) -> str:
    """A standalone SVG: boxes in columns by depth (upstream left), a table's columns as rows of its box,
    edges as curves from the right side of a row or box to the left side of another. Transforms and
    full names are in ``<title>`` tooltips."""
    nodes = {n.id: n for n in picture.nodes}
    layers, rows, box_of = _layers(picture)
    width = {box: max(120, CHAR * max([len(nodes[box].label)] + [len(r.label) + 2 for r in rows[box]]) + 20)
             for layer in layers.values() for box in layer}
    height = {box: HEAD + ROW * len(rows[box]) + (6 if rows[box] else 0) for box in width}
    column_x, x = {}, 20
    for depth in sorted(layers):
        column_x[depth] = x
        x += max(width[b] for b in layers[depth]) + GAP_X
    layer_height = {d: sum(height[b] for b in layer) + GAP_Y * (len(layer) - 1) for d, layer in layers.items()}
    total_height = max(layer_height.values(), default=0) + 40
    box_xy: dict[str, tuple[int, int]] = {}
    for depth, layer in layers.items():
        y = 20 + (total_height - 40 - layer_height[depth]) // 2
        for box in layer:
            box_xy[box] = (column_x[depth], y)
            y += height[box] + GAP_Y
    anchor_y = {}
    for box, (_, by) in box_xy.items():
        anchor_y[box] = by + HEAD // 2 if rows[box] else by + height[box] // 2
        for i, row in enumerate(rows[box]):
            anchor_y[row.id] = by + HEAD + ROW * i + ROW // 2
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x}" height="{total_height}" viewBox="0 0 {x} {total_height}" '
         'font-family="Helvetica, Arial, sans-serif" font-size="12">'),
        f"<title>lineage around {html_escape(picture.focus)}</title>",
        ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
         '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'),
    ]
    for edge in picture.edges:
        a, b = box_of[edge.source], box_of[edge.target]
        x1, y1 = box_xy[a][0] + width[a], anchor_y[edge.source]
        x2, y2 = box_xy[b][0], anchor_y[edge.target]
        bend = max(40, abs(x2 - x1) // 2)
        dash = ' stroke-dasharray="5,4"' if edge.kind == "reads" else ""
        title = f"{edge.source} → {edge.target}" + (f" ({edge.label})" if edge.label else "")
        out.append(
            f'<path class="edge {edge.kind}" d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" fill="none" '
            f'stroke="#555" stroke-width="1.2"{dash} marker-end="url(#arrow)"><title>{html_escape(title)}</title></path>'
        )
    for box, (bx, by) in box_xy.items():
        node = nodes[box]
        stroke = f'stroke="{FOCUS}" stroke-width="3"' if node.focus else 'stroke="#445" stroke-width="1"'
        radius = 12 if node.kind == "view" else 3
        out.append(f'<g class="node {node.kind}" data-id="{html_escape(box)}"><title>{html_escape(node.id)}</title>')
        out.append(f'<rect x="{bx}" y="{by}" width="{width[box]}" height="{height[box]}" rx="{radius}" '
                   f'fill="{FILLS.get(node.kind, "#fff")}" {stroke}/>')
        out.append(f'<text x="{bx + 10}" y="{by + 17}" font-weight="bold">{html_escape(node.label)}</text>')
        for i, row in enumerate(rows[box]):
            colour = f' fill="{FOCUS}" font-weight="bold"' if row.focus else ""
            out.append(f'<text class="column" x="{bx + 16}" y="{by + HEAD + ROW * i + 13}"{colour}>'
                       f"{html_escape(row.label)}<title>{html_escape(row.id)}</title></text>")
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def html_escape(text: str) -> str:
    return html.escape(text, quote=True)
