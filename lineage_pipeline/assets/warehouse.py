"""The warehouse the corpus describes, as Dagster external assets: one ``AssetSpec`` per table or view, with
table-level deps, column schema, column lineage and code references to the SQL that writes it.

The code location must load without the graph store (a webserver start cannot wait on, or fail with, a
database), so the specs come from a snapshot file: the graph step writes it after each ingest
(``write_snapshot``) and ``definitions`` reads it at load (``load_snapshot``, empty before the first
ingest). The snapshot is plain JSON (pydantic), a few bulk reads of the graph, written atomically.
"""

import logging
import os
import re
import warnings
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from lineage_pipeline.graph.backend import GraphBackend

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
GRAPH_ASSET_KEY = dg.AssetKey("lineage_graph")
SOURCE_GROUP = "warehouse_sources"

TABLES = "MATCH (t:Table) RETURN t.key, t.kind"
WRITERS = """
MATCH (f:SqlFile)-[e:WRITES]->(t:Table)
RETURN t.key, f.path, f.domain, f.dialect, e.statements, e.lines, e.kinds
"""
READER_COUNTS = "MATCH (f:SqlFile)-[:READS]->(t:Table) RETURN t.key, count(DISTINCT f)"
FEEDS = "MATCH (a:Table)-[:FEEDS]->(b:Table) RETURN DISTINCT a.key, b.key"
COLUMNS = "MATCH (t:Table)-[:HAS_COLUMN]->(c:Column) RETURN DISTINCT t.key, c.name"
DERIVES = "MATCH (a:Column)-[d:DERIVES]->(b:Column) RETURN DISTINCT a.table, a.name, b.table, b.name, d.transform"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WriteSite(_Model):
    """A statement that writes the table (``statement``/``line`` None: graph written without sites)."""

    file: str
    domain: str | None = None
    dialect: str | None = None
    statement: int | None = None
    line: int | None = None
    kind: str | None = None


class ColumnSource(_Model):
    table: str
    column: str
    transform: str = "unknown"


class WarehouseTable(_Model):
    key: str
    kind: str = "table"
    columns: list[str] = Field(default_factory=list)
    upstream: list[str] = Field(default_factory=list)
    """Tables this one is written from (FEEDS)."""
    column_lineage: dict[str, list[ColumnSource]] = Field(default_factory=dict)
    writers: list[WriteSite] = Field(default_factory=list)
    readers: int = 0
    """Files that read the table."""


class WarehouseSnapshot(_Model):
    version: int = SNAPSHOT_VERSION
    created_at: str | None = None
    corpus_root: str | None = None
    """Absolute corpus root, which makes the writers' relative paths into code references."""
    tables: list[WarehouseTable] = Field(default_factory=list)


def build_snapshot(backend: GraphBackend, corpus_root: Path | str | None = None) -> WarehouseSnapshot:
    """Every table of the graph with its columns, upstream tables, column lineage and writers; six bulk
    reads whatever the size. Lists are sorted, so an unchanged graph gives an identical snapshot."""
    kinds = dict(backend.read(TABLES))
    writers: dict[str, list[WriteSite]] = {key: [] for key in kinds}
    for key, path, domain, dialect, statements, lines, statement_kinds in backend.read(WRITERS):
        if not statements:
            writers[key].append(WriteSite(file=path, domain=domain, dialect=dialect))
            continue
        for index, line, kind in zip(statements, lines, statement_kinds, strict=True):
            writers[key].append(WriteSite(file=path, domain=domain, dialect=dialect, statement=index, line=line, kind=kind))
    readers = dict(backend.read(READER_COUNTS))
    upstream: dict[str, set[str]] = {key: set() for key in kinds}
    for source, target in backend.read(FEEDS):
        if source != target:
            upstream[target].add(source)
    columns: dict[str, set[str]] = {key: set() for key in kinds}
    for key, name in backend.read(COLUMNS):
        columns[key].add(name)
    lineage: dict[str, dict[str, set[tuple[str, str, str]]]] = {key: {} for key in kinds}
    for source_table, source_column, table, column, transform in backend.read(DERIVES):
        if table not in lineage:
            # a column whose table row the store refused (dead-lettered, e.g. a key with edge whitespace)
            # has no Table node to hang on: the snapshot holds tables only
            continue
        lineage[table].setdefault(column, set()).add((source_table, source_column, transform or "unknown"))
    tables = [
        WarehouseTable(
            key=key,
            kind=kinds[key] or "table",
            columns=sorted(columns[key]),
            upstream=sorted(upstream[key]),
            column_lineage={
                column: [ColumnSource(table=t, column=c, transform=x) for t, c, x in sorted(sources)]
                for column, sources in sorted(lineage[key].items())
            },
            writers=sorted(writers[key], key=lambda w: (w.file, -1 if w.statement is None else w.statement)),
            readers=int(readers.get(key, 0)),
        )
        for key in sorted(kinds)
    ]
    root = str(Path(corpus_root).resolve()) if corpus_root is not None else None
    return WarehouseSnapshot(created_at=datetime.now(UTC).isoformat(), corpus_root=root, tables=tables)


