"""Statements that produce rows into a table from a query: SELECT (reads only), SELECT INTO, INSERT,
CREATE TABLE/VIEW (AS), multi-table INSERT ALL, COPY, Spark CACHE TABLE.
"""

from sqlglot import exp

from lineage_pipeline.parsing.extraction import (
    Context,
    Extracted,
    Handlers,
    add_read,
    attach_with,
    explicit_columns,
    map_columns,
    name_of,
    query_outputs,
    read_mentions,
    split_star,
    write,
)
from lineage_pipeline.parsing.models import Effect
from lineage_pipeline.parsing.names import identifier_name
from lineage_pipeline.parsing.qualifying import has_property, mark_temp_names
from lineage_pipeline.parsing.tables import EMPTY, Derivation


def select(expression: exp.Expr, ctx: Context) -> Extracted:
    """A plain query: reads only, no written columns."""
    result = Extracted(kind="select")
    read_mentions(expression, ctx, result)
    return result


# Where ``SELECT ... INTO x`` creates table x: T-SQL always, Postgres/Redshift outside procedural code.
# Elsewhere (PL/SQL, PL/pgSQL bodies, MySQL, Snowflake Scripting) it assigns variables.
_INTO_TABLE_DIALECTS = frozenset(("tsql", "fabric"))
_INTO_TABLE_OUTSIDE_BODIES = frozenset(("postgres", "redshift", "ansi"))


def select_into(select: exp.Query, ctx: Context, into: exp.Into | None = None) -> Extracted:
    """``SELECT ... INTO t``: creates ``t`` (a temp for ``#t``/``INTO TEMP``) with the query's columns;
    where INTO names variables, a plain read. ``into`` is given when ``select`` is a set operation
    whose first branch held it (already detached)."""
    into = into or select.args["into"]
    creates = ctx.dialect in _INTO_TABLE_DIALECTS or (ctx.dialect in _INTO_TABLE_OUTSIDE_BODIES and not ctx.in_body)
    if not creates:
        if isinstance(select, exp.Select):
            select.set("into", None)
        result = Extracted(kind="select_into_variable")
        read_mentions(select, ctx, result)
        return result
    result = Extracted(kind="select_into")
    target_node = into.this
    target = name_of(target_node, ctx) if isinstance(target_node, exp.Table) else None
    if into.args.get("temporary") and target:
        ctx.tables.declare_temp(target)
    if isinstance(select, exp.Select):
        select.set("into", None)
    outputs = query_outputs(select, ctx, result)
    if target:
        named, star = split_star(outputs)
        write(result, ctx, target, named, star, replace=True, defines=True)
    return result


def _insert(insert: exp.Insert, ctx: Context) -> Extracted:
    """INSERT/INSERT OVERWRITE ... SELECT|VALUES, with positional column mapping."""
    result = Extracted(kind="insert_overwrite" if insert.args.get("overwrite") else "insert")
    node, explicit = explicit_columns(insert.this, ctx)
    if not isinstance(node, exp.Table):
        read_mentions(insert, ctx, result)
        return result
    target = name_of(node, ctx)
    query = insert.expression
    if query is None or target is None:
        return result
    query = attach_with(query, insert)
    outputs = query_outputs(query, ctx, result)
    columns, star = map_columns(outputs, explicit, target, ctx, result)
    write(result, ctx, target, columns, star, replace=bool(insert.args.get("overwrite")), defines=False)
    return result


def extract_insert_exec(insert: exp.Insert, called: Extracted, ctx: Context) -> Extracted:
    """``INSERT INTO t EXEC proc``: ``t`` is written with rows the parser cannot see; ``called`` is the
    lineage of the EXEC part (its calls and effects are kept)."""
    mark_temp_names(insert)
    result = Extracted(kind="insert_exec", calls=called.calls, effects=called.effects)
    node, _ = explicit_columns(insert.this, ctx)
    if isinstance(node, exp.Table):
        target = name_of(node, ctx)
        if target is not None and ctx.tables.is_temp(target):
            ctx.tables.write_temp(target, {}, None, set(), replace=False)
            result.temp_tables.add(target)
        elif target is not None:
            result.targets.append(target)
    return result


