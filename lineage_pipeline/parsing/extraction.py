"""The per-statement lineage accumulator and the read/write primitives every statement handler uses.

Writes into temp tables are recorded in the file's ``FileTables`` instead of being reported, so a later
statement that reads the temp reports the persistent tables and columns behind it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from lineage_pipeline.parsing.budget import Deadline
from lineage_pipeline.parsing.columns import QueryLineage
from lineage_pipeline.parsing.dialects import LATERAL_ALIAS_DIALECTS, PSEUDO_COLUMNS
from lineage_pipeline.parsing.models import Call, ColumnEdge, ColumnMapping, Effect, TargetKind
from lineage_pipeline.parsing.names import column_name, identifier_name, table_name
from lineage_pipeline.parsing.qualifying import (
    Marked,
    needs_qualify,
    normalize_query,
    qualify_query,
)
from lineage_pipeline.parsing.tables import Derivation, FileTables

STAR = "*"


@dataclass
class Context:
    """Per-file settings and state shared by the statements of one file."""

    dialect: str
    fold: str | None
    tables: FileTables
    deadline: Deadline
    text: str = ""  # the current statement's source text, kept verbatim on calls
    # Variables last assigned a plain string literal (None once assigned anything else): the SQL that
    # ``EXEC (@v)`` / ``sp_executesql @v`` runs.
    variables: dict[str, str | None] = field(default_factory=dict)
    batch: int = 0
    in_body: bool = False  # the current statement is inside a routine or procedural block
    trigger_table: str | None = None  # set inside a T-SQL trigger body: what ``inserted``/``deleted`` are
    marked: Marked | None = None  # facts of the statement last marked (checks compare its root first)


@dataclass
class Extracted:
    """Mutable accumulator for one statement's lineage before it becomes a ``StatementLineage``."""

    kind: str
    sources: set[str] = field(default_factory=set)
    targets: list[str] = field(default_factory=list)
    columns: list[ColumnEdge] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    temp_tables: set[str] = field(default_factory=set)
    target_kind: TargetKind = "table"
    defined_columns: list[str] = field(default_factory=list)
    unresolved: set[str] = field(default_factory=set)
    column_mapping: ColumnMapping | None = None
    warnings: list[str] = field(default_factory=list)  # what this statement's lineage is known to miss


Handlers = dict[type[exp.Expr], Callable[[Any, Context], Extracted]]
"""Statement handlers by statement type; each takes the type it is keyed by (``exp.Update`` -> ``_update``)."""


def name_of(table: exp.Table, ctx: Context) -> str | None:
    """Normalized name of a table reference in this statement's dialect (``None`` if not a table)."""
    return table_name(table, ctx.fold)


def read_mentions(expression: exp.Expr, ctx: Context, result: Extracted, skip: tuple = ()) -> None:
    """Add every table node in ``expression`` (except CTE references and ``skip`` nodes) as a read."""
    # One walk finds the tables and the CTEs defined anywhere in ``expression`` (a walk is not cheap).
    tables: list[exp.Table] = []
    ctes: set[str] = set()
    for node in expression.find_all(exp.Table, exp.CTE):
        if isinstance(node, exp.Table):
            tables.append(node)
        elif node.alias:
            ctes.add(identifier_name(node.args["alias"].this, ctx.fold))
    for table in tables:
        if any(table is node for node in skip):
            continue
        name = name_of(table, ctx)
        if name is None or (name in ctes and not table.db):
            continue
        add_read(name, ctx, result)


def add_read(name: str, ctx: Context, result: Extracted) -> None:
    """Record a read of ``name``: itself, or for a temp table the persistent tables behind it."""
    if ctx.tables.is_temp(name):
        result.temp_tables.add(name)
    result.sources |= ctx.tables.table_sources(name)


def query_lineage(query: exp.Expr, ctx: Context) -> QueryLineage:
    """Qualify ``query`` once (when that can matter) and wrap it for column lineage."""
    if needs_qualify(query, ctx.marked):
        query = qualify_query(query, ctx.dialect, ctx.fold, ctx.tables)
    else:
        query = normalize_query(query, ctx.dialect)
    ctx.deadline.check()
    return QueryLineage(
        query,
        ctx.tables,
        ctx.fold,
        ctx.deadline,
        ctx.dialect in LATERAL_ALIAS_DIALECTS,
        PSEUDO_COLUMNS.get(ctx.dialect, frozenset()),
    )


def add_query_reads(lineage: QueryLineage, ctx: Context, result: Extracted) -> None:
    """Record every physical table the qualified query reads."""
    for table in lineage.tables_read():
        name = name_of(table, ctx)
        if name is not None:
            add_read(name, ctx, result)


