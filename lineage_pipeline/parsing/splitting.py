"""Split SQL text into single statements, flattening scripts: batches, blocks, control flow, procedure bodies.

Works on the dialect's tokens, so strings and comments never split anything. A statement ends at ``;``,
at a T-SQL ``GO`` line (or an Oracle ``/`` line), at a block keyword (``BEGIN``/``END``/``ELSE``/
``BEGIN TRY``...) or where a new statement keyword starts at nesting depth 0 and cannot continue the
current statement (T-SQL lets statements run together without ``;``). ``IF``/``WHILE`` conditions and
procedure headers are dropped; a procedure's statements are those of its body, tagged with its name.
"""

import re
import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache

from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, Tokenizer, TokenType

from lineage_pipeline.parsing.dialects import folds_case, sqlglot_dialect
from lineage_pipeline.parsing.models import ParseIssue
from lineage_pipeline.parsing.names import identifier_name, word_set


@dataclass(frozen=True)
class Chunk:
    """One statement's tokens, the text their offsets index into, and its 1-based line in the file."""

    tokens: list[Token]
    sql: str
    line: int
    procedure: str | None = None
    batch: int = 0  # T-SQL batch (GO-separated) number: variables live within one batch
    in_body: bool = False  # inside a routine or procedural block body (where SELECT INTO sets variables)
    trigger_table: str | None = None  # the table of the trigger whose body holds this statement


_LITERAL_TYPES = frozenset(
    t for t in TokenType if "STRING" in t.name or t in (TokenType.IDENTIFIER, TokenType.NUMBER)
)
# A word right after one of these is a name (``@update``, ``t.end``, ``#begin``), never a keyword.
_NAME_PREFIXES = frozenset((TokenType.PARAMETER, TokenType.DOT, TokenType.HASH))

_STARTERS = word_set(
    """SELECT INSERT UPDATE DELETE MERGE CREATE DROP ALTER TRUNCATE WITH DECLARE SET PRINT EXEC EXECUTE
    USE GRANT REVOKE DENY RAISERROR THROW RETURN OPEN FETCH CLOSE DEALLOCATE WAITFOR BREAK CONTINUE
    GOTO CALL COPY UNLOAD COMMIT ROLLBACK SAVE BULK REPLACE UPSERT VACUUM ANALYZE OPTIMIZE REFRESH
    MSCK CACHE UNCACHE EXPLAIN LET RAISE LEAVE ITERATE SIGNAL REVERT"""
)
# Statement keywords that continue the statement after these words (``ON DELETE``, ``CREATE OR
# REPLACE``, ``FOR UPDATE``, trigger events, ``OFFSET .. ROWS FETCH``, ``FOR EACH ROW EXECUTE``,
# ``ON CONFLICT DO UPDATE``, ``ON DUPLICATE KEY UPDATE``).
_ATTACHING_PREVIOUS = {
    "ON": frozenset(("DELETE", "UPDATE", "INSERT", "COMMIT")),
    "DO": frozenset(("UPDATE",)),
    "KEY": frozenset(("UPDATE",)),
    "OR": frozenset(("REPLACE", "ALTER", "REFRESH")),  # Databricks ``CREATE OR REFRESH STREAMING TABLE``
    "FOR": frozenset(("UPDATE", "INSERT", "DELETE", "SELECT")),
    "OF": frozenset(("INSERT", "UPDATE", "DELETE")),
    "AFTER": frozenset(("INSERT", "UPDATE", "DELETE")),
    "BEFORE": frozenset(("INSERT", "UPDATE", "DELETE")),
    "INSTEAD": frozenset(("INSERT", "UPDATE", "DELETE")),
    "ROWS": frozenset(("FETCH",)),
    "ROW": frozenset(("FETCH", "EXECUTE")),
    "STATEMENT": frozenset(("EXECUTE",)),
    "CHARACTER": frozenset(("SET",)),
    "AUTO": frozenset(("REFRESH",)),  # Redshift ``CREATE MATERIALIZED VIEW v AUTO REFRESH YES AS``
    "VACUUM": frozenset(("DELETE",)),  # Redshift ``VACUUM DELETE ONLY t``
}
_SET_OPERATORS = word_set("UNION ALL DISTINCT EXCEPT INTERSECT MINUS AS FOR")
_PERMISSION_HEADS = frozenset(("GRANT", "REVOKE", "DENY"))
_WHOLE_HEADS = _PERMISSION_HEADS | frozenset(("EXPLAIN", "SHOW", "DESCRIBE", "DESC"))
_OBJECT_WORDS = word_set(
    """TABLE VIEW PROCEDURE PROC FUNCTION SCHEMA DATABASE TRIGGER SEQUENCE TYPE SYNONYM MATERIALIZED
    OR UNIQUE CLUSTERED NONCLUSTERED TEMP TEMPORARY GLOBAL LOCAL TRANSIENT VOLATILE EXTERNAL STAGE
    STREAM TASK ROLE USER LOGIN EXTENSION INDEX"""
)
# ``WITH <word> AS`` that is an option, not a CTE (``CREATE VIEW v WITH SCHEMABINDING AS``).
_WITH_OPTIONS = word_set(
    """SCHEMABINDING ENCRYPTION VIEW_METADATA RECOMPILE EXECUTE NATIVE_COMPILATION CHECK TIES ROLLUP
    CUBE NOLOCK NO DATA LOCAL CASCADED GRANT ORDINALITY OFFSET TIME RETURNS"""
)
_ROUTINE_WORDS = frozenset(("PROCEDURE", "PROC", "FUNCTION", "TRIGGER"))
_END_SUFFIXES = word_set("TRY CATCH IF LOOP WHILE REPEAT FOR CASE FUNCTION PROCEDURE")
_TRANSACTION_WORDS = frozenset(("TRAN", "TRANSACTION", "DISTRIBUTED", "WORK"))
_DDL_BEFORE_IF = word_set(
    """TABLE VIEW EXISTS NOT PROCEDURE PROC FUNCTION INDEX SCHEMA DATABASE TRIGGER SEQUENCE TYPE USER
    ROLE COLUMN CONSTRAINT STATISTICS SYNONYM STAGE STREAM TASK"""
)
_GO_DIALECTS = frozenset(("tsql", "fabric"))
_SLASH_DIALECTS = frozenset(("oracle",))
# Procedural dialects whose blocks open with a declaration section (``DECLARE x INT; BEGIN ... END``).
_DECLARE_SECTION_DIALECTS = frozenset(("postgres", "redshift", "oracle", "snowflake"))
# Where a script may start with such a block (``DECLARE ... BEGIN ... END;``) outside any routine.
_ANONYMOUS_BLOCK_DIALECTS = frozenset(("oracle", "snowflake"))
# Bodies in these languages are not SQL; they are skipped, not parsed.
_SQL_LANGUAGES = frozenset(("SQL", "PLPGSQL", "TSQL"))