def write_snapshot(backend: GraphBackend, path: Path | str, corpus_root: Path | str | None = None) -> WarehouseSnapshot:
    """Build the snapshot and replace ``path`` with it atomically (a code location loading meanwhile reads
    the old or the new file, never half of one)."""
    snapshot = build_snapshot(backend, corpus_root)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(snapshot.model_dump_json(), encoding="utf-8")
    os.replace(partial, target)
    return snapshot


def load_snapshot(path: Path | str) -> WarehouseSnapshot:
    """The snapshot at ``path``; an empty one if there is none yet (the code location loads before the
    first ingest). A file that does not parse raises: a broken snapshot should be seen, not hidden."""
    target = Path(path)
    if not target.exists():
        return WarehouseSnapshot()
    return WarehouseSnapshot.model_validate_json(target.read_bytes())


UNQUALIFIED = "unqualified"


@lru_cache(maxsize=1 << 16)  # a table's key is built once per dependent column: cache it
def asset_key_of(table: str) -> dg.AssetKey:
    """``schema.table`` -> ``["schema", "table"]`` (a three-part name keeps its three parts); a name the
    SQL left unqualified goes under ``unqualified`` so it cannot collide with the pipeline's own assets."""
    parts = table.split(".")
    return dg.AssetKey([UNQUALIFIED, *parts] if len(parts) == 1 else parts)


def _group(name: str | None) -> str:
    """A valid Dagster group name (letters, digits, underscores)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name or "") or "default"


def _code_reference(root: str | None, site: WriteSite) -> dg.LocalFileCodeReference:
    path = site.file if root is None or os.path.isabs(site.file) else os.path.join(root, site.file)
    label = f"{site.kind} (statement {site.statement})" if site.kind else None
    return dg.LocalFileCodeReference(file_path=path, line_number=site.line, label=label)


def table_spec(table: WarehouseTable, corpus_root: str | None = None, known: set[str] | None = None) -> dg.AssetSpec:
    """The external asset of one table; ``known``: tables that are assets (deps outside it are dropped)."""
    domains = sorted({w.domain for w in table.writers if w.domain})
    dialects = sorted({w.dialect for w in table.writers if w.dialect})
    group = _group(domains[0]) if domains else SOURCE_GROUP
    metadata: dict[str, object] = {
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(name, type="unknown") for name in table.columns]),
        "lineage/graph": dg.MetadataValue.asset(GRAPH_ASSET_KEY),
        "lineage/readers": dg.MetadataValue.int(table.readers),
    }
    if table.column_lineage:
        metadata["dagster/column_lineage"] = dg.TableColumnLineage(
            deps_by_column={
                column: [
                    dg.TableColumnDep(asset_key=asset_key, column_name=column_name)
                    # one dep per source column: the same source may reach a column through several statements
                    for asset_key, column_name in dict.fromkeys((asset_key_of(s.table), s.column) for s in sources)
                ]
                for column, sources in table.column_lineage.items()
            }
        )
    if table.writers:
        metadata["dagster/code_references"] = dg.CodeReferencesMetadataValue(
            code_references=[_code_reference(corpus_root, site) for site in table.writers]
        )
    upstream = [t for t in table.upstream if known is None or t in known]
    files = sorted({w.file for w in table.writers})
    description = (
        f"{table.kind.capitalize()} `{table.key}`, written by {', '.join(files)}; read by {table.readers} file(s)."
        if files else f"{table.kind.capitalize()} `{table.key}`: read by the corpus, written by none of its files."
    )
    return dg.AssetSpec(
        key=asset_key_of(table.key),
        deps=[asset_key_of(t) for t in upstream],
        description=description,
        metadata=metadata,
        group_name=group,
        kinds={*dialects[:2], "view" if table.kind == "view" else "table"},
    )


def warehouse_specs(snapshot: WarehouseSnapshot) -> list[dg.AssetSpec]:
    """One external asset per table or view of the snapshot: the tables the corpus defines or writes,
    grouped by the domain of their writers, and the tables it only reads (group ``warehouse_sources``),
    which keep every table-level dep resolvable."""
    known = {t.key for t in snapshot.tables}
    with warnings.catch_warnings():
        # code references are a beta Dagster API; the warning would print once per table at every load
        warnings.simplefilter("ignore", dg.BetaWarning)
        return [table_spec(table, snapshot.corpus_root, known) for table in snapshot.tables]


SNAPSHOT_FILENAME = "warehouse_snapshot.json"
"""Suggested name of the snapshot file under the settings' data dir."""


def warehouse_definitions(path: Path | str) -> dg.Definitions:
    """The warehouse assets of the snapshot at ``path`` (none before the first ingest), to merge into the
    code location's Definitions. A snapshot that cannot be read or turned into assets gives none, with a
    warning: the warehouse view must never keep the pipeline itself from loading."""
    try:
        return dg.Definitions(assets=warehouse_specs(load_snapshot(path)))
    except Exception as error:  # noqa: BLE001 - a derived view; the next graph write rewrites the snapshot
        log.warning("warehouse assets left out: snapshot %s unusable: %s", path, error)
        return dg.Definitions()
