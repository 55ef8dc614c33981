"""Static SQL text inside dynamic-SQL calls, when it is a plain string literal.

``EXEC('...')``, ``EXEC sp_executesql N'...'`` and ``EXECUTE IMMEDIATE '...'`` with a literal argument -
or with a variable last assigned a plain literal - run SQL the parser can read; anything built at run
time (concatenation, functions, parameters) stays opaque.
"""

from sqlglot.tokens import Token, TokenType

_STRING_TYPES = frozenset(t for t in TokenType if "STRING" in t.name)
_EXEC_WORDS = frozenset(("EXEC", "EXECUTE"))


def _is_string(token: Token) -> bool:
    return token.token_type in _STRING_TYPES


def dynamic_sql_literal(tokens: list[Token]) -> str | None:
    """The literal SQL a dynamic-SQL statement runs, or ``None`` if it is not a single string literal."""
    words = [token.text.upper() for token in tokens]
    if len(tokens) < 2 or words[0] not in _EXEC_WORDS:
        return None
    # EXEC ('...')
    if len(tokens) == 4 and tokens[1].token_type == TokenType.L_PAREN and _is_string(tokens[2]):
        return tokens[2].text if tokens[3].token_type == TokenType.R_PAREN else None
    # EXECUTE IMMEDIATE '...' [USING ... | INTO ...]
    if words[1] == "IMMEDIATE" and len(tokens) > 2 and _is_string(tokens[2]):
        return tokens[2].text if len(tokens) == 3 or words[3] in ("USING", "INTO") else None
    # EXEC [sys.|dbo.]sp_executesql [@stmt =] N'...' [, ...]
    if "SP_EXECUTESQL" in words[1:4]:
        position = words.index("SP_EXECUTESQL") + 1
        if position + 2 < len(tokens) and tokens[position].token_type == TokenType.PARAMETER:
            position += 3 if tokens[position + 2].token_type == TokenType.EQ else 0
        if position < len(tokens) and _is_string(tokens[position]):
            following = tokens[position + 1] if position + 1 < len(tokens) else None
            if following is None or following.token_type == TokenType.COMMA:
                return tokens[position].text
    return None


def _variable(tokens: list[Token], i: int) -> str | None:
    """``@name`` spelled by the tokens at ``i`` (sqlglot splits it into ``@`` and ``name``)."""
    if i + 1 >= len(tokens) or tokens[i].token_type != TokenType.PARAMETER:
        return None
    return "@" + tokens[i + 1].text.lower() if tokens[i + 1].start == tokens[i].end + 1 else None


def string_assignment(tokens: list[Token]) -> tuple[str, str | None] | None:
    """``DECLARE @v <type> = '...'`` / ``SET @v = '...'``: ``(@v, literal)``; ``(@v, None)`` when @v gets
    anything else (it is no longer a known literal); ``None`` for other statements."""
    if len(tokens) < 3 or tokens[0].text.upper() not in ("DECLARE", "SET"):
        return None
    name = _variable(tokens, 1)
    if name is None:
        return None
    equals = next((i for i, token in enumerate(tokens) if token.token_type == TokenType.EQ), None)
    if equals is None:
        return (name, None) if tokens[0].text.upper() == "SET" else None
    value = tokens[equals + 1 :]
    literal = value[0].text if len(value) == 1 and _is_string(value[0]) else None
    return name, literal


def dynamic_sql_variable(tokens: list[Token]) -> str | None:
    """The variable a dynamic-SQL call runs: ``EXEC (@v)`` / ``EXEC sp_executesql @v [, ...]``."""
    words = [token.text.upper() for token in tokens]
    if len(tokens) < 3 or words[0] not in _EXEC_WORDS:
        return None
    if tokens[1].token_type == TokenType.L_PAREN and len(tokens) == 5 and tokens[4].token_type == TokenType.R_PAREN:
        return _variable(tokens, 2)
    if "SP_EXECUTESQL" in words[1:4]:
        position = words.index("SP_EXECUTESQL") + 1
        name = _variable(tokens, position)
        following = tokens[position + 2] if position + 2 < len(tokens) else None
        if name is not None and (following is None or following.token_type == TokenType.COMMA):
            return name
    return None