# Every word ``_Splitter.keyword`` acts on at nesting depth 0; any other word just extends the statement.
_SIGNAL_WORDS = (
    word_set("CASE END BEGIN ELSE ELSIF ELSEIF LOOP THEN DO REPEAT EXCEPTION IF WHILE FOR DECLARE RETURN")
    | _STARTERS
    | _ROUTINE_WORDS
)
# Token types tested for every token, bound once: an enum attribute lookup costs ten times a global's.
_SEMICOLON = TokenType.SEMICOLON
_SLASH = TokenType.SLASH
_L_PAREN = TokenType.L_PAREN
_R_PAREN = TokenType.R_PAREN
_PARENS = frozenset((_L_PAREN, _R_PAREN))

_COARSE_SPLIT = re.compile(r";[ \t]*(?:\r?\n|$)|^[ \t]*go[ \t]*\d*[ \t]*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class _State:
    """What the splitter knows about the statement being collected."""

    tokens: list[Token] = field(default_factory=list)
    head: str | None = None
    role: str = "statement"  # "statement", "condition" (IF/WHILE), "header" (routine), "declarations"
    has_query: bool = False
    set_seen: bool = False
    cte_open: bool = False  # a WITH list was read; its main statement keyword is still to come
    case_depth: int = 0
    prev_word: str | None = None
    routine_words: bool = False
    loop_query: bool = False  # the query of ``FOR r IN SELECT ... LOOP``: LOOP ends it


def _line_index(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _words(tokens: list[Token]) -> list[str | None]:
    """Per token, the upper-cased word it spells, or ``None`` for literals, symbols and names glued to a
    ``@``/``.``/``#`` prefix. One loop over all tokens: the walk asks for the word of nearly every token."""
    words: list[str | None] = []
    previous_type = None
    previous_end = -2
    for token in tokens:
        kind = token.token_type
        text = token.text
        initial = text[:1]
        if (
            (initial.isalpha() or initial == "_")
            and kind not in _LITERAL_TYPES
            and not (previous_type in _NAME_PREFIXES and previous_end + 1 == token.start)
        ):
            words.append(text.upper())
        else:
            words.append(None)
        previous_type = kind
        previous_end = token.end
    return words


def _next_type(tokens: list[Token], i: int) -> TokenType | None:
    return tokens[i + 1].token_type if i + 1 < len(tokens) else None


def _starts_line(tokens: list[Token], i: int, sql: str) -> bool:
    return i == 0 or "\n" in sql[tokens[i - 1].end + 1 : tokens[i].start]


def _ends_line(tokens: list[Token], i: int, sql: str) -> bool:
    return i + 1 >= len(tokens) or "\n" in sql[tokens[i].end + 1 : tokens[i + 1].start]


def _separator_line(tokens: list[Token], i: int, sql: str, dialect: str, word: str | None) -> int:
    """Number of tokens forming a ``GO [n]`` or ``/`` batch separator line at ``i`` (0 if none)."""
    if dialect in _GO_DIALECTS and word == "GO" and _starts_line(tokens, i, sql):
        if _ends_line(tokens, i, sql):
            return 1
        if tokens[i + 1].token_type == TokenType.NUMBER and _ends_line(tokens, i + 1, sql):
            return 2
    if (
        dialect in _SLASH_DIALECTS
        and tokens[i].token_type == TokenType.SLASH
        and _starts_line(tokens, i, sql)
        and _ends_line(tokens, i, sql)
    ):
        return 1
    return 0


def _is_cte_start(tokens: list[Token], i: int) -> bool:
    """``WITH name AS (`` / ``WITH name (cols) AS`` / ``WITH RECURSIVE``, not a table hint or option."""
    if i + 2 >= len(tokens):
        return False
    nxt = tokens[i + 1]
    after = tokens[i + 2]
    if nxt.text.upper() == "RECURSIVE":
        return True
    if nxt.token_type in (TokenType.L_PAREN, TokenType.R_PAREN) or nxt.text.upper() in _WITH_OPTIONS:
        return False
    if after.token_type != TokenType.L_PAREN:
        return after.text.upper() == "AS"
    # ``WITH c (x, y) AS (`` names a CTE's columns; ``WITH TAG (k = 'v')`` (Snowflake) is an option.
    depth = 0
    for j in range(i + 2, len(tokens)):
        if tokens[j].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[j].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                # ``... AS (`` / ``AS [NOT] MATERIALIZED (`` opens the CTE's query; a view's ``AS SELECT`` does not.
                following = [token.text.upper() for token in tokens[j + 1 : j + 3]]
                return following[:1] == ["AS"] and following[1:2] in (["("], ["MATERIALIZED"], ["NOT"])
    return False


def _continues(state: _State, word: str, tokens: list[Token], i: int, dialect: str = "") -> bool:
    """True when statement keyword ``word`` at depth 0 belongs to the statement being collected."""
    head, prev = state.head, state.prev_word
    prev_token = tokens[i - 1] if i else None
    nxt = tokens[i + 1].text.upper() if i + 1 < len(tokens) else ""
    # ``SET NOCOUNT ON`` ends with its ON: the INSERT/UPDATE/DELETE after it is a new statement.
    # ``EXPLAIN [ANALYZE] SELECT ...``, ``SHOW CREATE TABLE`` and a GRANT naming privileges are one statement.
    if (word in _ATTACHING_PREVIOUS.get(prev or "", ()) and head != "SET") or head in _WHOLE_HEADS:
        return True
    if prev_token is not None and prev_token.token_type == TokenType.COMMA:
        return True
    if word == "SELECT":
        return (
            prev in _SET_OPERATORS
            or (head in ("INSERT", "REPLACE") and not state.has_query)
            or state.cte_open
            or head not in _STARTERS
        )
    if word in ("INSERT", "UPDATE", "DELETE", "MERGE"):
        # ``FROM src INSERT ... SELECT ... INSERT ...``: Hive's multi-insert is one statement; Oracle's
        # ``MERGE ... UPDATE SET ... DELETE WHERE ...`` is one clause of its MERGE.
        return (
            prev == "THEN"
            or state.cte_open
            or head in ("BULK", "FROM")
            or (head == "MERGE" and word == "DELETE" and nxt == "WHERE")
            # ClickHouse mutations ``ALTER TABLE t UPDATE ... WHERE`` / ``ALTER TABLE t DELETE WHERE``.
            or (head == "ALTER" and dialect == "clickhouse" and word in ("UPDATE", "DELETE"))
        )
    if word == "SET":
        return (head == "UPDATE" and not state.set_seen) or prev in ("UPDATE", "DELETE") or head == "ALTER"
    if word == "WITH":
        return (
            prev == "AS"
            or state.cte_open
            or (head == "INSERT" and not state.has_query)
            or not _is_cte_start(tokens, i)
        )
    if word in ("EXEC", "EXECUTE"):
        return (head == "INSERT" and not state.has_query) or prev == "WITH"
    if word in ("CREATE", "DROP", "ALTER"):
        # Oracle ``TRUNCATE TABLE t DROP [ALL] STORAGE`` is one statement.
        return (head == "ALTER" and nxt not in _OBJECT_WORDS) or (head == "TRUNCATE" and nxt in ("STORAGE", "ALL"))
    if word == "TRUNCATE":
        return head == "ALTER" and nxt in ("PARTITION", "SUBPARTITION")  # Oracle ``ALTER TABLE t TRUNCATE PARTITION``
    if word == "COPY":
        return nxt == "GRANTS"  # Snowflake ``CREATE OR REPLACE VIEW v COPY GRANTS AS``
    if word == "FETCH":
        return nxt == "FIRST" or (
            nxt == "NEXT" and i + 2 < len(tokens) and tokens[i + 2].text.upper() != "FROM"
        )
    if word == "REPLACE":
        # ``REPLACE(...)`` the function; Databricks' ``INSERT INTO t REPLACE WHERE ...``.
        return nxt == "(" or (head == "INSERT" and nxt == "WHERE")
    return False


def _note_keyword(state: _State, word: str, tokens: list[Token], i: int) -> None:
    """Record what a continuing keyword tells about the statement's shape."""
    if word == "WITH" and _is_cte_start(tokens, i):
        state.cte_open = True
        return
    if state.cte_open and word in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"):
        state.cte_open = False
        if state.head == "WITH":
            state.head = word
    if word in ("SELECT", "VALUES", "EXEC", "EXECUTE", "DEFAULT") and state.head in ("INSERT", "REPLACE"):
        state.has_query = True
    if word == "SET" and state.head == "UPDATE":
        state.set_seen = True


class _Splitter:
    """Token walk with the state of the current statement, the routine context and block depth."""

    def __init__(self, sql: str, dialect: str, line_offset: int, procedure: str | None, in_body: bool):
        self.sql = sql
        self.dialect = dialect
        self.line_starts = _line_index(sql)
        self.line_offset = line_offset
        self.procedure = procedure
        self.in_body = in_body
        self.block_depth = 0
        self.batch = 0
        self.routine_depth: int | None = None
        self.trigger_table: str | None = None
        self.chunks: list[Chunk] = []
        self.issues: list[ParseIssue] = []
        self.notes: list[ParseIssue] = []  # text knowingly not read (a routine body in another language)
        self.state = _State()
        self.depth = 0
        self.words: list[str | None] = []

    def routine_closed(self) -> bool:
        """Outside T-SQL (where a routine runs to the end of its batch), a routine ends with its block."""
        return (
            self.routine_depth is not None
            and self.block_depth <= self.routine_depth
            and self.dialect not in _GO_DIALECTS
        )

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset) + self.line_offset

    def flush(self) -> None:
        state = self.state
        if state.tokens and state.role == "statement":
            self.chunks.append(
                Chunk(
                    state.tokens,
                    self.sql,
                    self.line_of(state.tokens[0].start),
                    self.procedure,
                    self.batch,
                    self.in_body or self.procedure is not None or self.block_depth > 0,
                    self.trigger_table if self.procedure is not None else None,
                )
            )
        elif state.tokens and state.role == "header":
            # A routine header that never reached AS/BEGIN is a whole statement (e.g. a SQL UDF).
            self.procedure = None
            self.chunks.append(Chunk(state.tokens, self.sql, self.line_of(state.tokens[0].start), None, self.batch))
        self.state = _State()
        self.depth = 0

    def start(self, role: str, head: str | None) -> None:
        self.flush()
        self.state.role = role
        self.state.head = head

    def run(self, tokens: list[Token]) -> None:
        self.words = _words(tokens)
        i = 0
        n = len(tokens)
        while i < n:
            i = self.step(tokens, i)
        self.flush()

    def step(self, tokens: list[Token], i: int) -> int:
        token = tokens[i]
        kind = token.token_type
        state = self.state
        word = self.words[i]
        if kind == _SEMICOLON:
            if state.role == "declarations":
                state.tokens = []
                return i + 1
            self.flush()
            if self.routine_closed():
                # A routine whose body is one statement (no BEGIN block) ends with it.
                self.procedure = None
                self.routine_depth = None
            return i + 1
        # Only a GO word or a slash can start a batch separator line; skip the line checks for the rest.
        separator = _separator_line(tokens, i, self.sql, self.dialect, word) if word == "GO" or kind == _SLASH else 0
        if separator:
            self.flush()
            self.batch += 1
            if self.dialect in _GO_DIALECTS:
                self.procedure = None
                self.routine_depth = None
                self.block_depth = 0
            return i + separator
        if kind == _L_PAREN:
            self.depth += 1
        elif kind == _R_PAREN:
            self.depth = max(0, self.depth - 1)
        if self.depth or word is None or kind in _PARENS:
            if not state.tokens and state.role == "statement":
                state.head = word or token.text
            state.tokens.append(token)
            state.prev_word = word if self.depth else None
            return i + 1
        return self.keyword(tokens, i, word)

    def keyword(self, tokens: list[Token], i: int, word: str) -> int:
        state = self.state
        if state.role == "declarations":
            if word == "BEGIN":
                self.state = _State()
                self.block_depth += 1
            return i + 1
        if state.role == "header":
            return self.header_keyword(tokens, i, word)
        if self.label(tokens, i):
            # A GOTO target ``done:`` on its own line ends the statement before it and carries nothing.
            self.flush()
            return i + 2
        if word not in _SIGNAL_WORDS:
            # Most words (names, FROM, WHERE, AS, ...) only extend the statement: skip the checks below.
            if not state.tokens:
                state.head = word
            state.tokens.append(tokens[i])
            state.prev_word = word
            return i + 1
        nxt = self.words[i + 1] if i + 1 < len(tokens) else None
        if word == "CASE":
            state.case_depth += 1
        elif word == "END" and state.case_depth:
            state.case_depth -= 1
        elif word == "END":
            return self.block_end(tokens, i)
        elif word == "BEGIN":
            if nxt in ("TRY", "CATCH"):
                self.flush()
                return i + 2
            if nxt in _TRANSACTION_WORDS or _next_type(tokens, i) in (None, TokenType.SEMICOLON):
                self.start("statement", word)
            else:
                self.flush()
                self.block_depth += 1
                return _after_begin(tokens, i)
        elif word in ("ELSE", "ELSIF", "ELSEIF") and not state.case_depth:
            if word == "ELSE":
                self.flush()
                return i + 1
            self.start("condition", word)
        elif word == "LOOP" and state.loop_query and not state.case_depth:
            self.flush()
            self.block_depth += 1
            return i + 1
        elif word in ("THEN", "DO", "LOOP") and state.role == "condition" and not state.case_depth:
            # IF/WHILE/FOR ... THEN|DO|LOOP opens a block closed by END IF/END WHILE/END LOOP.
            if state.head in ("IF", "WHILE", "FOR"):
                self.block_depth += 1
            if state.head == "FOR":
                self.loop_subquery(state.tokens)
            self.flush()
            return i + 1
        elif word == "DO" and not state.tokens and i + 1 < len(tokens) and "STRING" in tokens[i + 1].token_type.name:
            # A Postgres anonymous block ``DO $$ ... $$``: its statements are read like a routine body's.
            return self.string_body(tokens, i + 1)
        elif word in ("LOOP", "REPEAT") and not state.tokens:
            self.block_depth += 1
            return i + 1
        elif (word == "EXCEPTION" and not state.tokens and (self.in_body or self.procedure or self.block_depth)) or (
            word in ("IF", "WHILE", "FOR") and not state.case_depth and self.control_flow(tokens, i, word)
        ):
            self.start("condition", word)
        elif word == "DECLARE" and self.declare_section() and not state.tokens:
            self.state.role = "declarations"
            return i + 1
        elif word == "RETURN" and (nxt in ("SELECT", "WITH") or _next_type(tokens, i) == TokenType.L_PAREN):
            # An inline function's ``RETURN (SELECT ...)`` reads like the query it returns.
            self.flush()
            return i + 1
        elif word in _STARTERS:
            if state.role == "condition" or not state.tokens or not _continues(state, word, tokens, i, self.dialect):
                # ``FOR r IN SELECT ... LOOP``: the loop's query is a statement (a read) ending at LOOP.
                loop_query = state.role == "condition" and state.head == "FOR" and word in ("SELECT", "WITH")
                self.start("statement", word)
                self.state.routine_words = word in ("CREATE", "ALTER")
                self.state.cte_open = word == "WITH"
                self.state.loop_query = loop_query
            else:
                _note_keyword(state, word, tokens, i)
        elif state.routine_words and word in _ROUTINE_WORDS and len(state.tokens) <= 4 and state.prev_word != "PARTITION":
            # (T-SQL ``CREATE PARTITION FUNCTION pf (int) AS RANGE ...`` is no routine: it has no body.)
            state.role = "header"
        elif not state.tokens:
            state.head = word
        # start() may have replaced the state; the keyword belongs to the current one.
        self.state.tokens.append(tokens[i])
        self.state.prev_word = word
        return i + 1

    def label(self, tokens: list[Token], i: int) -> bool:
        """``name:`` starting a line (T-SQL): a label, not part of any statement."""
        return (
            self.dialect in _GO_DIALECTS
            and i + 1 < len(tokens)
            and tokens[i + 1].token_type == TokenType.COLON
            and tokens[i].end + 1 == tokens[i + 1].start
            and _starts_line(tokens, i, self.sql)
        )

    def declare_section(self) -> bool:
        """``DECLARE`` opens a declaration section: in procedural bodies, and at the top of Oracle and
        Snowflake anonymous blocks."""
        if self.dialect not in _DECLARE_SECTION_DIALECTS:
            return False
        return self.in_body or self.procedure is not None or self.dialect in _ANONYMOUS_BLOCK_DIALECTS

    def loop_subquery(self, condition: list[Token]) -> None:
        """Keep the parenthesized query of ``FOR r IN (SELECT ...) LOOP`` as a statement (a read)."""
        for position in range(len(condition) - 1):
            if condition[position].token_type == TokenType.L_PAREN and condition[position + 1].text.upper() in ("SELECT", "WITH"):
                depth = 0
                for end in range(position, len(condition)):
                    depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(condition[end].token_type, 0)
                    if depth == 0:
                        inner = condition[position + 1 : end]
                        self.chunks.append(Chunk(inner, self.sql, self.line_of(inner[0].start), self.procedure,
                                                 self.batch, True, None))
                        return
                return

    def control_flow(self, tokens: list[Token], i: int, word: str) -> bool:
        """``IF``/``WHILE``/``FOR`` opening a control statement, not ``IF EXISTS``, ``IF(...)`` or ``FOR UPDATE``."""
        state = self.state
        if state.role == "condition":
            return False
        if not state.tokens:
            return word != "FOR" or self.dialect not in _GO_DIALECTS
        if word == "FOR":
            return False
        if state.prev_word in _DDL_BEFORE_IF:
            return False
        return i + 1 < len(tokens) and tokens[i + 1].token_type != TokenType.L_PAREN

    def block_end(self, tokens: list[Token], i: int) -> int:
        self.flush()
        self.block_depth = max(0, self.block_depth - 1)
        if self.routine_closed():
            self.procedure = None
            self.routine_depth = None
        i += 1
        if i < len(tokens) and not _starts_line(tokens, i, self.sql):
            nxt = self.words[i]
            label = tokens[i].token_type in (TokenType.VAR, TokenType.IDENTIFIER) and (
                i + 1 >= len(tokens) or tokens[i + 1].token_type == TokenType.SEMICOLON
            )
            if (nxt in _END_SUFFIXES or label) and nxt not in _STARTERS:
                i += 1
        return i

    def header_keyword(self, tokens: list[Token], i: int, word: str) -> int:
        """Inside a routine header: collect until the body starts at ``AS``/``IS``/``BEGIN``."""
        state = self.state
        if word in ("AS", "IS") and state.prev_word != "EXECUTE":
            body = tokens[i + 1] if i + 1 < len(tokens) else None
            if body is not None and body.token_type == TokenType.L_PAREN and self.dialect not in _GO_DIALECTS:
                # ``CREATE FUNCTION f(x) AS (x + 1)``: an expression body, the whole thing is one statement.
                state.role = "statement"
                state.tokens.append(tokens[i])
                return i + 1
            self.enter_routine(state.tokens)
            if body is not None and "STRING" in body.token_type.name:
                return self.string_body(tokens, i + 1)
            if self.dialect == "oracle":
                self.state.role = "declarations"
            return i + 1
        if word == "BEGIN":
            self.enter_routine(state.tokens)
            self.block_depth += 1
            return _after_begin(tokens, i)
        state.tokens.append(tokens[i])
        state.prev_word = word
        return i + 1

    def enter_routine(self, header: list[Token]) -> None:
        self.procedure = _routine_name(header, self.dialect)
        words = [token.text.upper() for token in header]
        # A T-SQL trigger's ``inserted``/``deleted`` rows are rows of the table it is ON.
        self.trigger_table = (
            _routine_name(header[words.index("ON") :], self.dialect, frozenset(("ON",)))
            if "TRIGGER" in words and "ON" in words
            else None
        )
        self.routine_depth = self.block_depth
        self.state = _State()
        self.depth = 0

    def string_body(self, tokens: list[Token], i: int) -> int:
        """Split a routine body quoted as a string (``AS $$ ... $$``) unless its LANGUAGE is not SQL."""
        body = tokens[i]
        end = i + 1
        language = "SQL"
        while end < len(tokens) and tokens[end].token_type != TokenType.SEMICOLON:
            if tokens[end].text.upper() == "LANGUAGE" and end + 1 < len(tokens):
                language = tokens[end + 1].text.upper()
            end += 1
        for j in range(i - 1, -1, -1):
            if tokens[j].text.upper() == "LANGUAGE" and j + 1 < len(tokens):
                language = tokens[j + 1].text.upper()
                break
            if tokens[j].token_type == TokenType.SEMICOLON:
                break
        if language in _SQL_LANGUAGES:
            chunks, issues, notes = split_script(
                body.text, self.dialect, self.line_of(body.start) - 1, self.procedure, in_body=True
            )
            self.chunks.extend(chunks)
            self.issues.extend(issues)
            self.notes.extend(notes)
        else:
            routine = f"routine {self.procedure}" if self.procedure else "routine"
            message = f"{routine} body in LANGUAGE {language.lower()} is not SQL; not read"
            self.notes.append(ParseIssue(line=self.line_of(body.start), message=message))
        self.procedure = None
        self.routine_depth = None
        return end


def _after_begin(tokens: list[Token], i: int) -> int:
    """Index after a block's ``BEGIN``, skipping ``ATOMIC [WITH (options)]`` (T-SQL natively compiled
    procedures, SQL/PSM), which is no statement."""
    j = i + 1
    if j < len(tokens) and tokens[j].text.upper() == "ATOMIC":
        j += 1
        if j + 1 < len(tokens) and tokens[j].text.upper() == "WITH" and tokens[j + 1].token_type == TokenType.L_PAREN:
            depth = 0
            for k in range(j + 1, len(tokens)):
                depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[k].token_type, 0)
                if depth == 0:
                    return k + 1
    return j