def split_star(outputs: list[tuple[str, Derivation]]) -> tuple[list[tuple[str, Derivation]], Derivation | None]:
    """Separate named outputs from an unexpanded ``*`` output (merged into one derivation)."""
    named = [(name, derivation) for name, derivation in outputs if name != STAR]
    star = None
    for name, derivation in outputs:
        if name == STAR:
            star = derivation if star is None else star.merge(derivation)
    return named, star


def write(
    result: Extracted,
    ctx: Context,
    target: str,
    columns: list[tuple[str, Derivation]],
    star: Derivation | None,
    replace: bool,
    defines: bool,
) -> None:
    """Record the write of ``columns`` (and an unexpanded ``*``) into ``target``."""
    if ctx.tables.is_temp(target):
        ctx.tables.write_temp(target, dict(columns), star, set(result.sources), replace)
        result.temp_tables.add(target)
        return
    result.targets.append(target)
    merged: dict[str, Derivation] = {}
    for column, derivation in columns:
        merged[column] = derivation if column not in merged else merged[column].merge(derivation)
    if star is not None:
        merged[STAR] = star if STAR not in merged else merged[STAR].merge(star)
    for column, derivation in merged.items():
        result.columns.append(
            ColumnEdge(
                target=column_name(target, column),
                sources=sorted(derivation.sources),
                transform=derivation.transform,
            )
        )
        result.unresolved |= derivation.unresolved
        # A table that feeds a written column is read, even if it is also the target.
        for source in derivation.sources:
            result.sources.add(source.rsplit(".", 1)[0])
    if defines and star is None:
        result.defined_columns = [column for column, _ in columns]
        ctx.tables.define(target, result.defined_columns)


def map_columns(
    outputs: list[tuple[str, Derivation]],
    explicit: list[str] | None,
    target: str,
    ctx: Context,
    result: Extracted,
) -> tuple[list[tuple[str, Derivation]], Derivation | None]:
    """Pair query outputs with target columns: listed in SQL, else from the catalog, else by output name."""
    named, star = split_star(outputs)
    known = explicit or ctx.tables.columns_of(target)
    if not known:
        result.column_mapping = "assumed" if outputs else None
        return named, star
    result.column_mapping = "named" if explicit else "catalog"
    if star is not None:
        # Positions behind an unexpanded star are unknown: every target column may come from it.
        return [(column, star) for column in known], None
    # By position; the SQL or a stale catalog may list more or fewer columns than the query has: the extra are dropped.
    return [(column, derivation) for column, (_, derivation) in zip(known, outputs, strict=False)], None


def attach_with(query: exp.Expr, statement: exp.Expr) -> exp.Expr:
    """Move a statement-level WITH (``WITH c AS (...) INSERT ...``) onto its query."""
    with_ = statement.args.get("with_")
    if with_ is not None and isinstance(query, exp.Query) and not query.args.get("with_"):
        statement.set("with_", None)
        query.set("with_", with_)
    return query


def explicit_columns(node: exp.Expr, ctx: Context) -> tuple[exp.Expr, list[str] | None]:
    """``(table, [columns])`` for ``t (a, b)`` in INSERT/CREATE, else ``(node, None)``."""
    if isinstance(node, exp.Schema):
        names = [
            identifier_name(c.this if isinstance(c, exp.ColumnDef) else c, ctx.fold)
            for c in node.expressions
            if isinstance(c, (exp.Identifier, exp.ColumnDef, exp.Column))
        ]
        return node.this, names or None
    return node, None


def query_outputs(query: exp.Expr, ctx: Context, result: Extracted) -> list[tuple[str, Derivation]]:
    """Output columns of a query (or VALUES) with their derivations; records the tables read."""
    while isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query):
        query = query.this
    if isinstance(query, exp.Values) and query.find(exp.Query):
        query = values_as_select(query)
    if isinstance(query, exp.Values):
        lineage = QueryLineage(query, ctx.tables, ctx.fold, ctx.deadline)
    else:
        lineage = query_lineage(query, ctx)
    add_query_reads(lineage, ctx, result)
    return lineage.outputs()


def values_as_select(values: exp.Values) -> exp.Query:
    """``VALUES ((SELECT ...), x), (...)`` as ``SELECT v AS _col_0, ... UNION ALL SELECT ...``, so the
    scalar subqueries in its rows are scoped and qualified like any query's (their tables are read)."""
    alias = values.args.get("alias")
    names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    rows = [row for row in values.expressions if isinstance(row, exp.Tuple)]
    selects = []
    for row in rows:
        items = [
            exp.alias_(value.copy(), names[i] if i < len(names) else f"_col_{i}", copy=False)
            for i, value in enumerate(row.expressions)
        ]
        selects.append(exp.Select(expressions=items))
    query: exp.Query = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    return query
