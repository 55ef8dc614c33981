"""UPDATE, MERGE and DELETE: rows changed in place. SET/MERGE assignments are evaluated as a synthetic
``SELECT value AS ... FROM <target and sources>`` so they qualify and resolve like any query.
"""

from sqlglot import exp

from lineage_pipeline.parsing.extraction import (
    STAR,
    Context,
    Extracted,
    Handlers,
    add_read,
    name_of,
    query_lineage,
    read_mentions,
    write,
)
from lineage_pipeline.parsing.models import Effect
from lineage_pipeline.parsing.names import identifier_name
from lineage_pipeline.parsing.tables import EMPTY

_VALUE_ALIAS = "__lineage_value_{}"


def _assignments_select(
    values: list[tuple[str, exp.Expr]],
    from_items: list[exp.Expr],
    where: exp.Expr | None,
    star_from: str | None,
) -> exp.Select:
    """``SELECT value AS __lineage_value_i ... FROM items`` so SET/MERGE values qualify like a query.

    ``star_from`` adds ``alias.*`` for MERGE's ``UPDATE SET *``/``INSERT *``; with nothing to project, a
    constant keeps the query valid so its reads are still found.
    """
    projections: list[exp.Expr] = [
        exp.alias_(value, _VALUE_ALIAS.format(i), copy=False) for i, (_, value) in enumerate(values)
    ]
    if star_from:
        projections.append(exp.Column(this=exp.Star(), table=exp.to_identifier(star_from)))
    select = exp.Select(expressions=projections or [exp.Literal.number(1)])
    select.set("from_", exp.From(this=from_items[0]))
    joins = [item if isinstance(item, exp.Join) else exp.Join(this=item) for item in from_items[1:]]
    if joins:
        select.set("joins", joins)
    if where is not None:
        select.set("where", where)
    return select


def _flatten_from(node: exp.Expr | None) -> list[exp.Expr]:
    """A FROM item and the joins sqlglot sometimes hangs on it, detached (the statement AST is ours to reuse)."""
    if node is None:
        return []
    joins = node.args.get("joins") or []
    node.set("joins", None)
    return [node, *joins]


def alias_of(node: exp.Expr) -> str:
    """The alias (or name) a FROM item is referred to by."""
    return node.alias_or_name if isinstance(node, (exp.Table, exp.Subquery)) else ""


def update_target_node(update: exp.Update) -> exp.Table:
    """The table an UPDATE writes: T-SQL ``UPDATE alias SET ... FROM schema.table alias`` names an aliased
    FROM table; otherwise the table after UPDATE."""
    ref = update.this
    if ref.db:
        return ref
    from_ = update.args.get("from_")
    first = from_.this if from_ is not None else None
    joins = [*(first.args.get("joins") or [] if first is not None else []), *(update.args.get("joins") or [])]
    for table in (first, *(join.this for join in joins)):
        if isinstance(table, exp.Table) and table is not ref and alias_of(table) == ref.name:
            return table
    return ref


def _dml_target(node: exp.Table, statement: exp.Expr, ctx: Context) -> str | None:
    """Name of the table a DML statement changes; through an updatable CTE (T-SQL ``WITH d AS
    (SELECT ... FROM t) DELETE FROM d``) that is the CTE's single base table."""
    name = name_of(node, ctx)
    if node.db or name is None:
        return name
    with_ = statement.args.get("with_")
    for cte in with_.expressions if with_ is not None else []:
        if identifier_name(cte.args["alias"].this, ctx.fold) != name:
            continue
        query = cte.this
        from_ = query.args.get("from_") if isinstance(query, exp.Select) else None
        if from_ is not None and isinstance(from_.this, exp.Table) and not query.args.get("joins"):
            return _dml_target(from_.this, query, ctx)
        return None
    return name


def _set_target_column(column: exp.Expr, ctx: Context) -> str | None:
    """Column name on the left of ``SET col = ...`` (qualifier dropped)."""
    if isinstance(column, exp.Column):
        return identifier_name(column.this, ctx.fold)
    if isinstance(column, exp.Identifier):
        return identifier_name(column, ctx.fold)
    return None


def _assignment_edges(
    result: Extracted,
    ctx: Context,
    target: str,
    assignments: list[tuple[str, exp.Expr]],
    from_items: list[exp.Expr],
    where: exp.Expr | None,
    with_: exp.Expr | None,
    star_from: str | None = None,
) -> None:
    """Reads and column edges of ``target.column = value`` assignments evaluated over ``from_items``."""
    select = _assignments_select(assignments, from_items, where, star_from)
    if with_ is not None:
        select.set("with_", with_)
    lineage = query_lineage(select, ctx)
    for table in lineage.tables_read():
        name = name_of(table, ctx)
        if name is not None and name != target:
            add_read(name, ctx, result)
    outputs = dict(lineage.outputs())
    columns = [
        (column, outputs.get(_VALUE_ALIAS.format(i), EMPTY)) for i, (column, _) in enumerate(assignments)
    ]
    write(result, ctx, target, columns, outputs.get(STAR), replace=False, defines=False)


