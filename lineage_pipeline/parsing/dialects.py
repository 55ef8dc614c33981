"""Dialect names accepted by the parser, their aliases, and the per-file ``-- dialect: x`` header override."""

import re
from collections.abc import Iterable
from difflib import get_close_matches
from functools import cache

from sqlglot.dialects import DIALECT_MODULE_NAMES
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from lineage_pipeline.parsing.names import word_set

# The dialects this parser was written against first; every other dialect the installed sqlglot
# ships is accepted too (``SUPPORTED_DIALECTS``), so upgrading sqlglot widens the list by itself.
_CORE_DIALECTS = (
    "ansi",
    "tsql",
    "fabric",
    "snowflake",
    "bigquery",
    "postgres",
    "redshift",
    "spark",
    "databricks",
    "hive",
    "oracle",
    "mysql",
    "duckdb",
    "trino",
    "presto",
    "athena",
    "sqlite",
    "teradata",
)

_ALIASES = {
    "generic": "ansi",
    "sql": "ansi",
    "none": "ansi",
    "sqlserver": "tsql",
    "mssql": "tsql",
    "t-sql": "tsql",
    "azuresql": "tsql",
    "synapse": "tsql",
    "postgresql": "postgres",
    "pg": "postgres",
    "psql": "postgres",
    "plpgsql": "postgres",
    "plsql": "oracle",
    "sparksql": "spark",
    "spark2": "spark",
    "mariadb": "mysql",
    "bq": "bigquery",
    "sf": "snowflake",
    "ch": "clickhouse",
    "azuresynapse": "tsql",
}

SUPPORTED_DIALECTS: tuple[str, ...] = _CORE_DIALECTS + tuple(
    # sqlglot's list of dialect module names: ``Dialect.classes`` would import every dialect (~0.3 s)
    sorted(name for name in set(DIALECT_MODULE_NAMES) if name not in _CORE_DIALECTS and name not in _ALIASES)
)
"""Every dialect name the parser accepts: ``ansi`` (sqlglot's generic dialect) and each sqlglot dialect."""

LATERAL_ALIAS_DIALECTS = frozenset(("snowflake", "databricks", "spark", "duckdb", "redshift", "teradata"))
"""Dialects where a projection may use an earlier projection's alias (``SELECT a * r AS eur, eur * 2 ...``)."""

PSEUDO_COLUMNS: dict[str, frozenset[str]] = {
    "oracle": word_set(
        "level rownum rowid connect_by_isleaf connect_by_iscycle ora_rowscn sysdate systimestamp user uid"
    ),
}
"""Bare names a dialect computes itself; they never resolve to a table's column."""


# Only the first lines count: a dialect comment deep in a file is prose, not a directive.
_HEADER_LINES = 5
_COMMENT_RE = re.compile(r"^\s*(?:--|#|//|/\*|\*)")
_HEADER_RE = re.compile(r"^\s*(?:--|#|//|/\*)\s*dialect\s*[:=]\s*([A-Za-z0-9_\-]+)", re.IGNORECASE)

# Dialects where an identifier keeps its spelling only when quoted and different from the dialect's
# case fold; everywhere else names compare case-insensitively and are lower-cased.
_FOLDING_STRATEGIES = (NormalizationStrategy.LOWERCASE, NormalizationStrategy.UPPERCASE)


def canonical_dialect(name: str | None) -> str | None:
    """Map a user-supplied dialect name (any case, common aliases) to a supported name, else ``None``.

    No name at all (``None``/``""``) means sqlglot's generic dialect, ``ansi``.
    """
    if not name or not name.strip():
        return "ansi"
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in SUPPORTED_DIALECTS else None


def validate_dialect(name: str | None, extra: Iterable[str] = ()) -> str | None:
    """``None`` when ``name`` is an accepted dialect (or alias, or one of ``extra`` such as ``"auto"``),
    else a one-line message naming close matches."""
    key = str(name or "").strip().lower()
    extras = [word.lower() for word in extra]
    if canonical_dialect(name) is not None or key in extras:
        return None
    close = get_close_matches(key, [*SUPPORTED_DIALECTS, *_ALIASES, *extras], n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_ALIASES.get(match, match) for match in close))
    hint = f"did you mean {' or '.join(suggestions)}? " if suggestions else ""
    return f"unknown SQL dialect {name!r}: {hint}(accepted: {', '.join(SUPPORTED_DIALECTS)})"


def header_dialect(text: str) -> str | None:
    """The dialect named by a ``-- dialect: x`` comment among the first few lines of ``text``, before any SQL."""
    try:
        for line in text.splitlines()[:_HEADER_LINES]:
            match = _HEADER_RE.match(line)
            if match:
                return canonical_dialect(match.group(1))
            if line.strip() and not _COMMENT_RE.match(line):
                return None
    except Exception:  # noqa: BLE001 - a header is a hint; a bad one must never break parsing
        return None
    return None


@cache
def sqlglot_dialect(dialect: str) -> Dialect:
    """The sqlglot dialect object for a supported name (``ansi`` is sqlglot's generic dialect)."""
    return Dialect.get_or_raise("" if dialect == "ansi" else dialect)


def folds_case(dialect: str) -> str | None:
    """``"lower"``/``"upper"`` if unquoted names fold to that case and quoted ones are exact; else ``None``."""
    strategy = sqlglot_dialect(dialect).NORMALIZATION_STRATEGY
    if strategy not in _FOLDING_STRATEGIES:
        return None
    return "lower" if strategy == NormalizationStrategy.LOWERCASE else "upper"
