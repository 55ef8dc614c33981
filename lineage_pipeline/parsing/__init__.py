"""Pure SQL-lineage extraction: SQL text or bytes -> ``FileLineage`` (tables, column edges, effects, calls).

No Dagster and no database client here; built on sqlglot. Public functions never raise: failures are
``ParseIssue`` records and the rest of the file is still read.

Conventions: ``StatementLineage.index`` is the 0-based position of the statement among all statements
split from the file (a failed statement keeps its number, in ``ParseIssue.statement``); ``line`` is the
1-based line of its first token. A procedure/function/trigger contributes the statements of its body
(``procedure`` names it); IF/WHILE conditions and BEGIN/END/TRY/CATCH are dropped. Utility statements
(USE, SET options, SHOW, DESCRIBE, EXPLAIN, ANALYZE, GRANT, COMMENT ON, ...) have no sources or targets;
a statement sqlglot keeps as an opaque command is never mined for names (a warning says it was not read). An empty or
comment-only file yields no statements and no errors. ``StatementLineage.kind`` is upper-case SQL
words (``INSERT``, ``CREATE VIEW``, ``SELECT INTO``, ``DYNAMIC SQL``). Names are qualified exactly as
far as the SQL says unless ``default_schema`` is passed (then unqualified tables are put in it).

Corpus-wide catalog pass (pure functions, for the pipeline and ``lineage parse``): without a catalog
``*`` is recorded as ``table.*`` and a column whose table the SQL does not say is in
``unresolved_columns``; with one, ``SELECT *`` expands and columns resolve.

- ``catalog_entries(lineage)``: ``{table: (columns...)}`` the file defines (DDL, views, CTAS, SELECT INTO);
  ``build_catalog(lineages)`` merges them (later files win).
- ``needs_catalog(lineage)``: whether any catalog could change the file's lineage (``*``, unresolved
  columns, INSERT without a column list); ``catalog_dependencies(lineage)``: the tables whose entries
  matter (empty when none do).
- ``catalog.subset(catalog_dependencies(first_pass)).fingerprint()``: a per-file cache key part that
  changes only when an entry the file depends on changes (compute it from the first-pass lineage,
  which still shows every ``*``); re-parse with ``parse_file_bytes(..., catalog=catalog)``.
- ``validate_dialect(name)``: ``None`` or a one-line message with close matches (settings check at startup).
- ``suggest_dialect(texts, configured, sample=20, label=...)``: the dialect that reads a domain's files
  best, with a one-line message; ``unread_statements(lineages)`` gives ``(statements, unread)`` to decide
  when to call it.
- ``FileLineage.warnings``: statements read only in part (opaque commands, unresolved columns, assumed
  column mapping, dynamic SQL not followed); ``errors`` are statements not read or table-level only.
- ``resolve_with_catalog(first_pass_by_path, reparse)``: the whole second pass - build the catalog,
  re-parse only the files it can change, repeat while new columns appear (views over views).
"""

from lineage_pipeline.parsing.catalog import (
    Catalog,
    build_catalog,
    catalog_dependencies,
    catalog_entries,
    needs_catalog,
    resolve_with_catalog,
)
from lineage_pipeline.parsing.decoding import decode_sql_bytes
from lineage_pipeline.parsing.dialect_guess import (
    DialectSuggestion,
    DialectTrial,
    suggest_dialect,
    unread_statements,
)
from lineage_pipeline.parsing.dialects import (
    SUPPORTED_DIALECTS,
    header_dialect,
    validate_dialect,
)
from lineage_pipeline.parsing.models import (
    Call,
    ColumnEdge,
    Effect,
    FileLineage,
    ParseIssue,
    StatementLineage,
)
from lineage_pipeline.parsing.parser import (
    MAX_FILE_BYTES,
    MAX_STATEMENT_TOKENS,
    PARSER_VERSION,
    Parsed,
    parse_file,
    parse_file_bytes,
    parse_sql,
    parse_text,
)
from lineage_pipeline.parsing.reuse import Previous, decode_memo

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_STATEMENT_TOKENS",
    "PARSER_VERSION",
    "SUPPORTED_DIALECTS",
    "Call",
    "Catalog",
    "ColumnEdge",
    "DialectSuggestion",
    "DialectTrial",
    "Effect",
    "FileLineage",
    "ParseIssue",
    "Parsed",
    "Previous",
    "StatementLineage",
    "build_catalog",
    "catalog_dependencies",
    "catalog_entries",
    "decode_memo",
    "decode_sql_bytes",
    "header_dialect",
    "needs_catalog",
    "parse_file",
    "parse_file_bytes",
    "parse_sql",
    "parse_text",
    "resolve_with_catalog",
    "suggest_dialect",
    "unread_statements",
    "validate_dialect",
]
