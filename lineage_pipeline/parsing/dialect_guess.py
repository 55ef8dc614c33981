"""Which dialect reads a set of files best: parse a sample with the configured dialect and the other
likely ones, and report the one that leaves the fewest statements unread.

For the pipeline to call when a domain's statement error rate is high (``unread_statements``) and for
``dialect: auto``. Pure and deterministic: the same texts give the same sample and the same answer.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lineage_pipeline.parsing.dialects import canonical_dialect
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline.parsing.parser import parse_sql

LIKELY_DIALECTS: tuple[str, ...] = (
    "tsql",
    "postgres",
    "snowflake",
    "bigquery",
    "redshift",
    "mysql",
    "oracle",
    "spark",
    "databricks",
    "hive",
    "duckdb",
    "trino",
    "ansi",
)
"""Dialects tried by default besides the configured one (warehouse SQL is nearly always one of these)."""

DEFAULT_SAMPLE_FILES = 20
_SAMPLE_CHARS = 20_000  # per file: enough statements to judge, bounded cost (~1 s per dialect at most)
_SAMPLE_SECONDS = 0.5  # per statement while sampling; a slow statement is not what decides
_OPAQUE = "opaque command"  # the warning every dialect gives a statement it kept unread


@dataclass(frozen=True)
class DialectTrial:
    """How many of the sampled statements one dialect failed to read."""

    dialect: str
    statements: int
    unread: int

    @property
    def rate(self) -> float:
        return self.unread / self.statements if self.statements else 0.0


@dataclass(frozen=True)
class DialectSuggestion:
    """The outcome of trying dialects on a sample: ``best`` and every trial, best first."""

    configured: str
    best: str
    trials: tuple[DialectTrial, ...]
    sampled_files: int
    message: str

    @property
    def switch(self) -> bool:
        """True when another dialect reads the sample clearly better than the configured one."""
        return self.best != self.configured


def unread_statements(lineages: Iterable[FileLineage]) -> tuple[int, int]:
    """``(statements, unread)`` over ``lineages``: unread are statements that failed to parse or were
    kept as opaque commands (a wrong dialect often yields those instead of errors)."""
    total = unread = 0
    for lineage in lineages:
        read = {statement.index for statement in lineage.statements}
        failed = {issue.statement for issue in lineage.errors if issue.statement is not None} - read
        opaque = {issue.statement for issue in lineage.warnings if _OPAQUE in issue.message}
        total += len(read) + len(failed)
        unread += len(failed) + len(opaque & read)
    return total, unread


def _sample(texts: Sequence[str], size: int) -> list[str]:
    """Up to ``size`` non-empty texts spread evenly over ``texts``, each cut to a bounded length."""
    present = [text for text in texts if text and text.strip()]
    if len(present) > size > 0:
        step = len(present) / size
        present = [present[int(i * step)] for i in range(size)]
    return [text[:_SAMPLE_CHARS] for text in present]


def _trial(texts: list[str], dialect: str) -> DialectTrial:
    statements, unread = unread_statements(
        parse_sql(text, dialect, statement_seconds=_SAMPLE_SECONDS) for text in texts
    )
    return DialectTrial(dialect, statements, unread)


def suggest_dialect(
    texts: Sequence[str],
    configured: str,
    *,
    sample: int = DEFAULT_SAMPLE_FILES,
    candidates: Sequence[str] = LIKELY_DIALECTS,
    label: str = "",
    min_gain: float = 0.05,
) -> DialectSuggestion:
    """Try ``configured`` and ``candidates`` on a sample of ``texts``; ``best`` is the dialect leaving the
    fewest statements unread, the configured one unless another does better by ``min_gain`` (a rate).
    ``label`` (e.g. the domain or folder) starts the one-line ``message``. Never raises on SQL input."""
    configured_name = canonical_dialect(configured) or "ansi"
    sampled = _sample(texts, sample)
    names = [name for name in dict.fromkeys([configured_name, *(canonical_dialect(c) for c in candidates)]) if name]
    own = _trial(sampled, configured_name)
    # A sample the configured dialect reads whole needs no other opinion.
    trials = [own] + ([_trial(sampled, name) for name in names[1:]] if own.unread else [])
    ranked = sorted(trials, key=lambda t: (t.rate, t.dialect != configured_name, names.index(t.dialect)))
    best = ranked[0] if own.rate - ranked[0].rate >= min_gain else own
    prefix = f"{label}: " if label else ""
    if not own.statements:
        message = f"{prefix}no statements to judge the dialect by"
    elif best is own:
        message = f"{prefix}{own.rate:.0%} of statements fail as {own.dialect}; no other dialect does clearly better"
    else:
        message = (
            f"{prefix}{own.rate:.0%} of statements fail as {own.dialect}; {best.rate:.0%} as {best.dialect}"
            f" - set folder_dialects (or a '-- dialect: {best.dialect}' header)"
        )
    return DialectSuggestion(configured_name, best.dialect, tuple(ranked), len(sampled), message)
