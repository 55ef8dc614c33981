"""Normalized names: dialect case rules, quote stripping, temp/table-variable prefixes.

Unquoted identifiers are lower-cased. In a dialect that folds case (postgres: lower, snowflake/oracle:
upper) a quoted identifier keeps its exact spelling unless it equals the fold (``"ORDERS"`` in
snowflake is ``orders``); in case-insensitive dialects every name is lower-cased.
"""

from sqlglot import exp

TEMP_PREFIXES = ("#", "@")


def identifier_name(node: exp.Expression | str | None, fold: str | None) -> str:
    """Normalized text of one identifier part (``""`` when absent)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    text = node.name if not isinstance(node, exp.Identifier) else node.this
    if not isinstance(text, str):
        text = str(text)
    if fold and isinstance(node, exp.Identifier) and node.quoted:
        folded = text.lower() if fold == "lower" else text.upper()
        if text != folded:
            return text
    return text.lower()


def table_name(table: exp.Table, fold: str | None) -> str | None:
    """``[catalog.]db.]name`` as far as written; ``#t``/``##t`` for temp tables, ``@t`` for table variables.

    Returns ``None`` when the node names no table (a table function, ``UNNEST``, a variable of another kind).
    """
    this = table.this
    if isinstance(this, exp.Parameter):
        return "@" + identifier_name(this.this, None)
    if not isinstance(this, exp.Identifier):
        return None
    base = identifier_name(this, fold)
    if this.args.get("global_"):
        return "##" + base
    if this.args.get("temporary") or base.startswith("#"):
        return base if base.startswith("#") else "#" + base
    catalog = table.args.get("catalog")
    db = table.args.get("db")
    parts = [identifier_name(catalog, fold)] if catalog is not None and catalog.name else []
    if parts or (db is not None and db.name):
        parts.append(identifier_name(db, fold) if db is not None else "")
    parts.append(base)
    return ".".join(parts)


def is_temp(name: str) -> bool:
    """True for ``#temp``, ``##global_temp`` and ``@table_variable`` names."""
    return name.startswith(TEMP_PREFIXES)


def column_name(table: str, column: str) -> str:
    """A column's full name: its table name plus ``.column``."""
    return f"{table}.{column}"
