"""File-level entry points: split, parse each statement with sqlglot, extract lineage; never raise."""

import logging
import threading
from typing import Any, NamedTuple

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.parser import Parser
from sqlglot.tokens import TokenType

from lineage_pipeline.parsing.budget import (
    DEFAULT_STATEMENT_SECONDS,
    BudgetExceeded,
    Deadline,
)
from lineage_pipeline.parsing.catalog import Catalog
from lineage_pipeline.parsing.decoding import decode
from lineage_pipeline.parsing.dialects import (
    canonical_dialect,
    folds_case,
    header_dialect,
    sqlglot_dialect,
    validate_dialect,
)
from lineage_pipeline.parsing.dynamic import (
    dynamic_sql_literal,
    dynamic_sql_variable,
    string_assignment,
)
from lineage_pipeline.parsing.extraction import Context, Extracted
from lineage_pipeline.parsing.models import (
    Call,
    Effect,
    FileLineage,
    ParseIssue,
    StatementLineage,
)
from lineage_pipeline.parsing.moves import bulk_insert, load_data_text
from lineage_pipeline.parsing.names import (
    column_with_default_schema,
    with_default_schema,
    word_set,
)
from lineage_pipeline.parsing.procedural import (
    PARSE_FAILURE_HEADS,
    PROCEDURAL_HEADS,
    Embedded,
    procedural_statement,
)
from lineage_pipeline.parsing.renames import follow_renames
from lineage_pipeline.parsing.reuse import (
    MemoEntry,
    Previous,
    after_batch,
    after_changes,
    encode_memo,
    placed_key,
    reuse,
    start_digest,
    statement_key,
)
from lineage_pipeline.parsing.rewrites import (
    Rewritten,
    athena_backticks,
    clickhouse_mutation,
    drop_span,
    merge_delete_span,
    rewrite_dml,
    rewrite_tsql,
    trailing_with_data,
)
from lineage_pipeline.parsing.splitting import Chunk, split_script, split_statements
from lineage_pipeline.parsing.statements import extract, extract_tables_only
from lineage_pipeline.parsing.tables import FileTables
from lineage_pipeline.parsing.utility import token_words, utility_head
from lineage_pipeline.parsing.writes import extract_insert_exec

PARSER_VERSION = "8"
"""Bumped whenever the lineage produced for the same input can change (parse caches key on it)."""

MAX_FILE_BYTES = 5_000_000
"""Files larger than this are not parsed; a ParseIssue says so."""

MAX_STATEMENT_TOKENS = 50_000
"""Statements with more tokens are skipped (generated SQL); a ParseIssue says so."""

_FALLBACK_DIALECT = "ansi"
_MAX_DYNAMIC_DEPTH = 3
_REWRITE_DIALECTS = frozenset(("tsql", "fabric"))
_WITH_DATA_DIALECTS = frozenset(("postgres", "redshift", "materialize", "risingwave"))


class _DropCommandFallbackWarnings(logging.Filter):
    """sqlglot warns for every statement it keeps as an opaque Command; the parser reports those itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "contains unsupported syntax" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_DropCommandFallbackWarnings())


_PARSERS = threading.local()


def _parser(dialect: str) -> Parser:
    """This thread's sqlglot parser for ``dialect`` (``parse`` resets it; building one costs ~2%)."""
    cache = _PARSERS.__dict__.setdefault("by_dialect", {})
    parser = cache.get(dialect)
    if parser is None:
        parser = cache[dialect] = sqlglot_dialect(dialect).parser(error_level=ErrorLevel.RAISE)
    return parser


