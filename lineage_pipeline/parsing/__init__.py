"""Pure SQL-lineage extraction: SQL text or bytes -> ``FileLineage`` (tables, column edges, effects, calls).

No Dagster and no database client here; built on sqlglot. Public functions never raise: failures are
``ParseIssue`` records and the rest of the file is still read.

Conventions: ``StatementLineage.index`` is the 0-based position of the statement among all statements
split from the file (a failed statement keeps its number, in ``ParseIssue.statement``); ``line`` is the
1-based line of its first token. A procedure/function/trigger contributes the statements of its body
(``procedure`` names it); IF/WHILE conditions and BEGIN/END/TRY/CATCH are dropped. An empty or
comment-only file yields no statements and no errors. Two passes give full column lineage: parse
everything, ``build_catalog`` the results, parse again with the catalog (``SELECT *`` expands and
unqualified columns resolve; without a catalog ``*`` is recorded as ``table.*``).
"""

from lineage_pipeline.parsing.catalog import Catalog, build_catalog
from lineage_pipeline.parsing.decoding import decode_sql_bytes
from lineage_pipeline.parsing.dialects import SUPPORTED_DIALECTS, header_dialect
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
    parse_file_bytes,
    parse_sql,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_STATEMENT_TOKENS",
    "PARSER_VERSION",
    "SUPPORTED_DIALECTS",
    "Call",
    "Catalog",
    "ColumnEdge",
    "Effect",
    "FileLineage",
    "ParseIssue",
    "StatementLineage",
    "build_catalog",
    "decode_sql_bytes",
    "header_dialect",
    "parse_file_bytes",
    "parse_sql",
]
