"""Procedural statements: EXEC/CALL (procedure calls and dynamic SQL) and DECLARE (table variables)."""

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import TokenType

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.effects import (
    alter_command,
    rename_object,
    truncate_command,
)
from lineage_pipeline.parsing.extraction import (
    Context,
    Extracted,
    Handlers,
    name_of,
    read_mentions,
)
from lineage_pipeline.parsing.models import Call, Effect
from lineage_pipeline.parsing.moves import partition_move, unload
from lineage_pipeline.parsing.names import identifier_name, word_set
from lineage_pipeline.parsing.splitting import tokenize
from lineage_pipeline.parsing.utility import utility_command

_DYNAMIC_PROCEDURES = frozenset(("sp_executesql", "sys.sp_executesql", "dbo.sp_executesql"))


_RENAME_PROCEDURES = frozenset(("sp_rename", "sys.sp_rename", "dbo.sp_rename"))


def _procedure_name(node: exp.Expr, ctx: Context) -> str | None:
    """Normalized procedure name from an EXEC target, or ``None`` when it is not a name."""
    if isinstance(node, exp.Table):
        return name_of(node, ctx)
    if isinstance(node, (exp.Column, exp.Identifier, exp.Var, exp.Dot)):
        parts = node.parts if isinstance(node, exp.Column) else [node]
        return ".".join(identifier_name(part, ctx.fold) for part in parts)
    return None


def _execute(execute: exp.Expr, ctx: Context) -> Extracted:
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


# Statements of routine languages (PL/pgSQL, PL/SQL, Snowflake Scripting, MySQL, T-SQL cursors) that
# carry no lineage beyond a query some of them embed; sqlglot misreads or rejects them.
PROCEDURAL_HEADS = word_set(
    "RETURN OPEN CLOSE DEALLOCATE FETCH LEAVE ITERATE BREAK CONTINUE EXIT GET SIGNAL RESIGNAL LET PERFORM NULL GOTO"
)
# Heads read as procedural only when sqlglot cannot parse them (T-SQL ``DECLARE @t TABLE`` it can).
PARSE_FAILURE_HEADS = PROCEDURAL_HEADS | frozenset(("DECLARE", "RAISE"))
_QUERY_STARTS = frozenset((TokenType.SELECT, TokenType.WITH))


@dataclass(frozen=True)
class Embedded:
    """A procedural statement that embeds a query: its own kind, and the query (whose reads count)."""

    kind: str
    query: exp.Query


def procedural_statement(head: str, text: str, dialect: str) -> Embedded | Extracted:
    """``head ...`` as its own kind, with the query it embeds if any (``DECLARE c CURSOR FOR SELECT``,
    ``RETURN QUERY SELECT``, ``OPEN c FOR SELECT``, ``PERFORM f(x) FROM t``)."""
    query = embedded_query(("SELECT " + text.split(None, 1)[1]) if head == "PERFORM" and " " in text else text, dialect)
    return Embedded(head.lower(), query) if query is not None else Extracted(kind=head.lower())


def embedded_query(text: str, dialect: str) -> exp.Query | None:
    """The first SELECT/WITH query inside ``text``, parsed; ``None`` if there is none or it does not parse."""
    try:
        tokens = tokenize(text, dialect)
        start = next((token.start for token in tokens if token.token_type in _QUERY_STARTS), None)
        if start is None:
            return None
        query = text[start:].rstrip().rstrip(";")
        # A parenthesized ``(SELECT ...)`` leaves its closing parenthesis behind.
        while query.count(")") > query.count("(") and query.endswith(")"):
            query = query[:-1].rstrip()
        parsed = sqlglot_dialect(dialect).parse(query)[0]
    except Exception:  # noqa: BLE001 - an embedded query is a bonus; the statement stands without it
        return None
    return parsed if isinstance(parsed, exp.Query) else None


def bare_call(call: exp.Dot, ctx: Context) -> Extracted:
    """``pkg.proc(args)`` written as a statement (PL/SQL): a procedure call."""
    function = call.expression
    path = [identifier_name(part, ctx.fold) for part in call.this.parts] if isinstance(call.this, exp.Column) else []
    target = ".".join([*path, identifier_name(function.this, ctx.fold)])
    return Extracted(kind="call", calls=[Call(kind="procedure", target=target, text=ctx.text or call.sql())])


def _command(command: exp.Command, ctx: Context) -> Extracted:
    """Statements sqlglot keeps as raw commands: EXECUTE IMMEDIATE and CALL become calls, others a kind."""
    name = str(command.this or "").upper()
    expression = command.expression
    rest = expression.name if isinstance(expression, exp.Literal) else expression if isinstance(expression, str) else ""
    rest = rest.strip()
    text = ctx.text or f"{name} {rest}".strip()
    if name == "DECLARE":
        # ``DECLARE c CURSOR FOR SELECT ...`` (T-SQL, MySQL): the cursor's query is read.
        query = embedded_query(rest, ctx.dialect)
        result = Extracted(kind="declare")
        if query is not None:
            read_mentions(query, ctx, result)
        return result
    if name in ("EXECUTE", "EXEC") and rest.upper().startswith("IMMEDIATE"):
        return Extracted(kind="dynamic_sql", calls=[Call(kind="dynamic_sql", text=text)])
    if name in ("CALL", "EXECUTE", "EXEC"):
        procedure = rest.split("(", 1)[0].strip().split()
        if procedure:
            target = ".".join(part.strip('"[]`').lower() for part in procedure[0].split("."))
            return Extracted(kind="call", calls=[Call(kind="procedure", target=target, text=text)])
    if name == "UNLOAD":
        return unload(rest, ctx)
    if name == "REPLACE" and rest.upper().startswith("INTO"):
        # MySQL ``REPLACE INTO t ...`` writes like ``INSERT INTO t ...`` (replacing rows with equal keys).
        replaced = _replace_into(rest, ctx)
        if replaced is not None:
            return replaced
    if name == "TRUNCATE":
        truncated = truncate_command(rest, ctx)
        if truncated is not None:
            return truncated
    if name == "RENAME":
        renamed = rename_object(rest, ctx)
        if renamed is not None:
            return renamed
    altered = (partition_move(rest, ctx) or alter_command(rest, ctx)) if name == "ALTER" else None
    if altered is not None:
        return altered
    utility = utility_command(command)
    result = Extracted(kind=utility if utility and " " not in name else name.lower() or "command")
    if utility is None:
        # Never guess table names from raw text: say the statement was not read instead.
        result.warnings.append(f"{name or 'statement'} kept as an opaque command (no sqlglot parser); no lineage read")
    return result


def _replace_into(rest: str, ctx: Context) -> Extracted | None:
    """``REPLACE INTO ...`` read as the INSERT it is; ``None`` when that does not parse either."""
    # Imported here: statements dispatches to this module, so it cannot be imported at its top.
    from lineage_pipeline.parsing import statements

    try:
        insert = sqlglot_dialect(ctx.dialect).parse(f"INSERT {rest}")[0]
    except Exception:  # noqa: BLE001 - the statement stays an unread command, with its warning
        return None
    if not isinstance(insert, exp.Insert):
        return None
    result = statements.extract(insert, ctx)
    result.kind = "replace"
    return result


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


HANDLERS: Handlers = {exp.Execute: _execute, exp.ExecuteSql: _execute, exp.Command: _command, exp.Declare: _declare}
