"""A canonical, deterministic dump of a whole lineage graph: every node and relationship with all
their properties, sorted, so two graphs are equal exactly when their dumps are (e.g. a graph repaired
after faults against a clean ingest into another data dir, or one backend against the other).

Nodes are identified by label and key property (``cypher.NODE_KEYS``), never by store-internal ids,
which differ between two stores holding the same graph.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend

_IDENTITY = "coalesce(" + ", ".join("{0}." + key for key in dict.fromkeys(cypher.NODE_KEYS.values())) + ")"
"""A node's key whatever its label (Table/Column: key, SqlFile: path, SyncState: domain)."""

ALL_NODES = "MATCH (n) RETURN labels(n), properties(n)"
ALL_RELATIONSHIPS = (
    f"MATCH (a)-[e]->(b) RETURN type(e), labels(a)[0], {_IDENTITY.format('a')}, "
    f"labels(b)[0], {_IDENTITY.format('b')}, properties(e)"
)

Node = tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]
"""(sorted labels, sorted (property, value) pairs)."""
Relationship = tuple[str, str, Any, str, Any, tuple[tuple[str, Any], ...]]
"""(type, source label, source key, target label, target key, sorted (property, value) pairs)."""


def _canonical(value: Any) -> Any:
    """Values made hashable and order-independent where order carries no meaning (maps)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    return value


def _sort_key(item: Any) -> str:
    # values of mixed types (e.g. None and str) do not compare in Python; their JSON text does
    return json.dumps(item, sort_keys=True, default=str)


@dataclass(frozen=True)
class GraphDump:
    """Every node and relationship of a graph, sorted."""

    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]

    def lines(self) -> Iterator[str]:
        """One JSON line per node, then per relationship (deterministic: the same graph, the same text)."""
        for node in self.nodes:
            yield json.dumps(["node", node], default=str)
        for relationship in self.relationships:
            yield json.dumps(["relationship", relationship], default=str)

    def digest(self) -> str:
        """SHA-256 of ``lines()``: two graphs are equal iff their digests are."""
        sha = hashlib.sha256()
        for line in self.lines():
            sha.update(line.encode("utf-8") + b"\n")
        return sha.hexdigest()

    def difference(self, other: "GraphDump", limit: int = 10) -> list[str]:
        """Up to ``limit`` lines present in one dump more often than in the other (``-`` self, ``+`` other,
        with a count when a line is there more than once, e.g. a duplicated relationship), for assertion
        messages."""
        mine, theirs = Counter(self.lines()), Counter(other.lines())

        def shown(sign: str, extra: Counter[str], elsewhere: Counter[str]) -> list[str]:
            return [f"{sign} {line}" + (f" ({count} more)" if line in elsewhere or count > 1 else "")
                    for line, count in extra.items()]

        return sorted(shown("-", mine - theirs, theirs) + shown("+", theirs - mine, mine))[:limit]


def canonical_dump(backend: GraphBackend, include_bookkeeping: bool = True) -> GraphDump:
    """The whole graph of ``backend``; ``include_bookkeeping=False`` leaves out the ``SyncState``
    markers (not lineage)."""
    nodes = []
    for labels, properties in backend.read(ALL_NODES):
        if not include_bookkeeping and "SyncState" in labels:
            continue
        nodes.append((tuple(sorted(labels)), _canonical(properties)))
    relationships = [
        (rel_type, src_label, src_key, dst_label, dst_key, _canonical(properties))
        for rel_type, src_label, src_key, dst_label, dst_key, properties in backend.read(ALL_RELATIONSHIPS)
    ]
    return GraphDump(tuple(sorted(nodes, key=_sort_key)), tuple(sorted(relationships, key=_sort_key)))