def _parse_chunk(chunk: Chunk, dialect: str):
    """sqlglot expressions of one statement chunk; raises on a parse error."""
    resolved = sqlglot_dialect(dialect)
    tokens = chunk.tokens
    sql = chunk.sql
    if dialect == "athena":
        # Athena tokenizes DDL as Hive and DML as Trino; only its own tokenize() routes between them.
        sql = chunk.sql[tokens[0].start : tokens[-1].end + 1]
        tokens = resolved.tokenize(sql)
    elif tokens[0].token_type in resolved.tokenizer_class.COMMANDS:
        # The splitter tokenizes commands like keywords; sqlglot's parser wants its own command tokens.
        sql = chunk.sql[tokens[0].start : tokens[-1].end + 1]
        tokens = resolved.tokenize(sql)
    expressions = _parser(dialect).parse(tokens, sql)
    return [e for e in expressions if e is not None]


def _insert_exec(chunk: Chunk, dialect: str):
    """``INSERT [INTO] t [(cols)] EXEC proc ...`` (T-SQL), which sqlglot cannot parse: ``(insert, execute)``."""
    tokens = chunk.tokens
    if tokens[0].text.upper() != "INSERT":
        return None
    depth = 0
    for position, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and position > 1 and token.text.upper() in ("EXEC", "EXECUTE"):
            resolved = sqlglot_dialect(dialect)
            head = chunk.sql[tokens[0].start : token.start] + " DEFAULT VALUES"
            call = chunk.sql[token.start : tokens[-1].end + 1]
            insert = resolved.parse(head)[0]
            execute = resolved.parse(call)[0]
            if isinstance(insert, exp.Insert) and execute is not None:
                return insert, execute
            return None
    return None


def _message(error: Exception) -> str:
    """One-line description of a parse or extraction error."""
    if isinstance(error, ParseError) and error.errors:
        # sqlglot lists a node's missing arguments in set order, which varies with the hash seed of the
        # process: the earliest error, then the first by text, is the same in every worker and run
        first = min(error.errors, key=lambda e: (e.get("line") or 0, e.get("col") or 0, str(e.get("description"))))
        return f"{first.get('description', 'parse error')} near {first.get('highlight', '')!r}"
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


# Words that continue a statement rather than start one: a chunk opening with one was probably cut off
# the statement before it by the splitter.
_TAIL_WORDS = word_set(
    """ON AND OR WHERE FROM JOIN INNER LEFT RIGHT FULL CROSS GROUP ORDER HAVING AS TO INTO BY UNION THEN ELSE
    OPTION OUTPUT PARTITION AUTO TAG LIMIT OFFSET WINDOW QUALIFY RETURNS LANGUAGE"""
)


def _failure(error: Exception, chunk: Chunk) -> str:
    """The parse error's message, saying so when the statement looks like the tail of another one."""
    message = _message(error)
    first = chunk.tokens[0]
    if first.text.upper() in _TAIL_WORDS or not first.text[:1].isalpha():
        message += f"; it starts with {first.text!r}, so it may be the tail of the statement before, split wrongly"
    return message


def statement_kind(kind: str) -> str:
    """The contract spelling of a statement kind: upper-case SQL words (``create_view`` -> ``CREATE VIEW``)."""
    return kind.replace("_", " ").upper()


def _statement(index: int, chunk: Chunk, extracted: Extracted) -> StatementLineage:
    """The contract record for one extracted statement."""
    return StatementLineage(
        index=index,
        kind=statement_kind(extracted.kind),
        line=chunk.line,
        sources=sorted(extracted.sources),
        targets=list(dict.fromkeys(extracted.targets)),
        columns=extracted.columns,
        effects=extracted.effects,
        calls=extracted.calls,
        temp_tables=sorted(extracted.temp_tables),
        target_kind=extracted.target_kind,
        defined_columns=extracted.defined_columns,
        procedure=chunk.procedure,
        unresolved_columns=sorted(extracted.unresolved),
        column_mapping=extracted.column_mapping,
    )


