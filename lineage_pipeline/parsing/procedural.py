"""Procedural statements: EXEC/CALL (procedure calls and dynamic SQL) and DECLARE (table variables)."""

from sqlglot import exp

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.extraction import Context, Extracted, name_of, read_mentions
from lineage_pipeline.parsing.models import Call, Effect
from lineage_pipeline.parsing.names import identifier_name


_DYNAMIC_PROCEDURES = frozenset(("sp_executesql", "sys.sp_executesql", "dbo.sp_executesql"))


_RENAME_PROCEDURES = frozenset(("sp_rename", "sys.sp_rename", "dbo.sp_rename"))


def _procedure_name(node: exp.Expression, ctx: Context) -> str | None:
    """Normalized procedure name from an EXEC target, or ``None`` when it is not a name."""
    if isinstance(node, exp.Table):
        return name_of(node, ctx)
    if isinstance(node, (exp.Column, exp.Identifier, exp.Var, exp.Dot)):
        parts = node.parts if isinstance(node, exp.Column) else [node]
        return ".".join(identifier_name(part, ctx.fold) for part in parts)
    return None


def _execute(execute: exp.Expression, ctx: Context) -> Extracted:
    """EXEC proc / EXEC(@sql) / sp_executesql: a procedure call or a dynamic-SQL call (sp_rename also an effect)."""
    result = Extracted(kind="execute")
    target = execute.this
    procedure = _procedure_name(target, ctx)
    text = ctx.text or execute.sql(sqlglot_dialect(ctx.dialect))
    # A procedure named by a variable (EXEC @name) is as opaque as a SQL string.
    dynamic = procedure is None or procedure.startswith("@") or procedure in _DYNAMIC_PROCEDURES
    if isinstance(execute, exp.ExecuteSql) or dynamic:
        result.kind = "dynamic_sql"
        result.calls.append(Call(kind="dynamic_sql", text=text))
        return result
    result.calls.append(Call(kind="procedure", target=procedure, text=text))
    if procedure in _RENAME_PROCEDURES:
        arguments = [a for a in execute.expressions if isinstance(a, exp.Literal) and a.is_string]
        if len(arguments) >= 2:
            old = arguments[0].this.lower().replace("[", "").replace("]", "")
            result.effects.append(Effect(kind="rename", table=old, detail=arguments[1].this.lower()))
    return result


def _command(command: exp.Command, ctx: Context) -> Extracted:
    """Statements sqlglot keeps as raw commands: EXECUTE IMMEDIATE and CALL become calls, others a kind."""
    name = str(command.this or "").upper()
    rest = command.expression.name if isinstance(command.expression, exp.Literal) else ""
    text = ctx.text or f"{name} {rest}".strip()
    if name in ("EXECUTE", "EXEC") and rest.upper().startswith("IMMEDIATE"):
        return Extracted(kind="dynamic_sql", calls=[Call(kind="dynamic_sql", text=text)])
    if name in ("CALL", "EXECUTE", "EXEC"):
        procedure = rest.split("(", 1)[0].strip().split()
        if procedure:
            target = ".".join(part.strip('"[]`').lower() for part in procedure[0].split("."))
            return Extracted(kind="call", calls=[Call(kind="procedure", target=target, text=text)])
    return Extracted(kind=name.lower() or "command")


def _declare(declare: exp.Declare, ctx: Context) -> Extracted:
    """DECLARE: a table variable (``@t TABLE (...)``) becomes a temp; a default value's reads are kept."""
    result = Extracted(kind="declare")
    for item in declare.expressions:
        kind = item.args.get("kind")
        variables = item.this if isinstance(item.this, list) else [item.this]
        if isinstance(kind, exp.Schema):
            columns = [identifier_name(c.this, ctx.fold) for c in kind.expressions if isinstance(c, exp.ColumnDef)]
            for variable in variables:
                if isinstance(variable, exp.Parameter):
                    name = "@" + variable.name.lower()
                    ctx.tables.define_temp(name, columns)
                    result.temp_tables.add(name)
        elif item.args.get("default") is not None:
            read_mentions(item, ctx, result)
    return result


HANDLERS = {exp.Execute: _execute, exp.ExecuteSql: _execute, exp.Command: _command, exp.Declare: _declare}