def _create(create: exp.Create, ctx: Context) -> Extracted:
    """CREATE TABLE (DDL, AS, LIKE, CLONE) and CREATE [MATERIALIZED] VIEW; other CREATEs report reads only."""
    kind = (create.args.get("kind") or "").upper()
    node, explicit = explicit_columns(create.this, ctx)
    query = create.expression
    if kind not in ("TABLE", "VIEW") or not isinstance(node, exp.Table):
        result = Extracted(kind=f"create_{kind.lower()}" if kind else "create")
        if isinstance(query, exp.Query):
            read_mentions(query, ctx, result)
        return result
    target = name_of(node, ctx)
    temporary = has_property(create, (exp.TemporaryProperty, exp.VolatileProperty), ctx.marked)
    if target and temporary:
        ctx.tables.declare_temp(target)
    query = query.this if isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query) else query
    properties = create.args.get("properties")
    to_table = next(
        (p for p in (properties.expressions if properties else []) if isinstance(p, exp.ToTableProperty)), None
    )
    if kind == "VIEW" and to_table is not None and isinstance(to_table.this, exp.Table):
        # ClickHouse ``CREATE MATERIALIZED VIEW v TO t AS SELECT``: v is an insert trigger; rows land in t.
        result = Extracted(kind="create_materialized_view")
        target = name_of(to_table.this, ctx)
        if target is not None and isinstance(query, exp.Query):
            outputs = query_outputs(attach_with(query, create), ctx, result)
            columns, star = map_columns(outputs, explicit, target, ctx, result)
            write(result, ctx, target, columns, star, replace=False, defines=False)
        return result
    if kind == "VIEW":
        materialized = has_property(create, (exp.MaterializedProperty,), ctx.marked)
        result = Extracted(kind="create_materialized_view" if materialized else "create_view", target_kind="view")
    else:
        result = Extracted(kind="create_table_as" if isinstance(query, exp.Query) else "create_table")
    if target is None:
        return result
    if isinstance(query, exp.Query):
        outputs = query_outputs(attach_with(query, create), ctx, result)
        named, star = split_star(outputs)
        if explicit:
            # By position; a column list longer or shorter than the query's outputs is matched as far as it goes.
            named = [(column, derivation) for column, (_, derivation) in zip(explicit, named, strict=False)]
        write(result, ctx, target, named, star, replace=True, defines=True)
        return result
    # CREATE TABLE t LIKE s / CLONE s: s is read for t's shape (and, for CLONE, its rows).
    for copied in (create.find(exp.LikeProperty), create.args.get("clone")):
        if copied is not None and isinstance(copied.this, exp.Table):
            source = name_of(copied.this, ctx)
            if source:
                add_read(source, ctx, result)
    defined = explicit or []
    if ctx.tables.is_temp(target):
        ctx.tables.define_temp(target, defined)
        result.temp_tables.add(target)
        return result
    result.targets.append(target)
    result.defined_columns = defined
    ctx.tables.define(target, defined)
    result.effects.append(Effect(kind="create", table=target))
    return result


def _from_first_inserts(statement: exp.Expr, source: exp.Expr, ctx: Context) -> Extracted:
    """Hive ``FROM src INSERT OVERWRITE TABLE a SELECT ... INSERT INTO TABLE b SELECT ...``: each branch
    is an INSERT ... SELECT over ``src`` (its joins included)."""
    branches = [branch for branch in statement.expressions if isinstance(branch, exp.Insert)]
    result = Extracted(kind="insert_overwrite" if any(b.args.get("overwrite") for b in branches) else "insert")
    joins = source.args.get("joins") or []
    base = source.copy()
    base.set("joins", None)
    for branch in branches:
        select = branch.expression
        if isinstance(select, exp.Select) and not select.args.get("from_"):
            select.set("from_", exp.From(this=base.copy()))
            select.set("joins", [join.copy() for join in joins] + list(select.args.get("joins") or []))
        one = _insert(branch, ctx)
        result.sources |= one.sources
        result.targets += one.targets
        result.columns += one.columns
        result.temp_tables |= one.temp_tables
        result.unresolved |= one.unresolved
        result.column_mapping = result.column_mapping or one.column_mapping
    return result


