"""Every Cypher statement the project sends, shared by Neo4j and FalkorDB.

All values travel as parameters; labels and relationship types are fixed here, never taken from SQL.
"""

MERGE_FILES = """
UNWIND $rows AS r
MERGE (f:SqlFile {path: r.path})
ON CREATE SET f.domain = r.domain
"""

COMMIT_FILES = """
UNWIND $rows AS r
MATCH (f:SqlFile {path: r.path})
SET f.domain = r.domain, f.sha256 = r.sha256, f.rev = r.rev, f.dialect = r.dialect,
    f.statements = r.statements, f.errors = r.errors
"""

MERGE_TABLES = """
UNWIND $rows AS r
MERGE (t:Table {key: r.key})
ON CREATE SET t.name = r.name, t.kind = r.kind
ON MATCH SET t.kind = CASE WHEN r.kind = 'view' THEN 'view' ELSE t.kind END
"""

MERGE_COLUMNS = """
UNWIND $rows AS r
MERGE (c:Column {key: r.key})
ON CREATE SET c.name = r.name, c.table = r.table
"""

RELATIONSHIP_ENDPOINTS = {
    "READS": ("SqlFile", "path", "Table", "key"),
    "WRITES": ("SqlFile", "path", "Table", "key"),
    "FEEDS": ("Table", "key", "Table", "key"),
    "HAS_COLUMN": ("Table", "key", "Column", "key"),
    "DERIVES": ("Column", "key", "Column", "key"),
}


def merge_relationships(rel_type: str) -> str:
    """MERGE one relationship per row, identified by its endpoints, file and revision."""
    src_label, src_key, dst_label, dst_key = RELATIONSHIP_ENDPOINTS[rel_type]
    extra = " SET e.transform = r.transform" if rel_type == "DERIVES" else ""
    return (
        f"UNWIND $rows AS r "
        f"MATCH (a:{src_label} {{{src_key}: r.src}}), (b:{dst_label} {{{dst_key}: r.dst}}) "
        f"MERGE (a)-[e:{rel_type} {{file: r.file, rev: r.rev}}]->(b){extra}"
    )


def delete_stale_relationships(rel_type: str) -> str:
    """Remove a file's relationships of other revisions (``$rows``: path + current rev)."""
    return f"UNWIND $rows AS r MATCH ()-[e:{rel_type}]->() WHERE e.file = r.path AND e.rev <> r.rev DELETE e"


def delete_file_relationships(rel_type: str) -> str:
    """Remove every relationship that came from the files in ``$paths``."""
    return f"UNWIND $paths AS p MATCH ()-[e:{rel_type}]->() WHERE e.file = p DELETE e"


DELETE_FILES = "UNWIND $paths AS p MATCH (f:SqlFile {path: p}) DELETE f"

DELETE_ORPHAN_COLUMNS = "MATCH (c:Column) WHERE NOT (c)--() DELETE c"
DELETE_ORPHAN_TABLES = "MATCH (t:Table) WHERE NOT (t)--() DELETE t"

FILE_REVISIONS = "MATCH (f:SqlFile) WHERE f.domain = $domain RETURN f.path, f.rev"
FILE_COUNT = "MATCH (f:SqlFile) RETURN count(f)"

NODE_COUNTS = "MATCH (n) RETURN labels(n)[0], count(n)"
RELATIONSHIP_COUNTS = "MATCH ()-[e]->() RETURN type(e), count(e)"

NODE_KEYS = {"SqlFile": "path", "Table": "key", "Column": "key"}
RELATIONSHIP_INDEX_PROPERTY = "file"
