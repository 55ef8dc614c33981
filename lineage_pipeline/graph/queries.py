"""Questions users ask of the graph: where does this come from, what depends on it, what is stored.

Every read goes through the retry layer (a server restarting under a query is waited for, within the
deadline, and a store that stays down is one GraphStoreDown line)."""

from dataclasses import dataclass
from typing import Literal

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend


def retrying_read(backend: GraphBackend, query: str, params: dict | None = None) -> list[list]:
    """``faults.retrying_read``, imported when a query runs: importing this module stays light (the
    CLI declares its options with ``MAX_DEPTH`` and ``Direction`` without loading the drivers)."""
    from lineage_pipeline.graph.faults import retrying_read as read

    return read(backend, query, params)


Direction = Literal["upstream", "downstream"]
MAX_DEPTH = 50


@dataclass(frozen=True)
class LineageHit:
    """A table or column reached from the start node, at its shortest distance, via these files."""

    name: str
    depth: int
    files: list[str]


class UnknownNameError(LookupError):
    """The name asked about is in no Table/Column node; the message lists close candidates."""


def _resolve(backend: GraphBackend, label: str, name: str) -> str:
    key = name.strip().lower()
    if retrying_read(backend, f"MATCH (n:{label} {{key: $key}}) RETURN n.key", {"key": key}):
        return key
    suffix = f".{key}"
    candidates = sorted(
        row[0]
        for row in retrying_read(backend, f"MATCH (n:{label}) WHERE n.key ENDS WITH $suffix RETURN n.key", {"suffix": suffix})
    )
    if len(candidates) == 1:
        return candidates[0]
    hint = f"; did you mean one of: {', '.join(candidates[:10])}" if candidates else ""
    raise UnknownNameError(f"no {label.lower()} named {name!r} in the lineage graph{hint}")


def trace(backend: GraphBackend, name: str, direction: Direction, depth: int = 10) -> tuple[str, list[LineageHit]]:
    """Tables (for ``schema.table``) or columns (for ``schema.table.column``) up- or downstream of ``name``.

    A name that is not a table key is tried as a column key. Returns the resolved start key and hits
    sorted by depth then name.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    try:
        label, rel_type, start = "Table", "FEEDS", _resolve(backend, "Table", name)
    except UnknownNameError as table_error:
        try:
            label, rel_type, start = "Column", "DERIVES", _resolve(backend, "Column", name)
        except UnknownNameError:
            raise table_error from None
    arrow_in, arrow_out = ("<-", "-") if direction == "upstream" else ("-", "->")
    # depth is a validated int, the only value that Cypher does not accept as a parameter here
    query = (
        f"MATCH p = (s:{label} {{key: $key}}){arrow_in}[:{rel_type}*1..{int(depth)}]{arrow_out}(n:{label}) "
        f"WHERE n.key <> $key "
        f"RETURN n.key, min(length(p)), collect(DISTINCT last(relationships(p)).file)"
    )
    rows = retrying_read(backend, query, {"key": start})
    hits = [LineageHit(name=key, depth=int(d), files=sorted(set(files))) for key, d, files in rows]
    return start, sorted(hits, key=lambda h: (h.depth, h.name))


def graph_counts(backend: GraphBackend) -> tuple[dict[str, int], dict[str, int]]:
    """Node counts by label and relationship counts by type (labels and types with none left out).

    One count per label and type, each answered from the store's statistics: constant time whatever
    the graph's size (a grouped count over every node and relationship grew with the graph)."""
    nodes = {label: int(retrying_read(backend, cypher.count_nodes(label))[0][0]) for label in cypher.LINEAGE_LABELS}
    relationships = {
        rel_type: int(retrying_read(backend, cypher.count_relationships(rel_type))[0][0])
        for rel_type in sorted(cypher.RELATIONSHIP_ENDPOINTS)
    }
    return {k: v for k, v in nodes.items() if v}, {k: v for k, v in relationships.items() if v}