def _routine_name(header: list[Token], dialect: str, after: frozenset[str] = _ROUTINE_WORDS) -> str | None:
    """``schema.proc`` from a routine header's tokens (the name follows PROCEDURE/FUNCTION/TRIGGER,
    or whichever word of ``after`` comes first)."""
    fold = folds_case(dialect)
    parts: list[str] = []
    after_word = False
    expect_part = True
    for token in header:
        if not after_word:
            after_word = token.text.upper() in after
            continue
        if token.token_type == TokenType.DOT:
            expect_part = True
            continue
        if not expect_part or not (token.token_type == TokenType.IDENTIFIER or token.text.isidentifier()):
            break
        quoted = token.token_type == TokenType.IDENTIFIER
        parts.append(identifier_name(exp.Identifier(this=token.text, quoted=quoted), fold))
        expect_part = False
    return ".".join(parts) or None


@cache
def _splitting_tokenizer(dialect: str) -> type[Tokenizer]:
    """The dialect's tokenizer class with command swallowing turned off.

    sqlglot turns everything after a leading command keyword (PRINT, EXEC, CALL, T-SQL's END ...) into
    one string token up to the next ``;``, which would swallow the following statements; for splitting,
    commands are tokenized like any other keyword.
    """
    base = sqlglot_dialect(dialect).tokenizer_class
    return type(f"Splitting{base.__name__}", (base,), {"COMMANDS": set()})


