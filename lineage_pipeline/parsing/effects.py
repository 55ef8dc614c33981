"""DROP, TRUNCATE and ALTER/RENAME: effects on tables that are not lineage."""

import re

from sqlglot import exp

from lineage_pipeline.parsing.extraction import Context, Extracted, Handlers, name_of
from lineage_pipeline.parsing.models import Effect
from lineage_pipeline.parsing.moves import NAME_PATTERN, swap, table_named


def _drop(drop: exp.Drop, ctx: Context) -> Extracted:
    """DROP TABLE/VIEW/...: effects; dropping a temp table forgets its lineage."""
    kind = (drop.args.get("kind") or "").lower()
    result = Extracted(kind=f"drop_{kind}" if kind else "drop")
    for table in drop.find_all(exp.Table):
        name = name_of(table, ctx)
        if name is None:
            continue
        if ctx.tables.is_temp(name):
            ctx.tables.drop_temp(name)
            result.temp_tables.add(name)
        else:
            result.effects.append(Effect(kind="drop", table=name, detail=kind or None))
    return result


def _truncate(truncate: exp.TruncateTable, ctx: Context) -> Extracted:
    """TRUNCATE: effects; truncating a temp table empties its recorded lineage."""
    result = Extracted(kind="truncate")
    for table in truncate.expressions:
        if not isinstance(table, exp.Table):
            continue
        name = name_of(table, ctx)
        if name is None:
            continue
        if ctx.tables.is_temp(name):
            ctx.tables.define_temp(name, list(ctx.tables.columns_of(name) or ()))
            result.temp_tables.add(name)
        else:
            result.effects.append(Effect(kind="truncate", table=name))
    return result


def _alter(alter: exp.Alter, ctx: Context) -> Extracted:
    """ALTER: a rename is ``Effect(rename, old, new)``, anything else ``Effect(alter, table, action)``."""
    result = Extracted(kind="alter")
    table = alter.this
    name = name_of(table, ctx) if isinstance(table, exp.Table) else None
    if name is None or ctx.tables.is_temp(name):
        return result
    for action in alter.args.get("actions") or []:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new = name_of(action.this, ctx)
            # ``ALTER TABLE s.a RENAME TO b`` keeps the schema of the old name.
            if new and "." not in new and "." in name:
                new = name.rsplit(".", 1)[0] + "." + new
            result.effects.append(Effect(kind="rename", table=name, detail=new))
        elif isinstance(action, exp.SwapTable) and isinstance(action.this, exp.Table):
            other = name_of(action.this, ctx)
            if other:
                swap(result, ctx, name, other)
            result.effects.append(Effect(kind="alter", table=name, detail="swaptable"))
        else:
            # ``ADD COLUMNS (a, b)`` (Hive/Spark) and Oracle's ``ADD (a)`` are column definitions too.
            columns = isinstance(action, exp.Schema) and all(isinstance(e, exp.ColumnDef) for e in action.expressions)
            result.effects.append(Effect(kind="alter", table=name, detail="columndef" if columns else action.key))
    if not result.effects:
        result.effects.append(Effect(kind="alter", table=name))
    return result


_ALTER_TABLE = re.compile(
    rf"^\s*TABLE\s+(?P<table>{NAME_PATTERN})\s+(?:WITH\s+(?:NO)?CHECK\s+)?(?P<action>\w+)", re.IGNORECASE
)
_RENAME_OBJECT = re.compile(
    rf"^\s*(?:(?:OBJECT|TABLE)\s*(?:::)?\s*)?(?P<old>{NAME_PATTERN})\s+TO\s+(?P<new>{NAME_PATTERN})\s*$", re.IGNORECASE
)


def alter_command(rest: str, ctx: Context) -> Extracted | None:
    """An ``ALTER TABLE t <action> ...`` sqlglot kept as a Command (``CHECK CONSTRAINT``, ``ADD CONSTRAINT
    df DEFAULT (0) FOR c``): ``Effect(alter, t, action)``; ``None`` when it is not an ALTER TABLE or
    renames something (that must not pass unread)."""
    match = _ALTER_TABLE.match(rest)
    if match is None or re.search(r"\bRENAME\b", rest, re.IGNORECASE):
        return None
    table = table_named(match.group("table"), ctx)
    if table is None or ctx.tables.is_temp(table):
        return Extracted(kind="alter") if table else None
    return Extracted(kind="alter", effects=[Effect(kind="alter", table=table, detail=match.group("action").lower())])


_TRUNCATE_TABLE = re.compile(rf"^\s*(?:TABLE\s+)?(?P<table>{NAME_PATTERN})", re.IGNORECASE)


def truncate_command(rest: str, ctx: Context) -> Extracted | None:
    """A ``TRUNCATE TABLE t <options>`` sqlglot kept as a Command (Oracle ``DROP STORAGE``): the truncate effect."""
    match = _TRUNCATE_TABLE.match(rest)
    table = table_named(match.group("table"), ctx) if match else None
    if table is None:
        return None
    result = Extracted(kind="truncate")
    if ctx.tables.is_temp(table):
        result.temp_tables.add(table)
    else:
        result.effects.append(Effect(kind="truncate", table=table))
    return result


def rename_object(rest: str, ctx: Context) -> Extracted | None:
    """Synapse/Fabric ``RENAME OBJECT [::] s.old TO new`` and MySQL ``RENAME TABLE s.old TO s.new``:
    ``Effect(rename, s.old, new)`` like sp_rename."""
    match = _RENAME_OBJECT.match(rest)
    old = table_named(match.group("old"), ctx) if match else None
    new = table_named(match.group("new"), ctx) if match else None
    if old is None or new is None:
        return None
    return Extracted(kind="rename", effects=[Effect(kind="rename", table=old, detail=new)])


HANDLERS: Handlers = {exp.Drop: _drop, exp.TruncateTable: _truncate, exp.Alter: _alter}
