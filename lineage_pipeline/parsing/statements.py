"""Lineage of one parsed statement: dispatch on its type to the handler that reads it."""

from sqlglot import exp

from lineage_pipeline.parsing import dml, effects, procedural, writes
from lineage_pipeline.parsing.extraction import Context, Extracted, name_of, read_mentions, write
from lineage_pipeline.parsing.qualifying import mark_recursive_ctes, mark_temp_names


def extract(expression: exp.Expression, ctx: Context) -> Extracted:
    """Dispatch on the statement type; unknown statements still report the tables they mention."""
    mark_temp_names(expression)
    mark_recursive_ctes(expression)
    if isinstance(expression, exp.Select) and expression.args.get("into"):
        return writes.select_into(expression, ctx)
    if isinstance(expression, (exp.Query, exp.Subquery)):
        return writes.select(expression, ctx)
    handler = _HANDLERS.get(type(expression))
    if handler is not None:
        return handler(expression, ctx)
    # A bare function call or keyword statement (RAISERROR(...), THROW, REVERT) is named after itself.
    kind = expression.name.lower() if isinstance(expression, (exp.Anonymous, exp.Column)) else expression.key
    result = Extracted(kind=kind or expression.key)
    read_mentions(expression, ctx, result)
    return result


def extract_tables_only(expression: exp.Expression, ctx: Context) -> Extracted:
    """Table-level lineage without columns, for a statement whose column lineage failed or ran out of time."""
    mark_temp_names(expression)
    mark_recursive_ctes(expression)
    written = expression.args.get("into") if isinstance(expression, exp.Select) else expression
    node = written.this if isinstance(written, (exp.Insert, exp.Create, exp.Update, exp.Merge, exp.Into)) else None
    node = node.this if isinstance(node, exp.Schema) else node
    skip = (node,) if node is not None else ()
    if isinstance(expression, exp.Update) and isinstance(node, exp.Table):
        node = dml.update_target_node(expression)
        skip = (node, expression.this)
    result = Extracted(kind=expression.key)
    read_mentions(expression, ctx, result, skip=skip)
    target = name_of(node, ctx) if isinstance(node, exp.Table) else None
    if target is not None:
        write(result, ctx, target, [], None, replace=False, defines=False)
    return result


_HANDLERS = {**writes.HANDLERS, **dml.HANDLERS, **effects.HANDLERS, **procedural.HANDLERS}
