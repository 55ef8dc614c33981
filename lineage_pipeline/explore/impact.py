"""What breaks if this table or column changes: everything downstream, nearest first, with the
statements that read or write each node.

``downstream`` alone follows written tables (FEEDS/DERIVES), so a table that only report queries read
has no dependents there. Impact adds the readers: the READS relationships, which carry the statement
indexes, lines, kinds and procedures of every statement that reads the table (``graph.rows``). The
parser records no column detail for a statement that only reads, so a column's readers are the
readers of its table (``Site.scope == "table"``): a SELECT over the table may use the column.

The walk is breadth-first with one query per depth for the whole frontier (``UNWIND $keys``), so a
wide graph costs depth x a few round trips, not one per node, and no variable-length path is
expanded (which on a dense graph enumerates every path).
"""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.queries import MAX_DEPTH, UnknownNameError
from lineage_pipeline.graph.rows import table_of

Level = Literal["table", "column"]

_TABLE_EXISTS = "MATCH (n:Table {key: $key}) RETURN n.key"
_COLUMN_EXISTS = "MATCH (n:Column {key: $key}) RETURN n.key"
_TABLE_SUFFIX = "MATCH (n:Table) WHERE n.key ENDS WITH $suffix RETURN n.key"
_COLUMN_SUFFIX = "MATCH (n:Column) WHERE n.key ENDS WITH $suffix RETURN n.key"

TABLE_HOPS = """
UNWIND $keys AS k
MATCH (a:Table {key: k})-[e:FEEDS]->(b:Table)
RETURN a.key, b.key, collect(DISTINCT e.file)
"""

TABLE_HOP_TRANSFORMS = """
UNWIND $keys AS k
MATCH (a:Table {key: k})-[:HAS_COLUMN]->(:Column)-[d:DERIVES]->(c:Column)
RETURN k, c.table, collect(DISTINCT d.transform)
"""
"""The column transforms between a table and each table it feeds (HAS_COLUMN edges repeat per file,
hence DISTINCT)."""

COLUMN_HOPS = """
UNWIND $keys AS k
MATCH (a:Column {key: k})-[d:DERIVES]->(b:Column)
RETURN a.key, b.key, collect(DISTINCT d.file), collect(DISTINCT d.transform)
"""

COLUMN_WRITER_FILES = """
MATCH (:Column)-[d:DERIVES]->(c:Column {key: $key})
RETURN collect(DISTINCT d.file)
"""

SITES = """
UNWIND $keys AS k
MATCH (f:SqlFile)-[e:{rel}]->(t:Table {{key: k}})
RETURN k, f.path, f.domain, e.statements, e.lines, e.kinds, e.procedures
"""
"""READS or WRITES sites of tables; ``{rel}`` is one of two fixed relationship types, never SQL text."""


@dataclass(frozen=True)
class Site:
    """One statement of one file that reads or writes a node. ``statement``/``line`` are None when the
    graph was written before relationships carried them (the file is still right)."""

    file: str
    domain: str | None
    statement: int | None = None
    line: int | None = None
    kind: str | None = None
    procedure: str | None = None
    scope: Level = "table"
    """``table``: the statement names the node's table (for a column: it may use the column)."""


@dataclass(frozen=True)
class Hop:
    """How a node is reached from one node a depth nearer the start: the files whose statements carry
    it and the transform kinds of the column derivations on it."""

    source: str
    files: list[str]
    transforms: list[str]


@dataclass(frozen=True)
class ImpactNode:
    name: str
    depth: int
    via: list[Hop] = field(default_factory=list)
    readers: list[Site] = field(default_factory=list)
    writers: list[Site] = field(default_factory=list)


@dataclass(frozen=True)
class Impact:
    """Everything downstream of ``start`` within ``depth`` hops; ``nodes[0]`` is the start (depth 0)."""

    start: str
    level: Level
    depth: int
    nodes: list[ImpactNode]

    def by_depth(self) -> dict[int, list[ImpactNode]]:
        grouped: dict[int, list[ImpactNode]] = defaultdict(list)
        for node in self.nodes:
            grouped[node.depth].append(node)
        return dict(grouped)

    def reader_files(self) -> list[str]:
        """Every file that reads something impacted (the start included)."""
        return sorted({site.file for node in self.nodes for site in node.readers})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(backend: GraphBackend, name: str) -> tuple[Level, str]:
    """The level and key of ``name``: a table key, else a column key; an unqualified name matching one
    key by suffix resolves to it. Raises ``UnknownNameError`` listing close candidates otherwise."""
    key = name.strip().lower()
    exact_queries: tuple[tuple[Level, str], ...] = (("table", _TABLE_EXISTS), ("column", _COLUMN_EXISTS))
    for level, exact in exact_queries:
        if backend.read(exact, {"key": key}):
            return level, key
    candidates: list[tuple[Level, str]] = []
    suffix_queries: tuple[tuple[Level, str], ...] = (("table", _TABLE_SUFFIX), ("column", _COLUMN_SUFFIX))
    for level, by_suffix in suffix_queries:
        candidates += [(level, row[0]) for row in backend.read(by_suffix, {"suffix": f".{key}"})]
    if len(candidates) == 1:
        return candidates[0]
    hint = f"; did you mean one of: {', '.join(sorted(k for _, k in candidates)[:10])}" if candidates else ""
    raise UnknownNameError(f"no table or column named {name!r} in the lineage graph{hint}")


