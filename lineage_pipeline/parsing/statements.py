"""Lineage of one parsed statement: dispatch on its type to the handler that reads it."""

from sqlglot import exp

from lineage_pipeline.parsing import dml, effects, moves, procedural, writes
from lineage_pipeline.parsing.extraction import (
    Context,
    Extracted,
    Handlers,
    name_of,
    read_mentions,
    write,
)
from lineage_pipeline.parsing.qualifying import mark_names
from lineage_pipeline.parsing.utility import UTILITY_TYPES

_DML = (exp.Delete, exp.Update, exp.Insert, exp.Merge)


def extract(expression: exp.Expr, ctx: Context) -> Extracted:
    """Dispatch on the statement type; unknown statements still report the tables they mention."""
    with_ = expression.args.get("with_")
    if with_ is not None and any(isinstance(cte.this, _DML) for cte in with_.expressions):
        return _with_dml_ctes(expression, with_, ctx)
    return _dispatch(expression, ctx)


def _with_dml_ctes(expression: exp.Expr, with_: exp.With, ctx: Context) -> Extracted:
    """Postgres ``WITH d AS (DELETE FROM t ... RETURNING *) INSERT INTO a SELECT * FROM d``: each DML CTE
    is a write of its own, and what it returns is read as rows of its table."""
    done: list[Extracted] = []
    for position, cte in enumerate(with_.expressions):
        body = cte.this
        if not isinstance(body, _DML):
            continue
        table = body.this.this if isinstance(body.this, exp.Schema) else body.this
        statement = body.copy()
        if position and not statement.args.get("with_"):
            # The CTEs before this one are in its scope (already rewritten to plain queries).
            statement.set("with_", exp.With(expressions=[c.copy() for c in with_.expressions[:position]]))
        done.append(_dispatch(statement, ctx))
        if isinstance(table, exp.Table):
            cte.set("this", exp.select("*").from_(table.copy()))
    result = _dispatch(expression, ctx)
    for nested in done:
        result.sources |= nested.sources
        result.targets += nested.targets
        result.columns += nested.columns
        result.effects += nested.effects
        result.temp_tables |= nested.temp_tables
        result.unresolved |= nested.unresolved
    return result


def _dispatch(expression: exp.Expr, ctx: Context) -> Extracted:
    """``extract`` for a statement whose CTEs are all queries."""
    if isinstance(expression, UTILITY_TYPES) or (isinstance(expression, exp.Cache) and expression.expression is None):
        # DESCRIBE t, GRANT ... ON t, CACHE TABLE t: they name a table but move no rows.
        return Extracted(kind=expression.key)
    if "stream" in ctx.text.lower():
        _unwrap_streams(expression)
    ctx.marked = mark_names(expression)
    if ctx.trigger_table:
        _trigger_rows(expression, ctx.trigger_table)
    if isinstance(expression, exp.Select) and expression.args.get("into"):
        return writes.select_into(expression, ctx)
    if isinstance(expression, exp.SetOperation) and _leftmost(expression).args.get("into"):
        # ``SELECT a INTO t FROM x UNION SELECT a FROM y``: sqlglot hangs INTO on the first branch.
        first = _leftmost(expression)
        into = first.args["into"]
        first.set("into", None)
        return writes.select_into(expression, ctx, into)
    if isinstance(expression, (exp.Query, exp.Subquery)):
        return writes.select(expression, ctx)
    handler = _HANDLERS.get(type(expression))
    if handler is not None:
        return handler(expression, ctx)
    if isinstance(expression, exp.PropertyEQ):
        # ``v := <value>`` in PL/pgSQL, PL/SQL and Snowflake Scripting.
        result = Extracted(kind="assignment")
        read_mentions(expression, ctx, result)
        return result
    if isinstance(expression, exp.Dot) and isinstance(expression.expression, exp.Anonymous):
        # ``pkg.proc(args)`` as a statement: a PL/SQL procedure call.
        return procedural.bare_call(expression, ctx)
    # A bare function call or keyword statement (RAISERROR(...), THROW, REVERT) is named after itself.
    kind = expression.name.lower() if isinstance(expression, (exp.Anonymous, exp.Column)) else expression.key
    result = Extracted(kind=kind or expression.key)
    read_mentions(expression, ctx, result)
    return result


def _leftmost(query: exp.Expr) -> exp.Expr:
    """The first SELECT of a (nested) set operation."""
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this
    return query


def _unwrap_streams(expression: exp.Expr) -> None:
    """Databricks ``FROM STREAM(t) [AS a]`` reads table ``t`` (incrementally): make it the plain table."""
    for stream in list(expression.find_all(exp.Stream)):
        inner = stream.this
        table = inner.this if isinstance(inner, exp.Subquery) else inner
        if isinstance(table, exp.Table):
            if isinstance(inner, exp.Subquery) and inner.args.get("alias"):
                table.set("alias", inner.args["alias"])
            stream.replace(table)


def _trigger_rows(expression: exp.Expr, table: str) -> None:
    """Read a trigger's ``inserted``/``deleted`` pseudo-tables as the trigger's table (same alias)."""
    for node in list(expression.find_all(exp.Table)):
        if not node.db and node.name.lower() in ("inserted", "deleted") and not isinstance(node.this, exp.Dot):
            *qualifiers, name = table.split(".")
            db = qualifiers[-1] if qualifiers else None
            catalog = qualifiers[-2] if len(qualifiers) > 1 else None
            replacement = exp.table_(name, db, catalog)
            replacement.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
            node.replace(replacement)


def extract_tables_only(expression: exp.Expr, ctx: Context) -> Extracted:
    """Table-level lineage without columns, for a statement whose column lineage failed or ran out of time."""
    ctx.marked = mark_names(expression)
    written = expression.args.get("into") if isinstance(expression, exp.Select) else expression
    node = written.this if isinstance(written, (exp.Insert, exp.Create, exp.Update, exp.Merge, exp.Into)) else None
    node = node.this if isinstance(node, exp.Schema) else node
    skip: tuple[exp.Expr, ...] = (node,) if node is not None else ()
    if isinstance(expression, exp.Update) and isinstance(node, exp.Table):
        node = dml.update_target_node(expression)
        skip = (node, expression.this)
    result = Extracted(kind=expression.key)
    read_mentions(expression, ctx, result, skip=skip)
    target = name_of(node, ctx) if isinstance(node, exp.Table) else None
    if target is not None:
        write(result, ctx, target, [], None, replace=False, defines=False)
    return result


_HANDLERS: Handlers = {**writes.HANDLERS, **dml.HANDLERS, **effects.HANDLERS, **procedural.HANDLERS, **moves.HANDLERS}
