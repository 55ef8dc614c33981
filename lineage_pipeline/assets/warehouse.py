"""The warehouse the corpus describes, as Dagster external assets: one ``AssetSpec`` per table or view, with
table-level deps, column schema, column lineage and code references to the SQL that writes it.

The code location must load without the graph store (a webserver start cannot wait on, or fail with, a
database), so the specs come from the per-file facts store (``stores.warehouse_facts``): after each graph
write the graph step reads the facts of the files it wrote, by path (``graph.file_facts``: the cost of the
change, not of the graph), and ``definitions`` aggregates every file's facts at load (``load_snapshot``,
empty before the first ingest).
"""

import logging
import os
import re
import warnings
from collections import Counter
from collections.abc import Collection, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from lineage_pipeline.stores.warehouse_facts import FileFacts, WarehouseFacts

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
GRAPH_ASSET_KEY = dg.AssetKey("lineage_graph")
SOURCE_GROUP = "warehouse_sources"


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


def snapshot_of(
    rows: Iterable[FileFacts], kept_views: Collection[str] = (), corpus_root: str | None = None, created_at: str | None = None
) -> WarehouseSnapshot:
    """Every table the files touch with its columns, upstream tables, column lineage and writers: a view if
    any file saw it as one or it is a kept view, ``readers`` the files that read it. Lists are sorted, so
    the same facts give an identical snapshot."""
    kinds: dict[str, str] = {}
    writers: dict[str, list[dict[str, Any]]] = {}
    readers: Counter[str] = Counter()
    upstream: dict[str, set[str]] = {}
    columns: dict[str, set[str]] = {}
    lineage: dict[str, dict[str, set[tuple[str, str, str]]]] = {}
    for row in rows:
        for key in row.tables:
            kinds.setdefault(key, "table")
        for key in row.views:
            kinds[key] = "view"
        site = {"file": row.path, "domain": row.domain, "dialect": row.dialect}
        for key, statements in row.writes.items():
            sites = writers.setdefault(key, [])
            if not statements:
                sites.append(site)
            sites += [{**site, "statement": index, "line": line, "kind": kind} for index, line, kind in statements]
        readers.update(row.reads)
        for key, sources in row.feeds.items():
            upstream.setdefault(key, set()).update(s for s in sources if s != key)
        for key, names in row.columns.items():
            columns.setdefault(key, set()).update(names)
        for key, by_column in row.derives.items():
            table_lineage = lineage.setdefault(key, {})
            for column, column_sources in by_column.items():
                table_lineage.setdefault(column, set()).update(column_sources)
    for key in kinds.keys() & set(kept_views):
        kinds[key] = "view"
    tables = [
        {
            "key": key,
            "kind": kind,
            "columns": sorted(columns.get(key, ())),
            "upstream": sorted(upstream.get(key, ())),
            # a column whose table row the store refused (dead-lettered, e.g. a key with edge whitespace) has no
            # Table node, so no file touches its table: its lineage has no table to hang on
            "column_lineage": {
                column: [{"table": t, "column": c, "transform": x} for t, c, x in sorted(sources)]
                for column, sources in sorted(lineage.get(key, {}).items())
            },
            "writers": sorted(writers.get(key, []), key=lambda w: (w["file"], w.get("statement", -1))),
            "readers": readers[key],
        }
        for key, kind in sorted(kinds.items())
    ]
    # validated once as a whole (pydantic's core), not model by model: a 10,000-file corpus has ~100,000 of them
    return WarehouseSnapshot.model_validate({"created_at": created_at, "corpus_root": corpus_root, "tables": tables})


def load_snapshot(path: Path | str) -> WarehouseSnapshot:
    """The warehouse of the facts store at ``path``; an empty one if there is none yet (the code location
    loads before the first ingest). A file that cannot be used raises: a broken store should be seen,
    not hidden (the next graph write repairs it)."""
    target = Path(path)
    if not target.exists():
        return WarehouseSnapshot()
    store = WarehouseFacts(target, create=False)
    problem = store.problem()
    if problem is not None:
        raise ValueError(problem)
    properties = store.properties()
    return snapshot_of(store.rows(), store.kept_views(), properties.get("corpus_root"), properties.get("refreshed_at"))


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


def warehouse_definitions(path: Path | str) -> dg.Definitions:
    """The warehouse assets of the facts store at ``path`` (none before the first ingest), to merge into
    the code location's Definitions. A store that cannot be read or turned into assets gives none, with a
    warning: the warehouse view must never keep the pipeline itself from loading."""
    try:
        return dg.Definitions(assets=warehouse_specs(load_snapshot(path)))
    except Exception as error:  # noqa: BLE001 - a derived view; the next graph write repairs the store
        log.warning("warehouse assets left out: facts %s unusable: %s", path, error)
        return dg.Definitions()