def _multitable_insert(statement: exp.Expr, ctx: Context) -> Extracted:
    """Oracle/Snowflake ``INSERT ALL|FIRST INTO t1 ... INTO t2 ... SELECT``: every branch reads the source."""
    source = statement.args.get("source")
    # Oracle's branches hold VALUES (or nothing); Hive's hold their own SELECT over the shared FROM.
    if isinstance(source, exp.Expression) and any(
        isinstance(branch, exp.Insert) and isinstance(branch.expression, exp.Query) for branch in statement.expressions
    ):
        return _from_first_inserts(statement, source, ctx)
    result = Extracted(kind="insert_all")
    outputs = query_outputs(source, ctx, result) if isinstance(source, exp.Expression) else []
    by_name = dict(outputs)
    for branch in statement.find_all(exp.Insert):
        node, explicit = explicit_columns(branch.this, ctx)
        if not isinstance(node, exp.Table):
            continue
        target = name_of(node, ctx)
        if target is None:
            continue
        values = branch.expression
        if isinstance(values, exp.Values) and values.expressions:
            row = values.expressions[0].expressions
            branch_outputs = [(_value_name(value, ctx), _through_outputs(value, by_name)) for value in row]
        else:
            branch_outputs = outputs
        columns, star = map_columns(branch_outputs, explicit, target, ctx, result)
        write(result, ctx, target, columns, star, replace=False, defines=False)
    return result


def _value_name(value: exp.Expr, ctx: Context) -> str:
    return identifier_name(value.this, ctx.fold) if isinstance(value, exp.Column) else value.sql()


def _through_outputs(value: exp.Expr, outputs: dict[str, Derivation]) -> Derivation:
    """A VALUES item of a multi-table insert: an expression over the source query's output columns."""
    if isinstance(value, exp.Column):
        return outputs.get(value.name.lower(), EMPTY)
    result = Derivation(transform="expression")
    for column in value.find_all(exp.Column):
        result = result.merge(outputs.get(column.name.lower(), EMPTY))
    return result


def _copy(copy: exp.Copy, ctx: Context) -> Extracted:
    """COPY INTO/FROM: a table loaded from files (a target) or unloaded to files (a source)."""
    result = Extracted(kind="copy")
    source = copy.this.this if isinstance(copy.this, exp.Subquery) else copy.this
    if isinstance(source, exp.Query):
        # Postgres ``COPY (SELECT ...) TO 'file'``: the query's tables are read into a file.
        query_outputs(source, ctx, result)
        return result
    target = name_of(copy.this, ctx) if isinstance(copy.this, exp.Table) else None
    for item in copy.args.get("files") or []:
        if isinstance(item, exp.Expression):
            read_mentions(item, ctx, result)
    if target is not None:
        write(result, ctx, target, [], None, replace=False, defines=False)
    return result


def _cache(cache: exp.Cache, ctx: Context) -> Extracted:
    """Spark ``CACHE TABLE c AS SELECT``: ``c`` is a session-scoped temp view."""
    result = Extracted(kind="cache")
    target = name_of(cache.this, ctx) if isinstance(cache.this, exp.Table) else None
    query = cache.expression
    if target is None or not isinstance(query, exp.Query):
        read_mentions(cache, ctx, result)
        return result
    ctx.tables.declare_temp(target)
    named, star = split_star(query_outputs(query, ctx, result))
    write(result, ctx, target, named, star, replace=True, defines=False)
    return result


HANDLERS: Handlers = {
    exp.Insert: _insert,
    exp.Create: _create,
    exp.MultitableInserts: _multitable_insert,
    exp.Copy: _copy,
    exp.Cache: _cache,
}