def _in_default_schema(statement: StatementLineage, schema: str) -> StatementLineage:
    """``statement`` with every unqualified persistent table name put in ``schema``."""
    return statement.model_copy(
        update={
            "sources": sorted(with_default_schema(name, schema) for name in statement.sources),
            "targets": [with_default_schema(name, schema) for name in statement.targets],
            "columns": [
                edge.model_copy(
                    update={
                        "target": column_with_default_schema(edge.target, schema),
                        "sources": sorted(column_with_default_schema(source, schema) for source in edge.sources),
                    }
                )
                for edge in statement.columns
            ],
            "effects": [
                effect.model_copy(update={"table": with_default_schema(effect.table, schema)})
                for effect in statement.effects
            ],
        }
    )


class Parsed(NamedTuple):
    """A file's lineage, the memo a later parse of an edited version can reuse statements from (None when
    this parse keeps none: see ``reuse``), and how many statements were taken from ``previous``."""

    lineage: FileLineage
    memo: bytes | None = None
    reused: int = 0


def parse_sql(
    text: str,
    dialect: str,
    path: str = "<string>",
    catalog: Catalog | None = None,
    statement_seconds: float = DEFAULT_STATEMENT_SECONDS,
    default_schema: str | None = None,
) -> FileLineage:
    """Lineage of every statement in ``text``; unreadable statements become ``errors``. Never raises.

    ``default_schema`` (e.g. T-SQL's ``dbo``), when given, qualifies every table name the SQL leaves
    unqualified; without it names stay exactly as qualified as the SQL says.
    """
    return parse_text(text, dialect, path, catalog, statement_seconds, default_schema).lineage


def parse_text(
    text: str,
    dialect: str,
    path: str = "<string>",
    catalog: Catalog | None = None,
    statement_seconds: float = DEFAULT_STATEMENT_SECONDS,
    default_schema: str | None = None,
    *,
    previous: Previous | None = None,
) -> Parsed:
    """``parse_sql``, taking each statement read in the same state as in ``previous`` (an earlier parse of
    this file) from it instead of reading it again. Never raises; the lineage is the same either way."""
    errors: list[ParseIssue] = []
    resolved = canonical_dialect(dialect)
    if resolved is None:
        resolved = _FALLBACK_DIALECT
        errors.append(ParseIssue(message=f"{validate_dialect(dialect)}; parsed as {resolved}"))
    statements: list[StatementLineage] = []
    warnings: list[ParseIssue] = []
    memo: list[MemoEntry] | None = [] if catalog is None and not (default_schema and default_schema.strip()) else None
    reused_count = 0
    try:
        if len(text) > MAX_FILE_BYTES:
            errors.append(ParseIssue(message=f"file too large ({len(text)} chars > {MAX_FILE_BYTES}); not parsed"))
            return Parsed(FileLineage(path=path, dialect=resolved, errors=errors))
        chunks, issues, notes = split_script(text, resolved)
        errors.extend(issues)
        warnings.extend(notes)
        ctx = Context(resolved, folds_case(resolved), FileTables(catalog), Deadline(statement_seconds))
        digest = start_digest(PARSER_VERSION, resolved, statement_seconds)
        for index, chunk in enumerate(chunks):
            if chunk.batch != ctx.batch:
                ctx.batch = chunk.batch
                ctx.variables.clear()
                digest = after_batch(digest, chunk.batch)
            if memo is None:
                statement, statement_issues, statement_notes = _parse_statement(index, chunk, ctx, statement_seconds)
            else:
                read = _read_or_reuse(index, chunk, ctx, statement_seconds, digest, previous)
                statement, statement_issues, statement_notes = read.statement, read.issues, read.notes
                reused_count += read.reused
                memo.append(MemoEntry(
                    read.key,
                    read.journal,
                    None if statement is None else len(statements),
                    tuple(range(len(errors), len(errors) + len(statement_issues))) if statement_issues else (),
                    tuple(range(len(warnings), len(warnings) + len(statement_notes))) if statement_notes else (),
                ))
                digest = after_changes(digest, read.journal)
            if statement is not None:
                statements.append(statement)
            errors.extend(statement_issues)
            warnings += statement_notes
        renamed = follow_renames(statements)
        if renamed is not statements:
            memo = None  # earlier statements' records now say the new names: not what they produced
        statements = renamed
        if default_schema and default_schema.strip():
            schema = default_schema.strip().lower()
            statements = [_in_default_schema(statement, schema) for statement in statements]
    except Exception as error:  # noqa: BLE001 - last resort: the contract is that parsing never raises
        errors.append(ParseIssue(message=f"internal parser error: {_message(error)}"))
        memo = None
    lineage = FileLineage(path=path, dialect=resolved, statements=statements, errors=errors, warnings=warnings)
    return Parsed(lineage, None if memo is None else encode_memo(memo), reused_count)


