"""Qualify a query once with sqlglot's optimizer, using the catalog and the file's temp tables as schema."""

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.names import (
    PLACEHOLDER_CATALOG,
    PLACEHOLDER_DB,
    table_name,
    temp_identifier,
)
from lineage_pipeline.parsing.tables import FileTables


def _mark_temp_name(table: exp.Table) -> None:
    this = table.this
    if isinstance(this, exp.Parameter) and isinstance(this.this, (exp.Var, exp.Identifier)):
        table.set("this", exp.Identifier(this=temp_identifier("@" + this.this.name.lower())))
    elif isinstance(this, exp.Identifier) and (this.args.get("temporary") or this.args.get("global_")):
        prefix = "##" if this.args.get("global_") else "#"
        name = this.this if this.this.startswith("#") else prefix + this.this
        table.set("this", exp.Identifier(this=temp_identifier(name.lower())))
        # ``tempdb..#t`` names the same temp table as ``#t``.
        table.set("db", None)
        table.set("catalog", None)


def mark_temp_names(expression: exp.Expr) -> None:
    """Spell ``#t``/``##t``/``@t`` table references as plain identifiers so they qualify like tables."""
    for table in expression.find_all(exp.Table):
        _mark_temp_name(table)


def _inside(node: exp.Expr | None, ancestor: exp.Expr) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _mark_recursive(with_: exp.With, tables: list[exp.Table]) -> None:
    """Flag ``with_`` if one of its CTEs reads itself; ``tables`` are all the statement's tables (checking
    their ancestors is cheaper than walking each CTE body for its tables)."""
    if with_.args.get("recursive"):
        return
    for cte in with_.expressions:
        name = cte.alias.lower()
        if name and any(
            not table.db and table.name.lower() == name and _inside(table, cte.this) for table in tables
        ):
            with_.set("recursive", True)
            return


def _triggers_qualify(node: exp.Expr) -> bool:
    return isinstance(node, exp.Star) or (
        isinstance(node, exp.Join) and bool(node.args.get("using") or node.method.upper() == "NATURAL")
    )


_CREATE_PROPERTIES = (exp.TemporaryProperty, exp.VolatileProperty, exp.MaterializedProperty)


@dataclass(frozen=True)
class Marked:
    """What ``mark_names`` saw in its walk of statement ``root``, so later checks can skip a walk of their own.

    Sound because extraction adds to a statement no star, no CREATE property and no join other than
    copies of its own, and qualifies only a query that ``needs_qualify``: what the walk did not see is
    still not there. A query built apart (UPDATE/MERGE assignments) has another root and is walked.
    """

    root: exp.Expr
    qualify: bool  # a star or a USING/NATURAL join anywhere in the statement
    properties: frozenset[type]  # which of ``_CREATE_PROPERTIES`` occur in the statement

    def covers(self, node: exp.Expr) -> bool:
        """``node`` lies in the walked statement."""
        return node.root() is self.root


def has_property(node: exp.Expr, kinds: tuple[type, ...], marked: Marked | None = None) -> bool:
    """``node.find(*kinds) is not None`` for CREATE property ``kinds``; answered without a walk when
    ``marked`` (the facts of the statement ``node`` may belong to) saw none of them."""
    if marked is not None and marked.covers(node) and not any(issubclass(k, kinds) for k in marked.properties):
        return False
    return node.find(*kinds) is not None


def mark_names(expression: exp.Expr) -> Marked:
    """``mark_temp_names``, then flag a WITH as recursive when a CTE reads itself: T-SQL, Oracle and Spark
    write recursive CTEs without ``RECURSIVE``, and sqlglot's scopes would take the self-reference for a
    table. One walk of the tree finds both kinds of node and the facts ``Marked`` keeps (each walk of a
    statement costs ~5% of a file's parse)."""
    tables: list[exp.Table] = []
    withs: list[exp.With] = []
    qualify = False
    properties: set[type] = set()
    for node in expression.find_all(exp.Table, exp.With, exp.Star, exp.Join, *_CREATE_PROPERTIES):
        if isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.With):
            withs.append(node)
        elif isinstance(node, _CREATE_PROPERTIES):
            properties.add(type(node))
        elif not qualify:
            qualify = _triggers_qualify(node)
    for table in tables:
        _mark_temp_name(table)
    # After the temp names: ``#t`` is never a self-reference of a CTE named ``t``.
    for with_ in withs:
        _mark_recursive(with_, tables)
    return Marked(expression, qualify, frozenset(properties))


def _schema_for(expression: exp.Expr, fold: str | None, tables: FileTables) -> dict:
    """Nested ``{catalog: {db: {table: {column: type}}}}`` for the tables referenced with known columns."""
    schema: dict = {}
    for table in expression.find_all(exp.Table):
        name = table_name(table, fold)
        if name is None:
            continue
        columns = tables.columns_of(name)
        if not columns:
            continue
        catalog = table.catalog or PLACEHOLDER_CATALOG
        db = table.db or PLACEHOLDER_DB
        schema.setdefault(catalog, {}).setdefault(db, {})[table.name] = {c: "UNKNOWN" for c in columns}
    return schema


class _Schema(MappingSchema):
    """MappingSchema that answers "no columns" without normalizing the table name when it is empty."""

    def column_names(self, table, only_visible=False, dialect=None, normalize=None):
        if not self.mapping:
            return []
        return super().column_names(table, only_visible, dialect, normalize)


def needs_qualify(expression: exp.Expr, marked: Marked | None = None) -> bool:
    """False for a query whose column lineage cannot change by qualifying it: without a star and
    without USING/NATURAL joins, the lineage walk binds bare columns to their single (or single
    providing) source and resolves lateral aliases itself. Skipping saves a fifth of the time.

    ``marked``: the facts of the statement the query may belong to; a query of a statement without
    any star or such join is answered without walking it."""
    if marked is not None and not marked.qualify and marked.covers(expression):
        return False
    return any(_triggers_qualify(node) for node in expression.walk())


def normalize_query(expression: exp.Expr, dialect: str) -> exp.Expr:
    """Apply the dialect's identifier case rules in place, so aliases and CTE names match as they do in SQL."""
    return normalize_identifiers(expression, dialect=sqlglot_dialect(dialect))


def qualify_query(expression: exp.Expr, dialect: str, fold: str | None, tables: FileTables) -> exp.Expr:
    """Qualify ``expression`` in place (columns bound to sources, stars expanded where columns are known).

    Temp names must already be spelled as identifiers (``mark_temp_names``). If sqlglot cannot qualify
    it, the expression is returned as far as it got; lineage then resolves what it can itself.
    """
    resolved = sqlglot_dialect(dialect)
    try:
        schema = _Schema(_schema_for(expression, fold, tables), dialect=resolved)
        return qualify(
            expression,
            dialect=resolved,
            schema=schema,
            catalog=PLACEHOLDER_CATALOG,
            db=PLACEHOLDER_DB,
            validate_qualify_columns=False,
            # A catalog built from DDL can be stale or partial; a column it does not list is not an error.
            allow_partial_qualification=True,
            quote_identifiers=False,
            identify=False,
        )
    except Exception:  # noqa: BLE001 - sqlglot raises assorted errors on exotic SQL; partial qualification is still useful
        return expression
