"""Qualify a query once with sqlglot's optimizer, using the catalog and the file's temp tables as schema."""

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.names import PLACEHOLDER_CATALOG, PLACEHOLDER_DB, table_name, temp_identifier
from lineage_pipeline.parsing.tables import FileTables


def mark_temp_names(expression: exp.Expression) -> None:
    """Spell ``#t``/``##t``/``@t`` table references as plain identifiers so they qualify like tables."""
    for table in expression.find_all(exp.Table):
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


def mark_recursive_ctes(expression: exp.Expression) -> None:
    """Flag a WITH as recursive when a CTE reads itself: T-SQL, Oracle and Spark write recursive CTEs
    without ``RECURSIVE``, and sqlglot's scopes would take the self-reference for a table."""
    for with_ in expression.find_all(exp.With):
        if with_.args.get("recursive"):
            continue
        for cte in with_.expressions:
            name = cte.alias.lower()
            if name and any(
                not table.db and table.name.lower() == name for table in cte.this.find_all(exp.Table)
            ):
                with_.set("recursive", True)
                break


def _schema_for(expression: exp.Expression, fold: str | None, tables: FileTables) -> dict:
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


def needs_qualify(expression: exp.Expression) -> bool:
    """False for a query whose column lineage cannot change by qualifying it: without a star and
    without USING/NATURAL joins, the lineage walk binds bare columns to their single (or single
    providing) source and resolves lateral aliases itself. Skipping saves a fifth of the time."""
    for node in expression.walk():
        if isinstance(node, exp.Star) or (
            isinstance(node, exp.Join) and (node.args.get("using") or node.method.upper() == "NATURAL")
        ):
            return True
    return False


def normalize_query(expression: exp.Expression, dialect: str) -> exp.Expression:
    """Apply the dialect's identifier case rules in place, so aliases and CTE names match as they do in SQL."""
    return normalize_identifiers(expression, dialect=sqlglot_dialect(dialect))


def qualify_query(expression: exp.Expression, dialect: str, fold: str | None, tables: FileTables) -> exp.Expression:
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
    except Exception:  # sqlglot raises assorted errors on exotic SQL; partial qualification is still useful
        return expression