class _Read(NamedTuple):
    """One statement's records, read or taken from an earlier parse, with its memo key ('' when it must be
    read again next time) and the state changes it made."""

    statement: StatementLineage | None
    issues: list[ParseIssue]
    notes: list[ParseIssue]
    key: str
    journal: tuple[Any, ...]
    reused: bool


def _read_or_reuse(
    index: int, chunk: Chunk, ctx: Context, seconds: float, digest: str, previous: Previous | None
) -> _Read:
    """``_parse_statement``, or the records of the same statement read in the same state in ``previous``."""
    key = statement_key(digest, chunk)
    journal: list[list[Any]] = []
    ctx.tables.journal = journal
    earlier = reuse(previous, key, index, chunk.line)
    if earlier is None and previous is not None:
        earlier = reuse(previous, placed_key(key, chunk), index, chunk.line)
    if earlier is not None:
        for change in earlier.journal:
            _redo(ctx, change)
        statement, issues, notes = earlier.statement, earlier.errors, earlier.warnings
    else:
        statement, issues, notes = _parse_statement(index, chunk, ctx, seconds)
    if issues and any(issue.limited for issue in issues):
        key = ""  # a statement cut short by its budget is read again
    elif issues or notes:
        key = placed_key(key, chunk)
    return _Read(statement, issues, notes, key, tuple(journal), earlier is not None)


def _assign(ctx: Context, name: str, value: str | None) -> None:
    """Set a string variable, journalled like the table changes (``reuse``)."""
    ctx.variables[name] = value
    if ctx.tables.journal is not None:
        ctx.tables.journal.append(["var", name, value])


def _redo(ctx: Context, change: list[Any]) -> None:
    """Redo one journalled change of a reused statement."""
    if change[0] == "var":
        _assign(ctx, change[1], change[2])
    else:
        ctx.tables.replay(change)


def _parse_statement(
    index: int, chunk: Chunk, ctx: Context, seconds: float
) -> tuple[StatementLineage | None, list[ParseIssue], list[ParseIssue]]:
    """Parse and extract one chunk: its lineage, the issue (none or one) that explains what is missing, and
    warnings for what was read only in part."""
    statement, issue, extracted = _read_statement(index, chunk, ctx, seconds)
    notes = statement_warnings(index, chunk.line, extracted) if statement is not None else []
    return statement, [issue] if issue is not None else [], notes


def statement_warnings(index: int, line: int, extracted: Extracted | None) -> list[ParseIssue]:
    """What a read statement's lineage is known to miss, one ParseIssue per fact."""
    if extracted is None:
        return []
    notes = list(extracted.warnings)
    if extracted.unresolved:
        names = ", ".join(sorted(extracted.unresolved)[:5]) + (", ..." if len(extracted.unresolved) > 5 else "")
        notes.append(f"{len(extracted.unresolved)} source column(s) with no known table ({names}); a catalog would resolve them")
    if extracted.column_mapping == "assumed":
        notes.append(
            "target columns unknown (no column list, no catalog): written columns are named after the query's "
            "outputs, unnamed expressions as _col_<position>"
        )
    return [ParseIssue(statement=index, line=line, message=note) for note in notes]


