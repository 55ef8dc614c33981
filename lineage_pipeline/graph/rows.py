"""Turn one file's parsed lineage into the node and relationship rows the graph writer sends.

Graph model: ``(:SqlFile)-[:READS|WRITES]->(:Table)``, ``(:Table)-[:FEEDS]->(:Table)``,
``(:Column)-[:DERIVES]->(:Column)``, ``(:Table)-[:HAS_COLUMN]->(:Column)``. Every relationship
row carries the file it came from and that file's revision, which is what makes per-file
replacement exact.

A READS/WRITES row also says where in the file the table is read or written: ``statements``
(statement indexes, ascending) and the parallel lists ``lines``, ``kinds`` and ``procedures``
('' outside a procedure; Cypher lists hold no nulls on FalkorDB). One row per (file, table), so the
relationship's identity stays (endpoints, file) and a rewrite updates those lists in place; a
statement that only reads (a report query) is recorded like any other, which is what lets impact
analysis reach it.
"""

from dataclasses import dataclass, field

from lineage_pipeline.parsing.models import FileLineage

RELATIONSHIP_TYPES = ("READS", "WRITES", "FEEDS", "HAS_COLUMN", "DERIVES")


def file_revision(sha256: str, dialect: str, parser_version: str, context: str = "") -> str:
    """What a file's lineage depends on: its bytes, the dialect and the parser that read them and, when a
    catalog resolved it, the fingerprint of the catalog entries it used (``context``)."""
    revision = f"{sha256}:{dialect}:{parser_version}"
    return f"{revision}:{context}" if context else revision


def table_of(column_key: str) -> str:
    """``schema.table`` of a ``schema.table.column`` key (the part before the last dot)."""
    return column_key.rpartition(".")[0]


@dataclass
class FileGraph:
    """Rows for one file: its SqlFile node, the tables and columns it names, and its relationships."""

    file: dict
    tables: dict[str, dict] = field(default_factory=dict)
    columns: dict[str, dict] = field(default_factory=dict)
    relationships: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in RELATIONSHIP_TYPES})

    @property
    def path(self) -> str:
        return self.file["path"]

    @property
    def rev(self) -> str:
        return self.file["rev"]


def _add_table(graph: FileGraph, key: str, kind: str = "table") -> None:
    known = graph.tables.get(key)
    if known is None or kind == "view":
        graph.tables[key] = {"key": key, "name": key.rpartition(".")[2], "kind": kind}


def _add_column(graph: FileGraph, key: str) -> None:
    if key in graph.columns:
        return
    table = table_of(key)
    _add_table(graph, table)
    graph.columns[key] = {"key": key, "name": key.rpartition(".")[2], "table": table}
    graph.relationships["HAS_COLUMN"].append({"src": table, "dst": key, "file": graph.path, "rev": graph.rev})


def build_file_graph(lineage: FileLineage, domain: str, sha256: str, rev: str) -> FileGraph:
    """All rows for ``lineage``; duplicate facts within the file collapse to one row."""
    graph = FileGraph(
        file={
            "path": lineage.path,
            "domain": domain,
            "sha256": sha256,
            "rev": rev,
            "dialect": lineage.dialect,
            "statements": len(lineage.statements),
            "errors": len(lineage.errors),
        }
    )
    seen: set[tuple] = set()
    # table -> statement index -> (line, kind, procedure); dicts keep first-seen order, so rows are
    # deterministic for a given parse
    sites: dict[str, dict[str, dict[int, tuple[int, str, str]]]] = {"READS": {}, "WRITES": {}}

    def relate(rel_type: str, row: dict) -> None:
        identity = (rel_type, *row.values())
        if identity not in seen:
            seen.add(identity)
            graph.relationships[rel_type].append({**row, "file": graph.path, "rev": graph.rev})

    for statement in lineage.statements:
        site = (statement.line, statement.kind, statement.procedure or "")
        for source in statement.sources:
            _add_table(graph, source)
            sites["READS"].setdefault(source, {}).setdefault(statement.index, site)
        for target in statement.targets:
            _add_table(graph, target, statement.target_kind)
            sites["WRITES"].setdefault(target, {}).setdefault(statement.index, site)
            for source in statement.sources:
                if source != target:
                    relate("FEEDS", {"src": source, "dst": target})
        for edge in statement.columns:
            _add_column(graph, edge.target)
            for source in edge.sources:
                _add_column(graph, source)
                relate("DERIVES", {"src": source, "dst": edge.target, "transform": edge.transform})
    for rel_type, by_table in sites.items():
        for table, by_index in by_table.items():
            indexes = sorted(by_index)
            graph.relationships[rel_type].append({
                "src": graph.path,
                "dst": table,
                "statements": indexes,
                "lines": [by_index[i][0] for i in indexes],
                "kinds": [by_index[i][1] for i in indexes],
                "procedures": [by_index[i][2] for i in indexes],
                "file": graph.path,
                "rev": graph.rev,
            })
    return graph
