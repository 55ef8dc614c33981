"""Dialect names accepted by the parser, their aliases, and the per-file ``-- dialect: x`` header override."""

import re

from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

SUPPORTED_DIALECTS: tuple[str, ...] = (
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
}

# Only the first lines count: a dialect comment deep in a file is prose, not a directive.
_HEADER_LINES = 5
_HEADER_RE = re.compile(r"^\s*(?:--|#|//|/\*)\s*dialect\s*[:=]\s*([A-Za-z0-9_\-]+)", re.IGNORECASE)

# Dialects where an identifier keeps its spelling only when quoted and different from the dialect's
# case fold; everywhere else names compare case-insensitively and are lower-cased.
_FOLDING_STRATEGIES = (NormalizationStrategy.LOWERCASE, NormalizationStrategy.UPPERCASE)


def canonical_dialect(name: str | None) -> str | None:
    """Map a user-supplied dialect name (any case, common aliases) to a supported name, else ``None``."""
    if not name:
        return None
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in SUPPORTED_DIALECTS else None


def header_dialect(text: str) -> str | None:
    """The dialect named by a ``-- dialect: x`` comment in the first few lines of ``text``, if supported."""
    try:
        for line in text.splitlines()[:_HEADER_LINES]:
            match = _HEADER_RE.match(line)
            if match:
                return canonical_dialect(match.group(1))
    except Exception:  # a header is a hint; a bad one must never break parsing
        return None
    return None


def folds_case(dialect: str) -> str | None:
    """``"lower"``/``"upper"`` if unquoted names fold to that case and quoted ones are exact; else ``None``."""
    strategy = Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY
    if strategy not in _FOLDING_STRATEGIES:
        return None
    return "lower" if strategy == NormalizationStrategy.LOWERCASE else "upper"