def _read_statement(
    index: int, chunk: Chunk, ctx: Context, seconds: float
) -> tuple[StatementLineage | None, ParseIssue | None, Extracted | None]:
    """Parse and extract one chunk; returns its lineage and/or the issue that explains what is missing."""
    if len(chunk.tokens) > MAX_STATEMENT_TOKENS:
        return None, ParseIssue(
            statement=index, line=chunk.line, message=f"statement too long ({len(chunk.tokens)} tokens); skipped"
        ), None
    ctx.deadline = Deadline(seconds)
    ctx.text = chunk.sql[chunk.tokens[0].start : chunk.tokens[-1].end + 1]
    edited = rewrite_tsql(chunk.tokens, chunk.sql) if ctx.dialect in _REWRITE_DIALECTS else None
    if ctx.dialect == "athena":
        edited = athena_backticks(chunk.tokens, chunk.sql)
    if ctx.dialect in _WITH_DATA_DIALECTS:
        edited = trailing_with_data(chunk.tokens, chunk.sql)
    if ctx.dialect == "clickhouse":
        edited = clickhouse_mutation(chunk.tokens, chunk.sql)
    if edited is not None:
        chunk = _with_text(chunk, edited, ctx.dialect)
    rewritten = rewrite_dml(chunk.tokens, chunk.sql) if ctx.dialect in _REWRITE_DIALECTS else None
    merge_delete = merge_delete_span(chunk.tokens) if rewritten is None else None
    if merge_delete is not None:
        rewritten = Rewritten(drop_span(chunk.tokens, chunk.sql, merge_delete))
    if rewritten is not None:
        chunk = _with_text(chunk, rewritten.sql, ctx.dialect)
    ctx.in_body = chunk.in_body
    ctx.trigger_table = chunk.trigger_table
    head = chunk.tokens[0].text.upper()
    try:
        # Procedural statements sqlglot misreads (``OPEN c`` as an alias) or cannot parse.
        expressions = [procedural_statement(head, ctx.text, ctx.dialect)] if head in PROCEDURAL_HEADS else None
        expressions = expressions or _parse_chunk(chunk, ctx.dialect)
    except Exception as error:  # noqa: BLE001
        try:
            parts = _unparsed_statement(chunk, ctx)
        except Exception:  # noqa: BLE001
            parts = None
        if parts is None:
            return None, ParseIssue(statement=index, line=chunk.line, message=_failure(error, chunk)), None
        expressions = [parts]
    if not expressions:
        return None, None, None
    first = expressions[0]
    try:
        extracted = _extract(first, ctx)
    except Exception as error:  # noqa: BLE001
        # Keep what is cheap and safe (tables read and written); say why the columns are missing.
        reason = str(error) if isinstance(error, BudgetExceeded) else f"lineage failed: {_message(error)}"
        issue = ParseIssue(
            statement=index, line=chunk.line, message=f"{reason}; table-level lineage only",
            limited=isinstance(error, BudgetExceeded),
        )
        if not isinstance(first, exp.Expression):
            return None, issue, None
        try:
            # Extraction rewrites the tree as it goes; start again from a fresh parse.
            fresh = _parse_chunk(chunk, ctx.dialect)[0]
            return _statement(index, chunk, extract_tables_only(fresh, ctx)), issue, None
        except Exception:  # noqa: BLE001
            return None, issue, None
    assignment = string_assignment(chunk.tokens)
    if assignment is not None:
        _assign(ctx, assignment[0], assignment[1])
    if extracted.kind == "dynamic_sql":
        literal = _dynamic_literal(chunk, ctx)
        if literal is not None:
            _merge_nested(extracted, literal, ctx, depth=0)
        else:
            extracted.warnings.append("dynamic SQL built at run time: what it reads and writes is not known")
    if len(expressions) > 1:
        extracted.warnings.append(f"{len(expressions)} statements in one chunk; only the first was read")
    if rewritten is not None and rewritten.output_into:
        _add_output_into(extracted, rewritten.output_into, ctx)
    if merge_delete is not None and extracted.targets:
        extracted.effects.append(Effect(kind="delete", table=extracted.targets[0]))
    return _statement(index, chunk, extracted), None, extracted


