"""Normalized names: dialect case rules, quote stripping, temp/table-variable prefixes.

Unquoted identifiers are lower-cased. In a dialect that folds case (postgres: lower, snowflake/oracle:
upper) a quoted identifier keeps its exact spelling unless it equals the fold (``"ORDERS"`` in
snowflake is ``orders``); in case-insensitive dialects every name is lower-cased.
"""

from sqlglot import exp

_TEMP_PREFIXES = ("#", "@")


def identifier_name(node: exp.Expr | str | None, fold: str | None) -> str:
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


# Stand-ins for "no catalog"/"no schema" while qualifying (sqlglot's schema needs equal nesting
# depth for all tables); they are dropped again when a name is read back.
PLACEHOLDER_CATALOG = "__lineage_catalog__"
PLACEHOLDER_DB = "__lineage_db__"
_PLACEHOLDERS = (PLACEHOLDER_CATALOG, PLACEHOLDER_DB)


# Temp tables and table variables are spelled as plain identifiers while qualifying (sqlglot's schema
# cannot key ``#t`` or ``@t``) and turned back into ``#t``/``##t``/``@t`` when read back.
_TEMP_SPELLINGS = (("__lineage_gtemp__", "##"), ("__lineage_temp__", "#"), ("__lineage_var__", "@"))


def temp_identifier(name: str) -> str:
    """The plain identifier that stands for temp name ``name`` (``#t``, ``##t`` or ``@t``) during qualification."""
    for spelling, prefix in _TEMP_SPELLINGS:
        if name.startswith(prefix):
            return spelling + name[len(prefix) :]
    return name


def _part(node: exp.Expr | str | None, fold: str | None) -> str | None:
    # sqlglot stores the empty middle of T-SQL ``db..table`` as a bare string.
    text = node if isinstance(node, str) else (node.name if node is not None else "")
    if not text or text.lower() in _PLACEHOLDERS:
        return None
    return identifier_name(node, fold)


def table_name(table: exp.Table, fold: str | None) -> str | None:
    """``[catalog.]db.]name`` as far as written; ``#t``/``##t`` for temp tables, ``@t`` for table variables.

    Returns ``None`` when the node names no table (a table function, ``UNNEST``, a variable of another kind).
    """
    this = table.this
    if isinstance(this, exp.Parameter):
        return "@" + identifier_name(this.this, None)
    # Four-part names (``server.db.schema.table``) put the last two parts in a Dot.
    inner: list[str] = []
    if isinstance(this, exp.Dot) and all(isinstance(p, exp.Identifier) for p in this.flatten()):
        *leading, this = list(this.flatten())
        inner = [identifier_name(part, fold) for part in leading]
    if not isinstance(this, exp.Identifier):
        return None
    base = identifier_name(this, fold)
    for spelling, prefix in _TEMP_SPELLINGS:
        if base.startswith(spelling):
            return prefix + base[len(spelling) :]
    if this.args.get("global_"):
        return "##" + base
    if this.args.get("temporary") or base.startswith("#"):
        return base if base.startswith("#") else "#" + base
    catalog = _part(table.args.get("catalog"), fold)
    db = _part(table.args.get("db"), fold)
    # ``db..table`` (T-SQL default schema) keeps its empty middle part: the SQL does not say which schema.
    parts = [catalog, db or ""] if catalog else ([db] if db else [])
    parts += inner
    parts.append(base)
    return ".".join(parts)


def is_temp(name: str) -> bool:
    """True for ``#temp``, ``##global_temp`` and ``@table_variable`` names."""
    return name.startswith(_TEMP_PREFIXES)


def column_name(table: str, column: str) -> str:
    """A column's full name: its table name plus ``.column``."""
    return f"{table}.{column}"


def with_default_schema(name: str, schema: str) -> str:
    """Table ``name`` in ``schema`` when the SQL gave it no qualifier; temp names and qualified names as they are."""
    return name if "." in name or is_temp(name) else f"{schema}.{name}"


def column_with_default_schema(name: str, schema: str) -> str:
    """Column ``table.column`` with its table put in ``schema`` when unqualified (see ``with_default_schema``)."""
    table, _, column = name.rpartition(".")
    return f"{with_default_schema(table, schema)}.{column}" if table else name


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (keyword lists are kept as readable prose)."""
    return frozenset(text.split())
