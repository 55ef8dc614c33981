"""Column lineage of one qualified query: each output column -> persistent source columns and transform.

Walks sqlglot's scope tree once per statement (CTEs, derived tables, set operations, subqueries,
APPLY/LATERAL), memoizing each scope's outputs; never calls ``sqlglot.lineage`` per column.
"""

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from lineage_pipeline.parsing.budget import Deadline
from lineage_pipeline.parsing.models import Transform
from lineage_pipeline.parsing.names import identifier_name, table_name
from lineage_pipeline.parsing.tables import EMPTY, Derivation, FileTables, through_star

Outputs = list[tuple[str, Derivation]]

_STAR = "*"


class QueryLineage:
    """Output-column derivations of the scopes of one query, computed on demand and memoized."""

    def __init__(
        self,
        query: exp.Expr,
        tables: FileTables,
        fold: str | None,
        deadline: Deadline,
        lateral_aliases: bool = False,
        pseudo_columns: frozenset[str] = frozenset(),
    ):
        self.tables = tables
        self.fold = fold
        self.deadline = deadline
        self.query = query
        self.lateral_aliases = lateral_aliases
        self.pseudo_columns = pseudo_columns
        self.root = build_scope(query)
        self._outputs: dict[int, Outputs] = {}
        # Per SELECT scope, its earlier projections by alias (``SELECT a * r AS eur, eur * 2 AS dbl``).
        self._aliases: dict[int, dict[str, Derivation]] = {}
        self._by_expression: dict[int, Scope] = {}
        # Names of source tables by node: every column read through a table asks for its name again.
        self._table_names: dict[int, str | None] = {}
        if self.root is not None:
            for scope in self.root.traverse():
                self._by_expression[id(scope.expression)] = scope

    def outputs(self, scope: Scope | None = None) -> Outputs:
        """``[(name, derivation)]`` in projection order; an unexpanded star is named ``*``."""
        scope = scope or self.root
        if scope is None:
            # sqlglot builds no scope for a bare VALUES list (INSERT ... VALUES).
            return self._values(self.query) if isinstance(self.query, exp.Values) else []
        key = id(scope)
        cached = self._outputs.get(key)
        if cached is None:
            # Guards against cycles (recursive CTEs) while the scope is being computed.
            self._outputs[key] = []
            cached = self._compute(scope)
            self._outputs[key] = cached
        return cached

    def _compute(self, scope: Scope) -> Outputs:
        self.deadline.check()
        expression = scope.expression
        if isinstance(expression, exp.SetOperation) and scope.set_operation_scopes:
            return self._renamed(expression, self._set_operation(scope))
        if isinstance(expression, exp.Select):
            outputs = []
            aliases = self._aliases.setdefault(id(scope), {}) if self.lateral_aliases else None
            for i, projection in enumerate(expression.selects):
                name = _output_name(projection, i, self.fold)
                derivation = self.derive(projection, scope)
                outputs.append((name, derivation))
                if aliases is not None and isinstance(projection, exp.Alias):
                    aliases.setdefault(name, derivation)
            return self._renamed(expression, outputs)
        if isinstance(expression, exp.Values):
            return self._values(expression)
        if scope.is_udtf:
            return self._table_function(expression, scope)
        return []

    def _renamed(self, query: exp.Expr, outputs: Outputs) -> Outputs:
        """Apply a column list given with the CTE or derived table's alias: ``WITH c (x, y) AS (...)``."""
        holder = query.parent
        alias = holder.args.get("alias") if isinstance(holder, (exp.CTE, exp.Subquery)) else None
        names = alias.columns if isinstance(alias, exp.TableAlias) else []
        if not names:
            return outputs
        renamed = [identifier_name(name, self.fold) for name in names]
        return [(renamed[i] if i < len(renamed) else name, d) for i, (name, d) in enumerate(outputs)]

    def _table_function(self, function: exp.Expr, scope: Scope) -> Outputs:
        """APPLY/LATERAL subqueries give their outputs; UNNEST/FLATTEN/explode give their aliased
        columns, each an expression over the function's arguments."""
        inner = function.this if isinstance(function, exp.Lateral) else None
        if isinstance(inner, exp.Subquery):
            child = self._by_expression.get(id(inner.this))
            return self.outputs(child) if child is not None else []
        alias = function.args.get("alias")
        names = [identifier_name(c, self.fold) for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        derivation = Derivation(transform="expression")
        for argument in function.iter_expressions():
            if not isinstance(argument, exp.TableAlias):
                derivation = derivation.merge(self.derive(argument, scope))
        return [(name, derivation) for name in names or [_STAR]]

    def _set_operation(self, scope: Scope) -> Outputs:
        branches = [self.outputs(branch) for branch in scope.set_operation_scopes]
        merged = list(branches[0])
        for branch in branches[1:]:
            for position, (_, derivation) in enumerate(branch[: len(merged)]):
                name, current = merged[position]
                merged[position] = (name, current.merge(derivation))
        return merged

    def _values(self, values: exp.Values) -> Outputs:
        alias = values.args.get("alias")
        names = [identifier_name(c, self.fold) for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        rows = [row for row in values.expressions if isinstance(row, exp.Tuple)]
        width = max((len(row.expressions) for row in rows), default=0)
        names += [f"_col_{i}" for i in range(len(names), width)]
        result = []
        for position, name in enumerate(names):
            derivation = Derivation(transform="expression")
            for row in rows:
                if position < len(row.expressions):
                    derivation = derivation.merge(self.derive(row.expressions[position], None))
            result.append((name, derivation))
        return result

    def derive(self, node: exp.Expr, scope: Scope | None) -> Derivation:
        """Derivation of one value expression evaluated in ``scope``."""
        inner = node.unalias() if isinstance(node, exp.Alias) else node
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Subquery):
            # A scalar subquery as the whole value passes its output through unchanged.
            return self._subquery(inner)
        if isinstance(inner, exp.Column) and not isinstance(inner.this, exp.Star):
            return self.column(inner, scope)
        if isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)):
            return self.star(inner, scope)
        result = EMPTY
        own: Transform = "expression"
        stack = [inner]
        while stack:
            current = stack.pop()
            if isinstance(current, exp.Window):
                own = "window"
            elif isinstance(current, exp.AggFunc) and own != "window":
                own = "aggregation"
            if isinstance(current, exp.Column):
                if isinstance(current.this, exp.Star):
                    result = result.merge(self.star(current, scope))
                else:
                    result = result.merge(self.column(current, scope))
                continue
            if isinstance(current, (exp.Query, exp.Subquery)):
                result = result.merge(self._subquery(current))
                continue
            stack.extend(current.iter_expressions())
        return result.at_least(own)

    def _subquery(self, node: exp.Expr) -> Derivation:
        query = node.this if isinstance(node, exp.Subquery) else node
        child = self._by_expression.get(id(query)) or self._by_expression.get(id(node))
        if child is None:
            return EMPTY
        result = EMPTY
        for _, derivation in self.outputs(child):
            result = result.merge(derivation)
        return result

    def _source(self, scope: Scope | None, alias: str) -> object | None:
        """The table or scope that ``alias`` names in ``scope`` or, for correlated references, its parents."""
        while scope is not None:
            source = scope.sources.get(alias)
            if source is not None:
                return source
            scope = scope.parent
        return None

    def _provider(self, scope: Scope | None, name: str) -> object | None:
        """The one source of ``scope`` that can supply unqualified column ``name`` (sqlglot could not say)."""
        if scope is None:
            return None
        sources = [source for _, source in scope.selected_sources.values()]
        if len(sources) == 1:
            return sources[0]
        providers = [source for source in sources if name in self._columns_of(source)]
        return providers[0] if len(providers) == 1 else None

    def _table_name(self, table: exp.Table) -> str | None:
        """``table_name`` of a source table of this query, memoized (the tree is not changed meanwhile)."""
        key = id(table)
        if key not in self._table_names:
            self._table_names[key] = table_name(table, self.fold)
        return self._table_names[key]

    def _columns_of(self, source: object) -> tuple[str, ...]:
        if isinstance(source, Scope):
            return tuple(output for output, _ in self.outputs(source))
        if isinstance(source, exp.Table):
            table = self._table_name(source)
            return (table and self.tables.columns_of(table)) or ()
        return ()

    def column(self, column: exp.Column, scope: Scope | None) -> Derivation:
        """Derivation of a (qualified, if resolvable) column reference."""
        name = identifier_name(column.this, self.fold)
        if scope is not None and scope.pivots:
            pivoted = self._pivot_column(scope, column, name)
            if pivoted is not None:
                return pivoted
        if not column.table and name in self.pseudo_columns:
            # Oracle's LEVEL, ROWNUM, ...: values the engine computes, not columns of a table.
            return Derivation(transform="expression")
        if not column.table and scope is not None:
            alias = self._aliases.get(id(scope), {}).get(name)
            # A lateral alias reference, unless a source is known to have a column of that name.
            if alias is not None and not any(
                name in self._columns_of(source) for _, source in scope.selected_sources.values()
            ):
                return alias
        source = self._source(scope, column.table) if column.table else self._provider(scope, name)
        if source is not None:
            derivation = self._from_source(source, name)
            if derivation is EMPTY and column.table and isinstance(source, Scope) and source.is_udtf:
                # BigQuery ``UNNEST(o.items) AS i``: ``i`` names the element, ``i.sku`` one of its fields.
                element = self._from_source(source, identifier_name(column.args.get("table"), self.fold))
                return element.at_least("expression") if element is not EMPTY else derivation
            return derivation
        if column.table:
            return self._field_access(column, scope)
        return Derivation(unresolved=frozenset((name,)))

    def _field_access(self, column: exp.Column, scope: Scope | None) -> Derivation:
        """``alias.struct_col.field`` / ``struct_col.field`` (BigQuery, Spark, Snowflake paths): the
        struct column, as an expression. An alias nothing binds (a table function's) yields nothing."""
        parts = [identifier_name(part, self.fold) for part in column.parts]
        for position, part in enumerate(parts[:-1]):
            source = self._source(scope, part)
            if source is not None:
                return self._from_source(source, parts[position + 1]).at_least("expression")
        provider = self._provider(scope, parts[0])
        if provider is not None:
            return self._from_source(provider, parts[0]).at_least("expression")
        return EMPTY

    def _from_source(self, source: object, name: str) -> Derivation:
        """Derivation of column ``name`` of a physical table or a derived scope."""
        if isinstance(source, exp.Table):
            table = self._table_name(source)
            return self.tables.column(table, name) if table is not None else EMPTY
        if isinstance(source, Scope):
            outputs = self.outputs(source)
            for output, derivation in outputs:
                if output == name:
                    return derivation
            for output, derivation in outputs:
                if output == _STAR:
                    return through_star(derivation, name)
        return EMPTY

    def _pivot_column(self, scope: Scope, column: exp.Column, name: str) -> Derivation | None:
        """A column of a PIVOT result: a pivoted value column is the aggregate over the value and FOR
        columns; any other column passes through from the pivoted source. ``None`` if not a pivot column."""
        for pivot in scope.pivots:
            alias = pivot.alias
            if column.table and column.table != alias:
                continue
            source_alias = pivot.parent.alias_or_name if pivot.parent is not None else ""
            if pivot.args.get("unpivot"):
                return self._unpivot_column(scope, pivot, source_alias, name)
            pivoted = {identifier_name(c, self.fold) for c in pivot.args.get("columns") or []}
            if name in pivoted:
                result = Derivation(transform="aggregation")
                for part in [*pivot.expressions, *(f.this for f in pivot.args.get("fields") or [])]:
                    result = result.merge(self.derive(part, scope))
                return result
            if source_alias:
                return self._from_source(scope.sources.get(source_alias), name)
        return None

    def _unpivot_column(self, scope: Scope, pivot: exp.Pivot, source_alias: str, name: str) -> Derivation | None:
        """A column of an UNPIVOT result: a value column takes the unpivoted columns' values, the name
        column holds their names (a constant), any other column passes through."""
        source = scope.sources.get(source_alias)
        values = {identifier_name(value, self.fold) for value in pivot.expressions}
        for field in pivot.args.get("fields") or []:
            if not isinstance(field, exp.In):
                continue
            if name == identifier_name(field.this, self.fold):
                return Derivation(transform="expression")
            if name in values:
                result = EMPTY
                for item in field.expressions:
                    item = item.this if isinstance(item, exp.PivotAlias) else item
                    for unpivoted in item.find_all(exp.Column):
                        result = result.merge(self._from_source(source, identifier_name(unpivoted.this, self.fold)))
                return result
        return self._from_source(source, name) if source is not None else None

    def star(self, node: exp.Expr, scope: Scope | None) -> Derivation:
        """Derivation of an unexpanded ``*`` or ``t.*``: explicit ``table.*`` sources, never guessed columns."""
        if scope is None:
            return EMPTY
        alias = node.table if isinstance(node, exp.Column) else ""
        if alias:
            sources = [self._source(scope, alias)]
        else:
            sources = [source for _, source in scope.selected_sources.values()]
        result = EMPTY
        for source in sources:
            if isinstance(source, exp.Table):
                table = self._table_name(source)
                if table is not None:
                    result = result.merge(self.tables.star(table))
            elif isinstance(source, Scope):
                for _, derivation in self.outputs(source):
                    result = result.merge(derivation)
        return result

    def tables_read(self) -> list[exp.Table]:
        """Every physical table node referenced anywhere in the query (CTE names excluded)."""
        if self.root is None:
            return []
        found = []
        for scope in self.root.traverse():
            for source in scope.sources.values():
                if isinstance(source, exp.Table):
                    found.append(source)
        return found


def _output_name(projection: exp.Expr, position: int, fold: str | None) -> str:
    if isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    ):
        return _STAR
    alias = projection.args.get("alias") if isinstance(projection, exp.Alias) else None
    if isinstance(alias, exp.Identifier):
        return identifier_name(alias, fold)
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Identifier):
        return identifier_name(projection.this, fold)
    # An unnamed expression gets sqlglot's positional name.
    return projection.alias_or_name.lower() or f"_col_{position}"