def _with_text(chunk: Chunk, sql: str, dialect: str) -> Chunk:
    """``chunk`` re-tokenized from rewritten statement text (unchanged if that text has no tokens)."""
    tokens = sqlglot_dialect(dialect).tokenize(sql)
    if not tokens:
        return chunk
    return Chunk(tokens, sql, chunk.line, chunk.procedure, chunk.batch, chunk.in_body, chunk.trigger_table)


def _extract(parsed, ctx: Context) -> Extracted:
    """Lineage of what ``_parse_chunk``/``_unparsed_statement`` produced."""
    if isinstance(parsed, tuple):
        insert, execute = parsed
        return extract_insert_exec(insert, extract(execute, ctx), ctx)
    if isinstance(parsed, Extracted):
        return parsed
    if isinstance(parsed, Embedded):
        extracted = extract(parsed.query, ctx)
        extracted.kind = parsed.kind
        return extracted
    return extract(parsed, ctx)


def _unparsed_statement(chunk: Chunk, ctx: Context):
    """Statements sqlglot cannot parse but whose meaning is known: ``INSERT ... EXEC``, ``EXECUTE AS``,
    procedural statements (``GET DIAGNOSTICS``, ``RAISE``, ``LET``, ``DECLARE ... CURSOR FOR``, ``PERFORM``),
    and any other ``EXEC`` - a dynamic-SQL call (``EXEC ('...' + @x)``) or a procedure call."""
    dialect, text = ctx.dialect, ctx.text
    tokens = chunk.tokens
    first = tokens[0].text.upper()
    if len(tokens) == 2 and tokens[1].token_type == TokenType.COLON:
        return Extracted(kind="label")  # a GOTO target: ``done:``
    if first == "BULK":
        return bulk_insert(text, ctx)
    if first == "LOAD":
        return load_data_text(text, ctx)
    if first in PARSE_FAILURE_HEADS:
        return procedural_statement(first, text, dialect)
    utility = utility_head(token_words(tokens))
    if utility == "set" and any(token.token_type == TokenType.SELECT for token in tokens):
        utility = None  # an unreadable ``SET v = (SELECT ...)`` reads tables: it stays an error
    if utility is not None:
        # T-SQL DENY, WAITFOR, DBCC, CREATE PARTITION FUNCTION ...: known to move no data.
        return Extracted(kind=utility)
    if first not in ("EXEC", "EXECUTE") or len(tokens) < 2:
        return _insert_exec(chunk, dialect)
    second = tokens[1]
    if second.text.upper() == "AS":
        return Extracted(kind="execute_as")
    if second.token_type in (TokenType.L_PAREN, TokenType.PARAMETER) or second.text.upper() == "IMMEDIATE":
        return Extracted(kind="dynamic_sql", calls=[Call(kind="dynamic_sql", text=text)])
    name: list[str] = []
    for token in tokens[1:]:
        if token.token_type == TokenType.DOT or not name or name[-1] == ".":
            name.append("." if token.token_type == TokenType.DOT else token.text.lower())
        else:
            break
    return Extracted(kind="execute", calls=[Call(kind="procedure", target="".join(name), text=text)])


def _dynamic_literal(chunk: Chunk, ctx: Context) -> str | None:
    """The SQL text a dynamic-SQL statement runs, when it is a literal or a variable holding one."""
    literal = dynamic_sql_literal(chunk.tokens)
    if literal is not None:
        return literal
    variable = dynamic_sql_variable(chunk.tokens)
    return ctx.variables.get(variable) if variable else None