_TOKENIZERS = threading.local()


def tokenize(sql: str, dialect: str) -> list[Token]:
    """The dialect's tokens for ``sql`` (commands not swallowed); raises ``TokenError`` on bad input."""
    # A tokenizer holds per-run state, so each thread has its own; ``tokenize`` resets it and returns a
    # new list, so one instance serves every call (building one per call cost ~1.5% of a file's parse).
    cache = _TOKENIZERS.__dict__.setdefault("by_dialect", {})
    tokenizer = cache.get(dialect)
    if tokenizer is None:
        tokenizer = cache[dialect] = _splitting_tokenizer(dialect)(dialect=sqlglot_dialect(dialect))
    tokens = tokenizer.tokenize(sql)
    if tokens and tokens[0].token_type == _HIVE_STREAM:
        # Athena marks statements it tokenized as Hive with an empty first token; it is no word.
        return tokens[1:]
    return tokens


_HIVE_STREAM = getattr(TokenType, "HIVE_TOKEN_STREAM", None)


_SQLCMD_DIRECTIVE = re.compile(
    r"^[ \t]*:(setvar|r|on[ \t]+error|connect|out|error|exit|quit|listvar|list|reset|serverlist|xml|perftrace)\b[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
_SETVAR = re.compile(r'^[ \t]*:setvar[ \t]+(\w+)(?:[ \t]+(?:"([^"]*)"|(\S+)))?', re.IGNORECASE)
_INCLUDE = re.compile(r"^[ \t]*:r[ \t]+(.+?)[ \t]*$", re.IGNORECASE)
_SQLCMD_VARIABLE = re.compile(r"\$\((\w+)\)")


def sqlcmd_script(sql: str, line_offset: int = 0) -> tuple[str, list[ParseIssue]]:
    """A SQLCMD-mode script (SSDT deployment scripts) as plain T-SQL: directive lines (``:setvar``,
    ``:r``, ``:on error``) blanked, ``$(Var)`` replaced by its ``:setvar`` value or else by its name;
    notes for includes not followed and variables never set. Lines stay where they were."""
    if "$(" not in sql and ":" not in sql:
        return sql, []
    values: dict[str, str] = {}
    notes: list[ParseIssue] = []

    def directive(match: re.Match[str]) -> str:
        line = sql.count("\n", 0, match.start()) + 1 + line_offset
        text = match.group(0)
        setvar = _SETVAR.match(text)
        include = _INCLUDE.match(text)
        if setvar:
            values[setvar.group(1).lower()] = setvar.group(2) if setvar.group(2) is not None else setvar.group(3) or ""
        elif include:
            notes.append(ParseIssue(line=line, message=f"SQLCMD include {include.group(1)} not followed"))
        return " " * len(text)

    sql = _SQLCMD_DIRECTIVE.sub(directive, sql)
    unset: list[str] = []

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.lower() in values:
            return values[name.lower()]
        if name not in unset:
            unset.append(name)
        return name

    sql = _SQLCMD_VARIABLE.sub(variable, sql)
    notes += [ParseIssue(message=f"SQLCMD variable $({name}) is not set in the file; read as {name}") for name in unset]
    return sql, notes


_MYSQL_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


def _mysql_delimiters(sql: str) -> str:
    """Rewrite mysql-client ``DELIMITER $$`` scripts to plain ``;`` scripts, keeping every line in place."""
    if "delimiter" not in sql.lower():
        return sql
    out: list[str] = []
    delimiter = ";"
    position = 0
    for match in _MYSQL_DELIMITER.finditer(sql):
        segment = sql[position : match.start()]
        out.append(segment.replace(delimiter, ";") if delimiter != ";" else segment)
        delimiter = match.group(1)
        position = match.end()
    segment = sql[position:]
    out.append(segment.replace(delimiter, ";") if delimiter != ";" else segment)
    return "".join(out)


def split_statements(
    sql: str,
    dialect: str,
    line_offset: int = 0,
    procedure: str | None = None,
    in_body: bool = False,
) -> tuple[list[Chunk], list[ParseIssue]]:
    """Statement chunks of ``sql`` in order, plus issues for text that could not even be tokenized."""
    chunks, issues, _ = split_script(sql, dialect, line_offset, procedure, in_body)
    return chunks, issues


def split_script(
    sql: str,
    dialect: str,
    line_offset: int = 0,
    procedure: str | None = None,
    in_body: bool = False,
) -> tuple[list[Chunk], list[ParseIssue], list[ParseIssue]]:
    """``split_statements`` plus notes on text knowingly left unread (non-SQL routine bodies)."""
    notes: list[ParseIssue] = []
    if dialect == "mysql":
        sql = _mysql_delimiters(sql)
    if dialect in _GO_DIALECTS:
        sql, notes = sqlcmd_script(sql, line_offset)
    try:
        tokens = tokenize(sql, dialect)
    except TokenError:
        chunks, issues, more = _split_coarsely(sql, dialect, line_offset, procedure, in_body)
        return chunks, issues, notes + more
    splitter = _Splitter(sql, dialect, line_offset, procedure, in_body)
    splitter.run(tokens)
    return splitter.chunks, splitter.issues, notes + splitter.notes


def _split_coarsely(
    sql: str, dialect: str, line_offset: int, procedure: str | None, in_body: bool
) -> tuple[list[Chunk], list[ParseIssue], list[ParseIssue]]:
    """Fallback when the whole text does not tokenize: cut at line-ending ``;`` and ``GO`` lines, retry each."""
    chunks: list[Chunk] = []
    issues: list[ParseIssue] = []
    notes: list[ParseIssue] = []
    starts = _line_index(sql)
    position = 0
    pieces = []
    for match in _COARSE_SPLIT.finditer(sql):
        pieces.append((position, sql[position : match.start()]))
        position = match.end()
    pieces.append((position, sql[position:]))
    for offset, piece in pieces:
        if not piece.strip():
            continue
        line = bisect_right(starts, offset) + line_offset
        try:
            tokens = tokenize(piece, dialect)
        except TokenError as error:
            first_text = len(piece) - len(piece.lstrip())
            issues.append(
                ParseIssue(line=line + piece.count("\n", 0, first_text), message=f"cannot tokenize: {error}")
            )
            continue
        splitter = _Splitter(piece, dialect, line - 1, procedure, in_body)
        splitter.run(tokens)
        chunks.extend(splitter.chunks)
        issues.extend(splitter.issues)
        notes.extend(splitter.notes)
    return chunks, issues, notes
