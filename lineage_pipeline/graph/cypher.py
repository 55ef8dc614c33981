"""Every Cypher statement the project sends, shared by Neo4j and FalkorDB.

All values travel as parameters; labels and relationship types are fixed here, never taken from SQL.
"""

from collections.abc import Sequence
from typing import Any

SITE_PROPERTIES = ("statements", "lines", "kinds", "procedures")
"""Properties of a READS/WRITES relationship that locate the statements behind it, parallel lists."""

MERGE_FILES = """
UNWIND $rows AS r
OPTIONAL MATCH (old:SqlFile {path: r.path})
WITH r, old IS NULL AS created
MERGE (f:SqlFile {path: r.path})
ON CREATE SET f.domain = r.domain
RETURN collect(CASE WHEN created THEN r.path END)
"""
"""Returns the paths whose node this statement created: such a file cannot have relationships already,
so its relationships may be CREATEd rather than MERGEd (``create_relationships``)."""

COMMIT_FILES = """
UNWIND $rows AS r
MATCH (f:SqlFile {path: r.path})
SET f.domain = r.domain, f.sha256 = r.sha256, f.rev = r.rev, f.dialect = r.dialect,
    f.statements = r.statements, f.errors = r.errors
RETURN count(f)
"""

MERGE_TABLES = """
UNWIND $rows AS r
MERGE (t:Table {key: r.key})
ON CREATE SET t.name = r.name, t.kind = r.kind
WITH t, r WHERE t.orphan IS NOT NULL OR (r.kind = 'view' AND t.kind <> 'view')
SET t.kind = CASE WHEN r.kind = 'view' THEN 'view' ELSE t.kind END, t.orphan = null
"""
"""A table once seen as a view stays a view; merging a node clears its orphan mark. Only nodes that change
are SET: a SET on every matched node doubles the cost of re-merging the nodes a rewritten file names."""

MERGE_COLUMNS = """
UNWIND $rows AS r
MERGE (c:Column {key: r.key})
ON CREATE SET c.name = r.name, c.table = r.table
WITH c WHERE c.orphan IS NOT NULL
SET c.orphan = null
"""

RELATIONSHIP_ENDPOINTS = {
    "READS": ("SqlFile", "path", "Table", "key"),
    "WRITES": ("SqlFile", "path", "Table", "key"),
    "FEEDS": ("Table", "key", "Table", "key"),
    "HAS_COLUMN": ("Table", "key", "Column", "key"),
    "DERIVES": ("Column", "key", "Column", "key"),
}


IDENTIFYING_EXTRAS = {"DERIVES": ("transform",)}
"""Extras that tell apart two relationships of one file between the same nodes (``rows.build_file_graph``
keeps one row per distinct value: a column derived both directly and through an expression)."""


def relationship_extras(rel_type: str) -> tuple[str, ...]:
    """Properties a ``rel_type`` relationship carries besides ``file`` and ``rev``."""
    if rel_type == "DERIVES":
        return ("transform",)
    return SITE_PROPERTIES if rel_type in ("READS", "WRITES") else ()


def _relationship_head(rel_type: str) -> str:
    src_label, src_key, dst_label, dst_key = RELATIONSHIP_ENDPOINTS[rel_type]
    return (
        f"UNWIND $rows AS r WITH r, $files[r[2]] AS f "
        f"MATCH (a:{src_label} {{{src_key}: r[0]}}), (b:{dst_label} {{{dst_key}: r[1]}}) "
    )


def merge_relationships(rel_type: str) -> str:
    """MERGE one relationship per row, identified by its endpoints, file, revision and identifying extras
    (``IDENTIFYING_EXTRAS``), so a batch redone after a failure adds no twin and merges no two into one.
    Used where edges of the revision written may exist already (a sync after a killed one, a ``create:``
    batch redone); otherwise ``create_relationships``.

    The revision is part of the identity: a changed file's edge of the old revision may still be there
    (its stale removal follows), and a MERGE on the file alone would stamp that one too, leaving two
    edges of the new revision and nothing stale to remove.

    Parameters as ``relationship_params`` encodes them (``$rows``: ``[src, dst, file index, extras...]``,
    ``$files``: ``[path, rev]``). Returns how many rows found both endpoints, so a row whose node is
    missing is noticed, not dropped.
    """
    identifying = IDENTIFYING_EXTRAS.get(rel_type, ())
    extras = list(enumerate(relationship_extras(rel_type), start=3))
    key = "".join(f", {name}: r[{i}]" for i, name in extras if name in identifying)
    updates = ", ".join(f"e.{name} = r[{i}]" for i, name in extras if name not in identifying)
    return (
        f"{_relationship_head(rel_type)}"
        f"MERGE (a)-[e:{rel_type} {{file: f[0], rev: f[1]{key}}}]->(b) {f'SET {updates} ' if updates else ''}"
        f"RETURN count(e)"
    )