def _merge_nested(extracted: Extracted, sql: str, ctx: Context, depth: int) -> None:
    """Merge into ``extracted`` the lineage of SQL that the statement runs itself (a dynamic-SQL literal,
    an OUTPUT ... INTO clause); unreadable inner SQL adds nothing but a warning, the statement's own
    record stands."""
    if depth >= _MAX_DYNAMIC_DEPTH:
        extracted.warnings.append(f"dynamic SQL nested deeper than {_MAX_DYNAMIC_DEPTH} levels not followed")
        return
    chunks, _ = split_statements(sql, ctx.dialect)
    for inner in chunks:
        try:
            nested = _extract(_parse_chunk(inner, ctx.dialect)[0], ctx)
        except Exception as error:  # noqa: BLE001 - unreadable inner SQL adds nothing but the warning
            extracted.warnings.append(f"a statement inside the SQL this one runs is unreadable: {_message(error)}")
            continue
        if nested.kind == "dynamic_sql":
            literal = _dynamic_literal(inner, ctx)
            if literal is not None:
                _merge_nested(nested, literal, ctx, depth + 1)
        extracted.warnings += nested.warnings
        extracted.sources |= nested.sources
        extracted.targets += nested.targets
        extracted.columns += nested.columns
        extracted.effects += nested.effects
        extracted.temp_tables |= nested.temp_tables
        extracted.unresolved |= nested.unresolved


def _add_output_into(extracted: Extracted, output_into: str, ctx: Context) -> None:
    """``OUTPUT inserted.x, deleted.y INTO t``: ``t`` is written from the DML target's columns."""
    changed = extracted.targets[:1] or [e.table for e in extracted.effects if e.kind == "delete"][:1]
    changed = changed or sorted(extracted.temp_tables)[:1]
    if not changed:
        return
    table = changed[0]
    _merge_nested(extracted, f"{output_into} FROM {table} AS inserted CROSS JOIN {table} AS deleted", ctx, depth=0)


def parse_file_bytes(
    data: bytes,
    dialect: str,
    path: str,
    catalog: Catalog | None = None,
    statement_seconds: float = DEFAULT_STATEMENT_SECONDS,
    default_schema: str | None = None,
) -> FileLineage:
    """Decode ``data``, apply a ``-- dialect: x`` header override, and parse. Never raises."""
    return parse_file(data, dialect, path, catalog, statement_seconds, default_schema).lineage


def parse_file(
    data: bytes,
    dialect: str,
    path: str,
    catalog: Catalog | None = None,
    statement_seconds: float = DEFAULT_STATEMENT_SECONDS,
    default_schema: str | None = None,
    *,
    previous: Previous | None = None,
) -> Parsed:
    """``parse_file_bytes`` with ``parse_text``'s statement reuse and memo. Never raises."""
    try:
        if len(data) > MAX_FILE_BYTES:
            return Parsed(FileLineage(
                path=path,
                dialect=canonical_dialect(dialect) or _FALLBACK_DIALECT,
                errors=[ParseIssue(message=f"file too large ({len(data)} bytes > {MAX_FILE_BYTES}); not parsed")],
            ))
        text, encoding, issue = decode(data)
        if text is None:
            return Parsed(FileLineage(
                path=path, dialect=canonical_dialect(dialect) or _FALLBACK_DIALECT, errors=[issue] if issue else []
            ))
        chosen = header_dialect(text) or dialect
        parsed = parse_text(text, chosen, path, catalog, statement_seconds, default_schema, previous=previous)
        return parsed._replace(lineage=parsed.lineage.model_copy(update={"encoding": encoding}))
    except Exception as error:  # noqa: BLE001
        return Parsed(FileLineage(
            path=path,
            dialect=canonical_dialect(dialect) or _FALLBACK_DIALECT,
            errors=[ParseIssue(message=f"internal parser error: {_message(error)}")],
        ))
