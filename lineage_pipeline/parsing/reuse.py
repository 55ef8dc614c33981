"""Statement reuse: a file parsed again after an edit takes the lineage of each statement it had before,
read in the same state, from its previous parse instead of reading it again.

A statement's lineage depends on its own text and on what the statements before it left: temp tables
with their columns' derivations, tables the file defined, string variables, the batch. ``FileTables``
journals every such change as data; a digest chained over those changes stands for the state, so a
statement is reused only when its text and the state it is read in are both those of before (and,
for a statement with errors or warnings, its place in the file: messages may quote positions).
Reusing it redoes its journal, so the state after it is exactly the one a fresh read would leave.

The memo of a parse lists, per statement, its key and journal and where its records sit in the
``FileLineage`` (statement, errors, warnings); record numbers and lines are stamped afresh on reuse.
Only first-pass parses (no catalog) without renames or a default schema keep a memo: there the
records the file holds are exactly what each statement produced.
"""

import hashlib
import json
import zlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from lineage_pipeline.parsing.models import FileLineage, ParseIssue, StatementLineage
from lineage_pipeline.parsing.splitting import Chunk

MEMO_VERSION = 3
"""Layout of an encoded memo and the way its keys are made; a memo of another version is ignored."""


class MemoEntry(NamedTuple):
    """One statement of a parse: its key (text and state read in; '' never matches), the state changes it
    made, and the positions of its records in the file's statements, errors and warnings (a tuple: one is
    made per statement parsed)."""

    key: str
    journal: tuple[Any, ...]
    statement: int | None
    errors: tuple[int, ...]
    warnings: tuple[int, ...]


class Previous(NamedTuple):
    """What an earlier parse of a file left to reuse: its lineage and its memo's entries by key."""

    lineage: FileLineage
    entries: dict[str, MemoEntry]


class Reused(NamedTuple):
    """A statement's records taken from an earlier parse, numbered as the statement now is."""

    statement: StatementLineage | None
    errors: list[ParseIssue]
    warnings: list[ParseIssue]
    journal: tuple[Any, ...]


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def start_digest(parser_version: str, dialect: str, statement_seconds: float) -> str:
    """The state a file's first statement is read in."""
    return _digest("start", parser_version, dialect, repr(statement_seconds))


def after_batch(digest: str, batch: int) -> str:
    """The state once a new T-SQL batch begins (its variables are forgotten)."""
    return _digest(digest, "batch", str(batch))


def after_changes(digest: str, journal: Sequence[Any]) -> str:
    """The state after a statement that made ``journal``'s changes (the same state when it made none)."""
    if not journal:
        return digest
    return _digest(digest, json.dumps(list(journal), separators=(",", ":"), ensure_ascii=False))


def statement_key(digest: str, chunk: Chunk) -> str:
    """What a statement's lineage is a function of: the state it is read in, its text (which fixes its
    tokens: a chunk is a run of the file's tokens, and their count is in the key) and where the splitter
    found it (routine, batch, block, trigger); not its position: record numbers and lines are stamped
    on reuse."""
    tokens = chunk.tokens
    text = chunk.sql[tokens[0].start : tokens[-1].end + 1]
    place = (chunk.procedure or "", str(chunk.batch), str(chunk.in_body), chunk.trigger_table or "\x00")
    return _digest(digest, text, str(len(tokens)), *place)


def placed_key(key: str, chunk: Chunk) -> str:
    """``key`` tied to where the statement sits in the file: the key of a statement with errors or warnings,
    whose messages may quote token positions (sqlglot's parse errors do)."""
    comments = repr([token.comments for token in chunk.tokens])  # a parse error quotes its token's comments too
    return _digest(key, str(chunk.line), str(chunk.tokens[0].start), comments)


def reuse(previous: Previous | None, key: str, index: int, line: int) -> Reused | None:
    """The records of the earlier statement with ``key``, as statement ``index`` at ``line``; None if none."""
    if previous is None:
        return None
    entry = previous.entries.get(key)
    if entry is None:
        return None
    lineage = previous.lineage
    try:
        statement = None if entry.statement is None else lineage.statements[entry.statement]
        errors = [lineage.errors[i] for i in entry.errors]
        warnings = [lineage.warnings[i] for i in entry.warnings]
    except IndexError:
        return None  # a memo that does not fit its lineage: read the statement
    numbered = {"statement": index, "line": line}
    return Reused(
        None if statement is None else statement.model_copy(update={"index": index, "line": line}),
        [issue.model_copy(update=numbered) for issue in errors],
        [issue.model_copy(update=numbered) for issue in warnings],
        entry.journal,
    )


def encode_memo(entries: list[MemoEntry]) -> bytes:
    """``entries`` as compressed JSON (zlib's checksum makes a damaged memo undecodable, never misread)."""
    rows = [[e.key, list(e.journal), e.statement, list(e.errors), list(e.warnings)] for e in entries]
    return zlib.compress(json.dumps([MEMO_VERSION, rows], separators=(",", ":"), ensure_ascii=False).encode(), 1)


def decode_memo(data: bytes | None) -> dict[str, MemoEntry]:
    """Entries by key of an ``encode_memo`` result; empty for anything else (never raises)."""
    if not data:
        return {}
    try:
        version, rows = json.loads(zlib.decompress(data))
        if version != MEMO_VERSION:
            return {}
        entries = {}
        for key, journal, statement, errors, warnings in rows:
            if key:
                entries[key] = MemoEntry(key, tuple(journal), statement, tuple(errors), tuple(warnings))
        return entries
    except (ValueError, TypeError, zlib.error):
        return {}
