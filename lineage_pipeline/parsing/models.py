"""Typed lineage records produced by the parser: file -> statements -> tables, column edges, effects, errors.

Names are normalized strings: lower-cased unless quoted in a case-sensitive dialect, and qualified exactly
as far as the SQL says (``table``, ``schema.table`` or ``catalog.schema.table``); a column name is its
table name plus ``.column``. Temp tables never appear in ``sources``/``targets``; they may appear in
``temp_tables`` as detail.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Transform = Literal["direct", "expression", "aggregation", "window", "filter", "join", "unknown"]
"""How a written column derives from its sources: ``direct`` copy, ``expression`` over sources,
``aggregation`` (SUM, COUNT, ...), ``window`` function; ``filter``/``join`` for columns that only
constrain rows (WHERE, JOIN ON) rather than provide values."""

TargetKind = Literal["table", "view"]
"""What a statement's target is: a table, or a (possibly materialized) view."""

ColumnMapping = Literal["named", "catalog", "assumed"]
"""How written columns were matched to values (see ``StatementLineage.column_mapping``)."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnEdge(_Record):
    """One written column and the source columns it derives from."""

    target: str
    sources: list[str]
    transform: Transform = "direct"


class Effect(_Record):
    """A statement's effect on a table that is not lineage: TRUNCATE, DROP, ALTER, RENAME, DELETE."""

    kind: str
    table: str
    detail: str | None = None


class Call(_Record):
    """A call the parser cannot follow statically: a procedure call or dynamic SQL."""

    kind: Literal["procedure", "dynamic_sql"]
    target: str | None = None
    text: str | None = None


class StatementLineage(_Record):
    """Lineage of one statement (a procedure contributes the statements of its body)."""

    index: int
    kind: str
    """Upper-case SQL words: ``INSERT``, ``INSERT OVERWRITE``, ``CREATE VIEW``, ``MERGE``, ``DYNAMIC SQL``..."""
    line: int = 1
    sources: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    columns: list[ColumnEdge] = Field(default_factory=list)
    effects: list[Effect] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    temp_tables: list[str] = Field(default_factory=list)
    target_kind: TargetKind = "table"
    defined_columns: list[str] = Field(default_factory=list)
    """Ordered columns this statement defines for its single target (CREATE TABLE/VIEW, CTAS, SELECT INTO)."""
    procedure: str | None = None
    """The procedure/function/trigger whose body holds this statement, if any."""
    unresolved_columns: list[str] = Field(default_factory=list)
    """Source columns that feed a written column but whose table the SQL does not determine (no catalog)."""
    column_mapping: ColumnMapping | None = None
    """How written columns were matched to values: listed in the SQL, from the catalog (both by position),
    or assumed from the query's output names because the target's columns are unknown. When assumed, an
    unaliased expression has no name and is written as ``_col_<position>`` (0-based, sqlglot's naming);
    a warning says so, and a catalog pass maps it by position."""


class ParseIssue(_Record):
    """A statement (or the whole file, ``statement=None``) that could not be read; the rest goes on."""

    statement: int | None = None
    line: int | None = None
    message: str
    limited: bool = False
    """Cut short by a time budget: a result with such an issue says what one run managed, not what the
    content holds, so it is never kept as final."""


class FileLineage(_Record):
    """Everything the parser extracted from one SQL file."""

    path: str
    dialect: str
    statements: list[StatementLineage] = Field(default_factory=list)
    errors: list[ParseIssue] = Field(default_factory=list)
    warnings: list[ParseIssue] = Field(default_factory=list)
    """Statements read only in part: opaque commands, unresolved columns, assumed column mapping,
    dynamic SQL not followed. ``errors`` are statements (or files) not read at all or table-level only."""
    encoding: str | None = None
    """Text encoding the file was decoded with (set by ``parse_file_bytes``)."""
