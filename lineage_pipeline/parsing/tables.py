"""What one file knows about tables while it is read: catalog columns and its temp tables' lineage.

A temp table (``#t``, ``##t``, ``@t`` or one created TEMP/TEMPORARY/VOLATILE) is a hop, not a node:
reading it yields the persistent tables and columns that were written into it earlier in the file.
"""

from dataclasses import dataclass, field
from typing import Any

from lineage_pipeline.parsing.catalog import Catalog
from lineage_pipeline.parsing.models import Transform
from lineage_pipeline.parsing.names import column_name, is_temp

RANKS = {"direct": 0, "expression": 1, "aggregation": 2, "window": 3}


@dataclass(frozen=True)
class Derivation:
    """Where one value comes from: persistent source columns and the strongest transform on the way."""

    sources: frozenset[str] = frozenset()
    transform: Transform = "direct"
    unresolved: frozenset[str] = frozenset()

    def merge(self, other: "Derivation") -> "Derivation":
        # Merging with nothing is the commonest case (every merge loop starts from EMPTY): no new object.
        if other is EMPTY:
            return self
        if self is EMPTY:
            return other
        transform = self.transform if RANKS[self.transform] >= RANKS[other.transform] else other.transform
        return Derivation(self.sources | other.sources, transform, self.unresolved | other.unresolved)

    def at_least(self, transform: Transform) -> "Derivation":
        if RANKS[transform] <= RANKS[self.transform]:
            return self
        return Derivation(self.sources, transform, self.unresolved)


EMPTY = Derivation()


@dataclass
class TempTable:
    """Lineage captured for one temp table: per column, a pass-through star, and table-level sources."""

    columns: dict[str, Derivation] = field(default_factory=dict)
    star: Derivation | None = None
    sources: set[str] = field(default_factory=set)


@dataclass
class FileTables:
    """Catalog plus the temp tables defined so far in the file being parsed."""

    catalog: Catalog | None = None
    temps: dict[str, TempTable] = field(default_factory=dict)
    temp_names: set[str] = field(default_factory=set)
    # Persistent tables the file itself defined earlier (DDL, CTAS, views): they outrank the catalog.
    defined: dict[str, tuple[str, ...]] = field(default_factory=dict)
    journal: list[list[Any]] | None = None
    """When a list, every change is appended to it as JSON-able data (``replay`` redoes it): what a
    statement left for the statements after it, so a parse can reuse a statement without reading it."""

    def _note(self, *change: Any) -> None:
        if self.journal is not None:
            self.journal.append(list(change))

    def is_temp(self, name: str) -> bool:
        return is_temp(name) or name in self.temp_names

    def declare_temp(self, name: str) -> None:
        """Mark ``name`` as temporary (CREATE TEMP TABLE), so it never surfaces as a node."""
        self._note("declare", name)
        self.temp_names.add(name)

    def columns_of(self, name: str) -> tuple[str, ...] | None:
        """Ordered known columns: a temp's recorded ones, else the catalog's."""
        if self.is_temp(name):
            temp = self.temps.get(name)
            return tuple(temp.columns) if temp and temp.columns and temp.star is None else None
        if name in self.defined:
            return self.defined[name]
        return self.catalog.columns(name) if self.catalog is not None else None

    def define(self, name: str, columns: list[str]) -> None:
        """Record the columns of persistent table ``name`` as defined by a statement of this file."""
        if columns:
            self._note("define", name, list(columns))
            self.defined[name] = tuple(columns)

    def column(self, table: str, column: str) -> Derivation:
        """Derivation of ``table.column``: itself if persistent, else what was written into the temp."""
        if not self.is_temp(table):
            return Derivation(frozenset((column_name(table, column),)))
        temp = self.temps.get(table)
        if temp is None:
            return Derivation(unresolved=frozenset((column_name(table, column),)))
        found = temp.columns.get(column)
        if found is not None:
            return found
        if temp.star is not None:
            return through_star(temp.star, column)
        return Derivation(unresolved=frozenset((column_name(table, column),)))

    def star(self, table: str) -> Derivation:
        """Derivation of ``table.*``: the explicit star if persistent, else everything written into the temp."""
        if not self.is_temp(table):
            return Derivation(frozenset((column_name(table, "*"),)))
        temp = self.temps.get(table)
        if temp is None:
            return EMPTY
        result = temp.star or EMPTY
        for derivation in temp.columns.values():
            result = result.merge(derivation)
        return result

    def table_sources(self, table: str) -> set[str]:
        """Persistent tables behind ``table`` (itself unless temp)."""
        if not self.is_temp(table):
            return {table}
        temp = self.temps.get(table)
        return set(temp.sources) if temp else set()

    def write_temp(
        self,
        name: str,
        columns: dict[str, Derivation],
        star: Derivation | None,
        sources: set[str],
        replace: bool,
    ) -> None:
        """Record a write into temp ``name``; ``replace`` for CREATE/SELECT INTO, else merge (INSERT)."""
        if self.journal is not None:
            written = [[column, _data(derivation)] for column, derivation in columns.items()]
            self._note("write", name, written, None if star is None else _data(star), sorted(sources), replace)
        temp = self.temps.get(name)
        if replace or temp is None:
            self.temps[name] = TempTable(dict(columns), star, set(sources))
            return
        for column, derivation in columns.items():
            previous = temp.columns.get(column)
            temp.columns[column] = derivation if previous is None else previous.merge(derivation)
        if star is not None:
            temp.star = star if temp.star is None else temp.star.merge(star)
        temp.sources |= sources

    def define_temp(self, name: str, columns: list[str]) -> None:
        """A temp declared with columns but no rows yet (CREATE TABLE #t (...), DECLARE @t TABLE)."""
        self._note("define_temp", name, list(columns))
        self.temps[name] = TempTable({column: EMPTY for column in columns}, None, set())

    def drop_temp(self, name: str) -> None:
        self._note("drop", name)
        self.temps.pop(name, None)

    def replay(self, change: list[Any]) -> None:
        """Redo one ``journal`` entry (as recorded by this class; the entry is trusted to be one)."""
        op, name, *args = change
        if op == "declare":
            self.declare_temp(name)
        elif op == "define":
            self.define(name, args[0])
        elif op == "write":
            columns, star, sources, replace = args
            derived = {column: _derivation(data) for column, data in columns}
            self.write_temp(name, derived, None if star is None else _derivation(star), set(sources), replace)
        elif op == "define_temp":
            self.define_temp(name, args[0])
        elif op == "drop":
            self.drop_temp(name)
        else:
            raise ValueError(f"not a table change: {op!r}")


def _data(derivation: Derivation) -> list[Any]:
    """``derivation`` as JSON-able data in a canonical order (its digest must not depend on set order)."""
    return [sorted(derivation.sources), derivation.transform, sorted(derivation.unresolved)]


def _derivation(data: list[Any]) -> Derivation:
    sources, transform, unresolved = data
    if not sources and not unresolved and transform == "direct":
        return EMPTY  # merging treats the empty derivation by identity
    return Derivation(frozenset(sources), transform, frozenset(unresolved))


def through_star(star: Derivation, column: str) -> Derivation:
    """Column ``column`` read through an unexpanded ``*``: ``t.column`` when the star covers one table only;
    otherwise the star's own sources (``a.*``, ``b.*``), never a guessed column."""
    tables = [source[:-2] for source in star.sources if source.endswith(".*")]
    if len(tables) == 1 and len(star.sources) == 1:
        return Derivation(frozenset((column_name(tables[0], column),)), star.transform, star.unresolved)
    return star
