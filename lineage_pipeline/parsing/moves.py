"""Rows moved by statements that are not INSERTs: Redshift UNLOAD and ``APPEND FROM``, partition exchange
and switch (Hive/Oracle ``EXCHANGE PARTITION``, T-SQL ``SWITCH``), Snowflake ``SWAP WITH``, file loads
(``LOAD DATA``, T-SQL ``BULK INSERT``).

A moved table's rows come whole from the other table: each target column derives directly from the
same-named source column when the target's columns are known, else ``target.* <- source.*``.
"""

import re

from sqlglot import exp
from sqlglot.tokens import TokenType

from lineage_pipeline.parsing.dialects import sqlglot_dialect
from lineage_pipeline.parsing.extraction import (
    Context,
    Extracted,
    Handlers,
    add_read,
    name_of,
    query_outputs,
    write,
)
from lineage_pipeline.parsing.models import Effect

NAME_PATTERN = r"(?:\[[^\]]+\]|\"[^\"]+\"|`[^`]+`|[\w$#@]+)(?:\s*\.\s*(?:\[[^\]]+\]|\"[^\"]+\"|`[^`]+`|[\w$#@]+))*"
# ``ALTER TABLE t EXCHANGE PARTITION (spec) WITH TABLE s``: the partition's rows come from s.
_EXCHANGE = re.compile(
    rf"^\s*TABLE\s+(?P<target>{NAME_PATTERN})\s+EXCHANGE\s+PARTITION\b.*?\bWITH\s+TABLE\s+(?P<source>{NAME_PATTERN})",
    re.IGNORECASE | re.DOTALL,
)
# Redshift ``ALTER TABLE t APPEND FROM s``: s's rows move to t (s is left empty).
_APPEND = re.compile(
    rf"^\s*TABLE\s+(?P<target>{NAME_PATTERN})\s+APPEND\s+FROM\s+(?P<source>{NAME_PATTERN})", re.IGNORECASE | re.DOTALL
)
# ``ALTER TABLE s SWITCH [PARTITION n] TO t [PARTITION m]``: s's rows move to t.
_SWITCH = re.compile(
    rf"^\s*TABLE\s+(?P<source>{NAME_PATTERN})\s+SWITCH\b(?:\s+PARTITION\s+\S+)?\s+TO\s+(?P<target>{NAME_PATTERN})",
    re.IGNORECASE | re.DOTALL,
)


def move_rows(result: Extracted, ctx: Context, source: str, target: str) -> None:
    """Record that ``target`` receives the rows of ``source`` (column for column)."""
    add_read(source, ctx, result)
    known = ctx.tables.columns_of(target) or ctx.tables.columns_of(source)
    if known:
        write(result, ctx, target, [(c, ctx.tables.column(source, c)) for c in known], None, False, False)
    else:
        write(result, ctx, target, [], ctx.tables.star(source), replace=False, defines=False)


def table_named(text: str, ctx: Context) -> str | None:
    """The normalized name of a table written as ``text`` (``[s].[t]``, ``"s"."t"``, ``s.t``), else ``None``."""
    try:
        return name_of(exp.to_table(text, dialect=sqlglot_dialect(ctx.dialect)), ctx)
    except Exception:  # noqa: BLE001 - an unreadable name is no name; the statement stays a plain ALTER
        return None


def partition_move(rest: str, ctx: Context) -> Extracted | None:
    """Lineage of an ``ALTER`` kept as a Command when it exchanges or switches partitions, else ``None``."""
    for pattern, detail in ((_EXCHANGE, "exchange_partition"), (_SWITCH, "switch_partition"), (_APPEND, "append")):
        match = pattern.match(rest)
        if match is None:
            continue
        source, target = table_named(match.group("source"), ctx), table_named(match.group("target"), ctx)
        if source is None or target is None:
            return None
        result = Extracted(kind="alter")
        move_rows(result, ctx, source, target)
        altered = source if pattern is _SWITCH else target
        result.effects.append(Effect(kind="alter", table=altered, detail=detail))
        return result
    return None


def swap(result: Extracted, ctx: Context, table: str, other: str) -> None:
    """Snowflake ``ALTER TABLE a SWAP WITH b``: each table now holds the other's rows."""
    move_rows(result, ctx, other, table)
    move_rows(result, ctx, table, other)


_BULK_INSERT = re.compile(rf"^\s*BULK\s+INSERT\s+(?P<table>{NAME_PATTERN})\s+FROM\b", re.IGNORECASE)


def bulk_insert(text: str, ctx: Context) -> Extracted | None:
    """T-SQL ``BULK INSERT t FROM 'file' WITH (...)``: ``t`` is loaded from a file (a target, no source)."""
    match = _BULK_INSERT.match(text)
    target = table_named(match.group("table"), ctx) if match else None
    if target is None:
        return None
    result = Extracted(kind="bulk_insert")
    write(result, ctx, target, [], None, replace=False, defines=False)
    return result


_LOAD_INTO = re.compile(rf"\bINTO\s+TABLE\s+(?P<table>{NAME_PATTERN})", re.IGNORECASE)


def load_data(load: exp.LoadData, ctx: Context) -> Extracted:
    """Hive/Spark/BigQuery ``LOAD DATA ... INTO [TABLE] t``: ``t`` is loaded from files."""
    result = Extracted(kind="load_data")
    target = name_of(load.this, ctx) if isinstance(load.this, exp.Table) else None
    if target is not None:
        write(result, ctx, target, [], None, replace=bool(load.args.get("overwrite")), defines=False)
    return result


def load_data_text(text: str, ctx: Context) -> Extracted | None:
    """MySQL ``LOAD DATA [LOCAL] INFILE 'f' INTO TABLE t``, which sqlglot cannot parse: ``t`` is a target."""
    match = _LOAD_INTO.search(text)
    target = table_named(match.group("table"), ctx) if match else None
    if target is None:
        return None
    result = Extracted(kind="load_data")
    write(result, ctx, target, [], None, replace=False, defines=False)
    return result


HANDLERS: Handlers = {exp.LoadData: load_data}


def unload(rest: str, ctx: Context) -> Extracted:
    """Redshift ``UNLOAD ('<query>') TO 's3://...'``: the query's tables are read (into files, no target)."""
    result = Extracted(kind="unload")
    resolved = sqlglot_dialect(ctx.dialect)
    strings = [token for token in resolved.tokenize(rest) if token.token_type == TokenType.STRING]
    if not strings:
        result.warnings.append("UNLOAD without a quoted query; its reads are unknown")
        return result
    try:
        query = resolved.parse(strings[0].text)[0]
    except Exception as error:  # noqa: BLE001
        result.warnings.append(f"UNLOAD query does not parse ({type(error).__name__}); its reads are unknown")
        return result
    if isinstance(query, exp.Query):
        query_outputs(query, ctx, result)
    return result
