"""T-SQL token rewrites applied before sqlglot parses a DML statement.

Drops what sqlglot 30 cannot parse (or misparses) and lineage does not need - ``TOP (n)`` right after
UPDATE/DELETE/INSERT and table hints after the INSERT target - and cuts an ``OUTPUT ... [INTO t]``
clause out, returning ``INSERT INTO t SELECT <items>`` so it can be read as a write of its own.
"""

from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

_DML = frozenset(("UPDATE", "DELETE", "INSERT", "MERGE"))
# Where an OUTPUT clause ends: the next clause of its statement.
_OUTPUT_END = frozenset(("FROM", "WHERE", "SELECT", "VALUES", "DEFAULT", "EXEC", "EXECUTE", "OPTION", "WITH"))
_NAME_TYPES = frozenset((TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT, TokenType.HASH, TokenType.PARAMETER))


@dataclass(frozen=True)
class Rewritten:
    """Statement text to parse instead, and ``INSERT INTO t SELECT ...`` for an OUTPUT ... INTO clause."""

    sql: str
    output_into: str | None = None


def _word(token: Token) -> str:
    return token.text.upper() if token.token_type not in (TokenType.STRING, TokenType.IDENTIFIER) else ""


def _group_end(tokens: list[Token], i: int) -> int:
    """Index just past the parenthesized group opening at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[j].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def _top_span(tokens: list[Token]) -> tuple[int, int] | None:
    if len(tokens) < 3 or _word(tokens[1]) != "TOP":
        return None
    end = _group_end(tokens, 2) if tokens[2].token_type == TokenType.L_PAREN else 3
    if end < len(tokens) and _word(tokens[end]) == "PERCENT":
        end += 1
    return 1, end


def _insert_hint_span(tokens: list[Token]) -> tuple[int, int] | None:
    i = 1
    if i < len(tokens) and _word(tokens[i]) == "INTO":
        i += 1
    while i < len(tokens) and tokens[i].token_type in _NAME_TYPES and _word(tokens[i]) != "WITH":
        i += 1
    if i + 1 < len(tokens) and _word(tokens[i]) == "WITH" and tokens[i + 1].token_type == TokenType.L_PAREN:
        return i, _group_end(tokens, i + 1)
    return None


def _output_span(tokens: list[Token]) -> tuple[int, int, int | None] | None:
    """``(start, end, into)`` token positions of a depth-0 OUTPUT clause (``into`` = its INTO keyword)."""
    depth = 0
    start = into = None
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and start is None and _word(token) == "OUTPUT":
            start = i
        elif depth == 0 and start is not None:
            word = _word(token)
            if word == "INTO" and into is None:
                into = i
            elif word in _OUTPUT_END and (into is None or i > into + 1):
                return start, i, into
    return (start, len(tokens), into) if start is not None else None


def rewrite_dml(tokens: list[Token], sql: str) -> Rewritten | None:
    """The rewritten statement, or ``None`` when the tokens need no rewrite."""
    if not tokens or _word(tokens[0]) not in _DML:
        return None
    spans: list[tuple[int, int]] = []
    top = _top_span(tokens) if _word(tokens[0]) != "MERGE" else None
    if top:
        spans.append(top)
    hint = _insert_hint_span(tokens) if _word(tokens[0]) == "INSERT" else None
    if hint:
        spans.append(hint)
    text = sql[tokens[0].start : tokens[-1].end + 1]
    output = _output_span(tokens) if "OUTPUT" in text.upper() else None
    output_into = None
    if output:
        start, end, into = output
        spans.append((start, end))
        if into is not None and into + 1 < end:
            items = sql[tokens[start + 1].start : tokens[into - 1].end + 1].replace("$action", "NULL")
            target = sql[tokens[into + 1].start : tokens[end - 1].end + 1]
            output_into = f"INSERT INTO {target} SELECT {items}"
    if not spans:
        return None
    pieces = []
    position = tokens[0].start
    for start, end in sorted(spans):
        pieces.append(sql[position : tokens[start].start])
        position = tokens[end - 1].end + 1 if end > start else tokens[start].start
    pieces.append(sql[position : tokens[-1].end + 1])
    return Rewritten(" ".join(piece.strip() for piece in pieces if piece.strip()), output_into)


def merge_delete_span(tokens: list[Token]) -> tuple[int, int] | None:
    """Token span of Oracle's ``DELETE WHERE <condition>`` clause of a MERGE (after UPDATE SET), up to
    the next ``WHEN``; sqlglot cannot parse it and it carries no column lineage."""
    if not tokens or _word(tokens[0]) != "MERGE":
        return None
    depth = 0
    start = None
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and start is None and _word(token) == "DELETE" and i + 1 < len(tokens):
            if _word(tokens[i + 1]) == "WHERE" and _word(tokens[i - 1]) != "THEN":
                start = i
        elif depth == 0 and start is not None and _word(token) == "WHEN":
            return start, i
    return (start, len(tokens)) if start is not None else None


def drop_span(tokens: list[Token], sql: str, span: tuple[int, int]) -> str:
    """The statement text without the tokens of ``span``."""
    start, end = span
    head = sql[tokens[0].start : tokens[start].start]
    tail = sql[tokens[end].start : tokens[-1].end + 1] if end < len(tokens) else ""
    return f"{head.rstrip()} {tail.lstrip()}".strip()


# T-SQL compound assignment operators (``SET col += x``), tokenized as the operator then ``=``.
_COMPOUND_OPERATORS = frozenset(
    (
        TokenType.PLUS,
        TokenType.DASH,
        TokenType.STAR,
        TokenType.SLASH,
        TokenType.MOD,
        TokenType.PIPE,
        TokenType.AMP,
        TokenType.CARET,
    )
)
_ASSIGNEE_TYPES = frozenset((TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT, TokenType.PARAMETER))
_DDL_HEADS = frozenset(("CREATE", "ALTER", "DECLARE"))  # DECLARE @t TABLE (...) is DDL too
# After ``ON scheme(``: a storage clause, unlike ``ON DELETE``/``ON UPDATE`` of a foreign key.
_NOT_STORAGE = frozenset(("DELETE", "UPDATE", "COMMIT"))
_COLUMN_ATTRIBUTES = frozenset(("SPARSE", "ROWGUIDCOL", "FILESTREAM"))


def _compound_edits(tokens: list[Token], sql: str) -> list[tuple[int, int, str]]:
    """``x op= v`` -> ``x = x op v`` (lineage of ``x`` is the same whatever the precedence)."""
    edits = []
    for i in range(1, len(tokens) - 1):
        op, eq = tokens[i], tokens[i + 1]
        if op.token_type not in _COMPOUND_OPERATORS or eq.token_type != TokenType.EQ or op.end + 1 != eq.start:
            continue
        start = i
        while start > 0 and tokens[start - 1].token_type in _ASSIGNEE_TYPES:
            start -= 1
        if start == i:
            continue
        assignee = sql[tokens[start].start : tokens[i - 1].end + 1]
        edits.append((op.start, eq.end + 1, f"= {assignee} {op.text}"))
    return edits


def _storage_edits(tokens: list[Token], sql: str) -> list[tuple[int, int, str]]:
    """Drop what sqlglot cannot parse and lineage does not need in T-SQL DDL: ``MASKED WITH (FUNCTION =
    '...')``, ``ON scheme(column)`` placing a table, index or constraint on a partition scheme,
    ``TEXTIMAGE_ON``/``FILESTREAM_ON`` filegroups, the column attributes ``SPARSE``/``ROWGUIDCOL``/
    ``FILESTREAM``, a ``COLUMN_SET FOR ALL_SPARSE_COLUMNS`` column, an index declared inline on a column,
    the index kind of a column's own ``PRIMARY KEY CLUSTERED`` and the ``HASH ... WITH (BUCKET_COUNT = n)``
    of memory-optimized indexes."""
    edits = []
    depth = 0
    for i, token in enumerate(tokens):
        word = _word(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if word == "MASKED" and nxt is not None and _word(nxt) == "WITH":
            if i + 2 < len(tokens) and tokens[i + 2].token_type == TokenType.L_PAREN:
                edits.append((token.start, tokens[_group_end(tokens, i + 2) - 1].end + 1, ""))
        elif (
            word == "ON"
            and i > 0
            and tokens[i - 1].token_type == TokenType.R_PAREN
            and i + 2 < len(tokens)
            and tokens[i + 1].token_type in (TokenType.VAR, TokenType.IDENTIFIER)
            and _word(tokens[i + 1]) not in _NOT_STORAGE
            and tokens[i + 2].token_type == TokenType.L_PAREN
        ):
            edits.append((token.start, tokens[_group_end(tokens, i + 2) - 1].end + 1, ""))
        elif word in ("TEXTIMAGE_ON", "FILESTREAM_ON") and nxt is not None:
            edits.append((token.start, nxt.end + 1, ""))
        elif word in _COLUMN_ATTRIBUTES and depth > 0 and tokens[i - 1].token_type != TokenType.COMMA:
            edits.append((token.start, token.end + 1, ""))
        elif word == "COLUMN_SET" and i + 2 < len(tokens) and _word(tokens[i + 2]) == "ALL_SPARSE_COLUMNS":
            # ``cs XML COLUMN_SET FOR ALL_SPARSE_COLUMNS``: a view over the sparse columns, no data of its own.
            edits.append((token.start, tokens[i + 2].end + 1, ""))
        elif word == "INDEX" and depth == 1 and tokens[i - 1].token_type == TokenType.COMMA:
            # A table-level ``, INDEX ix [NONCLUSTERED] (a, b)``: sqlglot reads it as a column named INDEX.
            end, level = i + 1, 1
            while end < len(tokens):
                level += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[end].token_type, 0)
                if level == 0 or (level == 1 and tokens[end].token_type == TokenType.COMMA):
                    break
                end += 1
            edits.append((tokens[i - 1].start, tokens[end - 1].end + 1, ""))
        elif word == "INDEX" and depth > 0 and tokens[i - 1].token_type not in (TokenType.COMMA, TokenType.L_PAREN):
            # ``b INT INDEX ix NONCLUSTERED``: an index declared on the column (the table-level form parses).
            end = i + 2
            while end < len(tokens) and _word(tokens[end]) in ("CLUSTERED", "NONCLUSTERED"):
                end += 1
            edits.append((token.start, tokens[end - 1].end + 1, ""))
        elif (
            word in ("CLUSTERED", "NONCLUSTERED")
            and i > 0
            and _word(tokens[i - 1]) in ("KEY", "PRIMARY KEY", "UNIQUE")
            and (nxt is None or nxt.token_type != TokenType.L_PAREN)
        ):
            # A column's own ``PRIMARY KEY CLUSTERED``: sqlglot wants a column list after the index kind.
            edits.append((token.start, token.end + 1, ""))
        elif word == "HASH" and i > 0 and _word(tokens[i - 1]) in ("CLUSTERED", "NONCLUSTERED"):
            end = _group_end(tokens, i + 1) if nxt is not None and nxt.token_type == TokenType.L_PAREN else i + 1
            edits.append((token.start, token.end + 1, ""))
            if end + 1 < len(tokens) and _word(tokens[end]) == "WITH" and tokens[end + 1].token_type == TokenType.L_PAREN:
                edits.append((tokens[end].start, tokens[_group_end(tokens, end + 1) - 1].end + 1, ""))
    return edits


_INDEX_OPTIONS = frozenset(("CLUSTERED", "PARTITION"))


def _table_option_edits(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """Synapse/Fabric ``CREATE TABLE t ... WITH (DISTRIBUTION = ..., CLUSTERED COLUMNSTORE INDEX,
    PARTITION (...))``: sqlglot parses the distribution but not the index or partition options, which
    carry no lineage; the whole option group goes when it holds one of them."""
    if len(tokens) < 3 or _word(tokens[0]) != "CREATE" or _word(tokens[1]) != "TABLE":
        return []
    depth = 0
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and _word(token) == "SELECT":
            return []
        elif depth == 0 and _word(token) == "WITH" and i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN:
            end = _group_end(tokens, i + 1)
            level = 0
            for inner in tokens[i + 1 : end]:
                level += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(inner.token_type, 0)
                if level == 1 and _word(inner) in _INDEX_OPTIONS:
                    return [(token.start, tokens[end - 1].end + 1, "")]
            return []
    return []


def _xmlnamespaces_edits(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """``WITH XMLNAMESPACES (...) [, cte AS (...)] SELECT``: the namespaces only name XML prefixes."""
    if len(tokens) < 3 or _word(tokens[0]) != "WITH" or _word(tokens[1]) != "XMLNAMESPACES":
        return []
    if tokens[2].token_type != TokenType.L_PAREN:
        return []
    end = _group_end(tokens, 2)
    if end < len(tokens) and tokens[end].token_type == TokenType.COMMA:
        return [(tokens[0].start, tokens[end].end + 1, "WITH")]
    return [(tokens[0].start, tokens[end - 1].end + 1, "")]


def rewrite_tsql(tokens: list[Token], sql: str) -> str | None:
    """The statement's text with T-SQL constructs sqlglot 30 cannot parse made parseable (compound
    assignments, ``WITH XMLNAMESPACES``, storage clauses of DDL), or ``None`` when there are none.

    Upstream, sqlglot's T-SQL parser would take ``op=`` in SET (as ``EQ(x, op(x, v))``), ``MASKED WITH``
    as a column constraint and a partition-scheme ``ON`` as a storage property.
    """
    if not tokens:
        return None
    edits = _compound_edits(tokens, sql) + _xmlnamespaces_edits(tokens)
    if _word(tokens[0]) in _DDL_HEADS:
        edits += _storage_edits(tokens, sql) + _table_option_edits(tokens)
    if not edits:
        return None
    pieces = []
    position = tokens[0].start
    for start, end, replacement in sorted(edits):
        if start < position:
            continue
        pieces.append(sql[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(sql[position : tokens[-1].end + 1])
    return "".join(pieces)


def _athena_hive_statement(tokens: list[Token]) -> bool:
    """Whether sqlglot's Athena dialect tokenizes this statement as Hive (mirrors its routing rule)."""
    first = _word(tokens[0])
    second = _word(tokens[1]) if len(tokens) > 1 else ""
    if first in ("DESCRIBE", "SHOW", "MSCK"):
        return True
    if first not in ("CREATE", "ALTER", "DROP"):
        return False
    if second in ("DATABASE", "EXTERNAL", "SCHEMA"):
        return True
    return second != "VIEW" and all(_word(token) != "SELECT" for token in tokens[2:])