def create_relationships(rel_type: str) -> str:
    """``merge_relationships`` for the rows of files that have no relationship of the revision written yet
    (a new file, or a changed one after a completed sync; ``writer.creating``): a MERGE between two nodes
    scans every parallel relationship of the pair (one per file naming both: thousands on a hub table's
    columns), so the cost of a file grew with the graph. Not idempotent: a batch that failed or was cut
    short is redone with the MERGE.

    Every property is given in the CREATE pattern: a SET after it is a second update of each new edge
    (about a fifth of the server's time on a cold ingest)."""
    extra = "".join(f", {name}: r[{3 + i}]" for i, name in enumerate(relationship_extras(rel_type)))
    return f"{_relationship_head(rel_type)}CREATE (a)-[e:{rel_type} {{file: f[0], rev: f[1]{extra}}}]->(b) RETURN count(e)"


def relationship_params(rel_type: str, rows: Sequence[Any]) -> dict[str, Any]:
    """The parameters of a ``merge:``/``create:`` batch of relationship rows (dicts: ``src``, ``dst``,
    ``file``, ``rev`` and the extras): each row a list, its file and revision given once per file.

    The store parses parameters as Cypher text: maps, and a file's revision repeated on each of its
    rows, made that text (and its parsing, on the client's side its encoding) twice as long. A row that
    is not a dict is sent as one naming no node: it applies nothing, like a row whose node is missing.
    """
    extras = relationship_extras(rel_type)
    files: dict[tuple[Any, Any], int] = {}
    encoded = []
    for row in rows:
        if type(row) is dict and "file" in row and "rev" in row and "src" in row and "dst" in row:
            pair = (row["file"], row["rev"])
            index = files.get(pair)
            if index is None:
                index = files[pair] = len(files)
            item = [row["src"], row["dst"], index]
            for name in extras:
                item.append(row.get(name))
        elif isinstance(row, dict):
            get = row.get
            item = [get("src"), get("dst"), files.setdefault((get("file"), get("rev")), len(files))]
            item += [get(name) for name in extras]
        else:
            item = [None, None, files.setdefault((None, None), len(files))] + [None for _ in extras]
        encoded.append(item)
    return {"files": [list(pair) for pair in files], "rows": encoded}


def _removed_endpoints(rel_type: str) -> str:
    _, src_key, _, dst_key = RELATIONSHIP_ENDPOINTS[rel_type]
    return f"RETURN collect(DISTINCT a.{src_key}), collect(DISTINCT b.{dst_key})"


def delete_stale_relationships(rel_type: str) -> str:
    """Remove a file's relationships of other revisions (``$rows``: path + current rev); returns the
    distinct source and target keys they connected (the nodes the removal may leave orphaned)."""
    # endpoints unlabelled (the type fixes them): labels make FalkorDB scan every node of the label
    return (
        f"UNWIND $rows AS r MATCH (a)-[e:{rel_type}]->(b) WHERE e.file = r.path AND e.rev <> r.rev "
        f"WITH a, b, e DELETE e {_removed_endpoints(rel_type)}"
    )


def delete_file_relationships(rel_type: str) -> str:
    """Remove every relationship that came from the files in ``$paths``; returns their endpoints' keys
    like ``delete_stale_relationships``."""
    return (
        f"UNWIND $paths AS p MATCH (a)-[e:{rel_type}]->(b) WHERE e.file = p WITH a, b, e DELETE e "
        f"{_removed_endpoints(rel_type)}"
    )


DELETE_FILES = "UNWIND $paths AS p MATCH (f:SqlFile {path: p}) DELETE f"

ORPHAN_LABELS = ("Column", "Table")  # columns first: a table loses its last edge when its columns go


def count_orphans(label: str, unmarked_only: bool) -> str:
    """Count ``label`` nodes with no relationship at all (optionally only those not yet marked)."""
    unmarked = " AND n.orphan IS NULL" if unmarked_only else ""
    return f"MATCH (n:{label}) WHERE NOT (n)--(){unmarked} RETURN count(n)"


def delete_orphans(label: str) -> str:
    return f"MATCH (n:{label}) WHERE NOT (n)--() DELETE n"


def mark_orphans(label: str) -> str:
    """Flag unreferenced nodes instead of deleting them; the next MERGE that references them clears it."""
    return f"MATCH (n:{label}) WHERE NOT (n)--() AND n.orphan IS NULL SET n.orphan = true"


def _among(label: str) -> str:
    return f"UNWIND $keys AS k MATCH (n:{label} {{{NODE_KEYS[label]}: k}}) WHERE NOT (n)--()"


def count_orphans_among(label: str, unmarked_only: bool) -> str:
    """``count_orphans`` limited to the ``label`` nodes whose keys are in ``$keys``."""
    unmarked = " AND n.orphan IS NULL" if unmarked_only else ""
    return f"{_among(label)}{unmarked} RETURN count(n)"


def delete_orphans_among(label: str) -> str:
    return f"{_among(label)} DELETE n"


def mark_orphans_among(label: str) -> str:
    return f"{_among(label)} AND n.orphan IS NULL SET n.orphan = true"