def _sites(backend: GraphBackend, rel: Literal["READS", "WRITES"], tables: list[str]) -> dict[str, list[Site]]:
    """Table -> its READS or WRITES sites, one per statement, sorted by file then statement."""
    found: dict[str, list[Site]] = defaultdict(list)
    if not tables:
        return found
    for key, path, domain, statements, lines, kinds, procedures in backend.read(SITES.format(rel=rel), {"keys": tables}):
        if not statements:
            found[key].append(Site(file=path, domain=domain))
            continue
        for index, line, kind, procedure in zip(statements, lines, kinds, procedures, strict=True):
            found[key].append(Site(path, domain, int(index), int(line), kind, procedure or None))
    for sites in found.values():
        sites.sort(key=lambda s: (s.file, -1 if s.statement is None else s.statement))
    return found


def _walk(backend: GraphBackend, level: Level, start: str, depth: int) -> tuple[dict[str, int], dict[str, list[Hop]]]:
    """Breadth-first: node -> shortest depth, and node -> hops from nodes one depth nearer."""
    depths: dict[str, int] = {start: 0}
    via: dict[str, list[Hop]] = {start: []}
    frontier = [start]
    for current in range(1, depth + 1):
        if not frontier:
            break
        hops: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
        if level == "table":
            transforms = {(a, b): t for a, b, t in backend.read(TABLE_HOP_TRANSFORMS, {"keys": frontier})}
            for a, b, files in backend.read(TABLE_HOPS, {"keys": frontier}):
                hops[(a, b)] = (files, transforms.get((a, b), []))
        else:
            for a, b, files, kinds in backend.read(COLUMN_HOPS, {"keys": frontier}):
                hops[(a, b)] = (files, kinds)
        reached: list[str] = []
        for (a, b), (files, kinds) in sorted(hops.items()):
            if b in depths and depths[b] < current:
                continue  # already reached nearer (or the start itself: a cycle)
            if b not in depths:
                depths[b], via[b] = current, []
                reached.append(b)
            via[b].append(Hop(source=a, files=sorted(set(files)), transforms=sorted(set(kinds))))
        frontier = reached
    return depths, via


def impact(backend: GraphBackend, name: str, depth: int = 10) -> Impact:
    """Everything downstream of the table or column ``name``, within ``depth`` hops, grouped by depth,
    with each node's readers (every statement that reads it, report queries included) and writers (the
    statements that carry the change into it: those of the files on the hops that reach it; for the
    start, every writer)."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    level, start = resolve(backend, name)
    depths, via = _walk(backend, level, start, depth)
    table_for = {key: key if level == "table" else table_of(key) for key in depths}
    tables = sorted(set(table_for.values()))
    readers, writers = _sites(backend, "READS", tables), _sites(backend, "WRITES", tables)
    # the start's writers: all of a table's; a column's only in the files that derive it
    start_files = set(backend.read(COLUMN_WRITER_FILES, {"key": start})[0][0]) if level == "column" else None
    nodes = []
    for key in sorted(depths, key=lambda k: (depths[k], k)):
        table = table_for[key]
        carrying = start_files if depths[key] == 0 else {f for hop in via[key] for f in hop.files}
        node_writers = [s for s in writers.get(table, []) if carrying is None or s.file in carrying]
        nodes.append(ImpactNode(key, depths[key], via[key], list(readers.get(table, [])), node_writers))
    return Impact(start=start, level=level, depth=depth, nodes=nodes)


# -- rendering ---------------------------------------------------------------------------------


def _site_text(site: Site) -> str:
    if site.statement is None:
        return site.file
    where = f"{site.file}:{site.line} #{site.statement} {site.kind}"
    return f"{where} in {site.procedure}" if site.procedure else where


def _hop_text(hop: Hop) -> str:
    transforms = f" [{', '.join(hop.transforms)}]" if hop.transforms else ""
    return f"{hop.source}{transforms}"


def impact_json(result: Impact) -> str:
    return json.dumps(result.to_dict(), indent=2)


def impact_text(result: Impact) -> str:
    """A terminal listing: per depth, each node, how it is reached and who reads and writes it."""
    lines = [
        f"impact of {result.level} {result.start}: {len(result.nodes) - 1} downstream, "
        + f"{len(result.reader_files())} reading file(s)"
    ]
    for depth, nodes in result.by_depth().items():
        lines.append("")
        lines.append(f"depth {depth}")
        for node in nodes:
            lines.append(f"  {node.name}")
            for hop in node.via:
                lines.append(f"    from    {_hop_text(hop)} via {', '.join(hop.files)}")
            for site in node.writers:
                lines.append(f"    written {_site_text(site)}")
            for site in node.readers:
                lines.append(f"    read    {_site_text(site)}")
    return "\n".join(lines)


def _md(text: object) -> str:
    """A Markdown table cell: pipes escaped so names cannot break the table."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def impact_markdown(result: Impact) -> str:
    """A change-ticket section: a summary, one table per depth, and the files to check."""
    out = [
        f"## Impact of changing `{result.start}` ({result.level})",
        "",
        f"{len(result.nodes) - 1} downstream {result.level}(s) within {result.depth} hop(s); "
        + f"{len(result.reader_files())} file(s) read an impacted table.",
    ]
    for depth, nodes in result.by_depth().items():
        out += ["", f"### Depth {depth}", "", "| node | from (transform) | written by | read by |", "|---|---|---|---|"]
        for node in nodes:
            hops = "<br>".join(_md(_hop_text(h)) for h in node.via) or "—"
            written = "<br>".join(_md(_site_text(s)) for s in node.writers) or "—"
            read = "<br>".join(_md(_site_text(s)) for s in node.readers) or "—"
            out.append(f"| `{_md(node.name)}` | {hops} | {written} | {read} |")
    out += ["", "### Files to check", ""] + [f"- [ ] `{_md(path)}`" for path in result.reader_files()]
    return "\n".join(out) + "\n"