def athena_backticks(tokens: list[Token], sql: str) -> str | None:
    """Athena DML with Hive-style `backtick` names (Athena runs it; sqlglot reads Athena DML as Trino,
    which has no backticks): the statement with each backticked name double-quoted, else ``None``.
    Statements sqlglot reads as Hive (DDL without a query, SHOW, DESCRIBE) are left alone."""
    if not tokens or _athena_hive_statement(tokens):
        return None
    # Depending on how the file tokenized, a backticked name is one IDENTIFIER token or the text
    # between two lone backtick symbols.
    spans = [(t.start, t.end) for t in tokens if t.token_type == TokenType.IDENTIFIER and sql[t.start] == "`"]
    ticks = [t for t in tokens if t.text == "`" and t.token_type not in (TokenType.STRING, TokenType.IDENTIFIER)]
    # An odd last backtick has no partner: it is left as it is.
    spans += [(opening.start, closing.end) for opening, closing in zip(ticks[::2], ticks[1::2], strict=False)]
    if not spans:
        return None
    pieces = []
    position = tokens[0].start
    for start, end in sorted(spans):
        name = sql[start + 1 : end]
        pieces.append(sql[position:start])
        pieces.append('"' + name.replace('"', '""') + '"')
        position = end + 1
    pieces.append(sql[position : tokens[-1].end + 1])
    return "".join(pieces)