SYNC_STATE = """
OPTIONAL MATCH (f:SqlFile) WHERE f.domain = $domain
WITH collect(f.path) AS paths, collect(CASE WHEN f IS NOT NULL THEN coalesce(f.rev, '') END) AS revisions
OPTIONAL MATCH (s:SyncState {domain: $domain})
RETURN coalesce(s.dirty, size(paths) > 0), paths, revisions
"""
"""One read per sync, one row: whether the domain's last write may have left orphans, and the path and
committed revision of each of its files, as two lists in the same order (one row per file costs the
client more to decode; collect drops nulls, so a revision never committed comes back as '').
A domain without a marker counts as dirty only if the graph holds files of it (a graph written before
markers existed): a sync sets the marker before its first write, so a domain with neither marker nor
files was never written and a full orphan scan of the whole graph would find nothing of it."""

MARK_SYNC_DIRTY = "MERGE (s:SyncState {domain: $domain}) SET s.dirty = true"
"""Set before a sync's first write: a run killed from here on leaves the domain dirty."""

MARK_SYNC_CLEAN = "MATCH (s:SyncState {domain: $domain}) SET s.dirty = false"
"""Set once the sync's orphan prune completed; a wiped marker stays missing, which reads as dirty."""


def count_nodes(label: str) -> str:
    """Nodes of one label: answered from the store's label statistics, not by a scan (both backends)."""
    return f"MATCH (n:{label}) RETURN count(n)"


def count_relationships(rel_type: str) -> str:
    return f"MATCH ()-[e:{rel_type}]->() RETURN count(e)"


NODE_KEYS = {"SqlFile": "path", "Table": "key", "Column": "key", "SyncState": "domain"}
LINEAGE_LABELS = ("Column", "SqlFile", "Table")
"""Labels of lineage nodes (``SyncState`` is bookkeeping), in the order counts are reported."""
RELATIONSHIP_INDEX_PROPERTY = "file"
NODE_INDEXES = {"SqlFile": "domain"}
"""Non-unique node indexes: a domain's files are read by every sync and check, without a scan of all files."""


def _statements() -> dict[str, tuple[str, str]]:
    statements = {"files": (MERGE_FILES, "rows"), "tables": (MERGE_TABLES, "rows"), "columns": (MERGE_COLUMNS, "rows")}
    for rel_type in RELATIONSHIP_ENDPOINTS:
        statements[f"merge:{rel_type}"] = (merge_relationships(rel_type), "rows")
        statements[f"create:{rel_type}"] = (create_relationships(rel_type), "rows")
    for rel_type in RELATIONSHIP_ENDPOINTS:
        statements[f"stale:{rel_type}"] = (delete_stale_relationships(rel_type), "rows")
    statements["commit"] = (COMMIT_FILES, "rows")
    for rel_type in RELATIONSHIP_ENDPOINTS:
        statements[f"unlink:{rel_type}"] = (delete_file_relationships(rel_type), "paths")
    statements["delete_files"] = (DELETE_FILES, "paths")
    return statements


STATEMENTS = _statements()
"""Every batched write by name -> (Cypher, parameter name), in the order a sync applies them.

Dead-letter entries refer to statements by these names, and replay applies them in this order
(nodes before the relationships that need them)."""



def batch_write(name: str, rows: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """The query and parameters of one batch of ``STATEMENTS[name]``: relationship rows encoded by
    ``relationship_params``, the others given as they are under the statement's parameter name."""
    query, key = STATEMENTS[name]
    kind, _, rel_type = name.partition(":")
    if kind in ("merge", "create"):
        return query, relationship_params(rel_type, rows)
    return query, {key: list(rows)}


DELETE_SYNC_STATE = "MATCH (s:SyncState {domain: $domain}) DELETE s"
"""The last step of retiring a domain: once its files are gone and orphans pruned, nothing of it is left."""

GRAPH_FILE_DOMAINS = "MATCH (f:SqlFile) RETURN DISTINCT f.domain"
GRAPH_SYNC_DOMAINS = "MATCH (s:SyncState) RETURN s.domain"

EDGE_FILES = "MATCH ()-[e]->() WHERE e.file IS NOT NULL RETURN DISTINCT e.file"
"""A scan of every relationship: only for whole-graph verification."""


def files_with_relationships(rel_type: str) -> str:
    """Those of ``$paths`` that a ``rel_type`` relationship comes from (one index lookup per path)."""
    return f"UNWIND $paths AS p MATCH ()-[e:{rel_type}]->() WHERE e.file = p RETURN DISTINCT e.file"
DOMAIN_FILES = "MATCH (f:SqlFile) WHERE f.domain = $domain RETURN f.path, f.rev"
DOMAIN_FILE_COUNT = "MATCH (f:SqlFile) WHERE f.domain = $domain RETURN count(f)"
FILES_AT = "UNWIND $paths AS p MATCH (f:SqlFile {path: p}) RETURN f.path, f.rev"
"""The committed revision of each of ``$paths`` the graph holds (one key lookup per path)."""


def edges_of_other_revisions(rel_type: str) -> str:
    """Files (of ``$rows``: path + expected rev) with a ``rel_type`` relationship of another revision."""
    return f"UNWIND $rows AS r MATCH ()-[e:{rel_type}]->() WHERE e.file = r.path AND e.rev <> r.rev RETURN DISTINCT e.file"