def _update(update: exp.Update, ctx: Context) -> Extracted:
    """UPDATE [FROM/JOIN]: SET columns are written from values evaluated over the FROM items."""
    result = Extracted(kind="update")
    target_ref = update.this
    if not isinstance(target_ref, exp.Table):
        read_mentions(update, ctx, result)
        return result
    target_node = update_target_node(update)
    own = _flatten_from(target_ref)
    from_ = update.args.get("from_")
    others = _flatten_from(from_.this) if from_ is not None else []
    others += list(update.args.get("joins") or [])
    # The alias reference itself is not a FROM item when the target is an aliased FROM table.
    items = (own if target_node is target_ref else own[1:]) + others
    if isinstance(items[0], exp.Join):
        items[0] = items[0].this
    target = _dml_target(target_node, update, ctx)
    if target is None:
        return result
    assignments = []
    for eq in update.expressions:
        if isinstance(eq, exp.EQ):
            column = _set_target_column(eq.this, ctx)
            if column:
                assignments.append((column, eq.expression))
    _assignment_edges(result, ctx, target, assignments, items, update.args.get("where"), update.args.get("with_"))
    return result


def _merge(merge: exp.Merge, ctx: Context) -> Extracted:
    """MERGE: matched UPDATE SET and not-matched INSERT branches write target columns from the USING side."""
    result = Extracted(kind="merge")
    target_node = merge.this
    using = merge.args.get("using")
    if not isinstance(target_node, exp.Table) or using is None:
        read_mentions(merge, ctx, result)
        return result
    target = _dml_target(target_node, merge, ctx)
    if target is None:
        return result
    using_alias = alias_of(using)
    assignments: list[tuple[str, exp.Expr]] = []
    star = False
    whens = merge.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for eq in then.expressions:
                if isinstance(eq, exp.Star):
                    star = True
                elif isinstance(eq, exp.EQ):
                    column = _set_target_column(eq.this, ctx)
                    if column:
                        assignments.append((column, eq.expression))
        elif isinstance(then, exp.Insert):
            if isinstance(then.this, exp.Star):
                star = True
                continue
            names = [_set_target_column(c, ctx) for c in then.this.expressions] if then.this is not None else []
            values = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
            if not names:
                names = list(ctx.tables.columns_of(target) or [])
            # By position; names from the catalog may outnumber the VALUES: matched as far as they go.
            for column, value in zip(names, values, strict=False):
                if column:
                    # Only the source is visible in the INSERT branch; bind bare columns to it.
                    for bare in value.find_all(exp.Column):
                        if not bare.table and using_alias:
                            bare.set("table", exp.to_identifier(using_alias))
                    assignments.append((column, value))
        elif isinstance(then, exp.Var) and then.name.upper() == "DELETE" and not ctx.tables.is_temp(target):
            result.effects.append(Effect(kind="delete", table=target))
    # ``UPDATE SET *`` / ``INSERT *`` copy same-named columns: per column when the catalog knows the
    # target, else recorded as ``target.* <- source.*``.
    known = ctx.tables.columns_of(target) if star else None
    if known:
        assignments += [(column, exp.column(column, table=using_alias)) for column in known]
    star_from = using_alias if star and not known else None
    from_items: list[exp.Expr] = [target_node, exp.Join(this=using, on=merge.args.get("on"))]
    _assignment_edges(result, ctx, target, assignments, from_items, None, merge.args.get("with_"), star_from)
    return result


def _delete(delete: exp.Delete, ctx: Context) -> Extracted:
    """DELETE [USING/FROM/JOIN]: an effect on the target; the other tables are reads."""
    result = Extracted(kind="delete")
    this = delete.this
    named = [table for table in delete.args.get("tables") or [] if isinstance(table, exp.Table)]
    target_node = this
    # T-SQL ``DELETE alias FROM schema.table alias JOIN ...``: the target is the aliased FROM table.
    if named and not named[0].db and isinstance(this, exp.Table):
        candidates = [this, *(join.this for join in this.args.get("joins") or [])]
        for candidate in candidates:
            if isinstance(candidate, exp.Table) and alias_of(candidate) == named[0].name:
                target_node = candidate
                break
    target = _dml_target(target_node, delete, ctx) if isinstance(target_node, exp.Table) else None
    read_mentions(delete, ctx, result, skip=(target_node, *named))
    if target is not None:
        if ctx.tables.is_temp(target):
            result.temp_tables.add(target)
        else:
            result.effects.append(Effect(kind="delete", table=target))
    return result


HANDLERS: Handlers = {exp.Update: _update, exp.Merge: _merge, exp.Delete: _delete}