def trailing_with_data(tokens: list[Token], sql: str) -> str | None:
    """Postgres ``CREATE MATERIALIZED VIEW v AS SELECT ... WITH [NO] DATA``: the statement without its
    final ``WITH [NO] DATA`` (whether rows are filled now is no lineage; sqlglot rejects it on views)."""
    if len(tokens) < 4 or _word(tokens[0]) != "CREATE" or _word(tokens[-1]) != "DATA":
        return None
    start = len(tokens) - 2 if _word(tokens[-2]) == "WITH" else len(tokens) - 3
    if start < 1 or _word(tokens[start]) != "WITH" or (start == len(tokens) - 3 and _word(tokens[-2]) != "NO"):
        return None
    return sql[tokens[0].start : tokens[start - 1].end + 1]


def clickhouse_mutation(tokens: list[Token], sql: str) -> str | None:
    """ClickHouse ``ALTER TABLE t UPDATE a = x WHERE c`` / ``ALTER TABLE t DELETE WHERE c`` as the
    ``UPDATE t SET a = x WHERE c`` / ``DELETE FROM t WHERE c`` they are, else ``None``."""
    if len(tokens) < 5 or _word(tokens[0]) != "ALTER" or _word(tokens[1]) != "TABLE":
        return None
    for i in range(2, len(tokens)):
        word = _word(tokens[i])
        if word in ("UPDATE", "DELETE") and tokens[i - 1].token_type in _NAME_TYPES:
            table = sql[tokens[2].start : tokens[i - 1].end + 1]
            rest = sql[tokens[i + 1].start : tokens[-1].end + 1] if i + 1 < len(tokens) else ""
            return f"UPDATE {table} SET {rest}" if word == "UPDATE" else f"DELETE FROM {table} {rest}"
        if tokens[i].token_type not in _NAME_TYPES:
            return None
    return None
