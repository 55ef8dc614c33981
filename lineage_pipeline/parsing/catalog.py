"""Corpus-wide catalog: table name -> ordered column names, built from CREATE TABLE / VIEW / CTAS statements."""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping

from lineage_pipeline.parsing.models import FileLineage, StatementLineage


class Catalog(Mapping[str, tuple[str, ...]]):
    """Read-only mapping of normalized table name to its ordered column names.

    ``columns(name)`` also matches a name written with less or more qualification than the key
    (``orders`` vs ``dbo.orders``) when exactly one key fits; exact keys always win.
    """

    def __init__(self, tables: Mapping[str, Iterable[str]] | None = None):
        self._tables: dict[str, tuple[str, ...]] = {
            name: tuple(columns) for name, columns in (tables or {}).items()
        }
        self._by_last: dict[str, list[str]] = {}
        for name in self._tables:
            self._by_last.setdefault(name.rsplit(".", 1)[-1], []).append(name)

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        return f"Catalog({len(self._tables)} tables)"

    def resolve(self, name: str) -> str | None:
        """The catalog key for table ``name``: exact, else the single key differing only in qualification."""
        if name in self._tables:
            return name
        candidates = [
            key
            for key in self._by_last.get(name.rsplit(".", 1)[-1], ())
            if key.endswith("." + name) or name.endswith("." + key)
        ]
        return candidates[0] if len(candidates) == 1 else None

    def columns(self, name: str) -> tuple[str, ...] | None:
        """Ordered columns of table ``name`` (see ``resolve``), or ``None`` if unknown."""
        key = self.resolve(name)
        return self._tables[key] if key is not None else None

    def fingerprint(self) -> str:
        """Stable digest of the contents, for cache keys."""
        digest = hashlib.sha256()
        for name in sorted(self._tables):
            digest.update(name.encode())
            digest.update(b"\x00" + "\x01".join(self._tables[name]).encode() + b"\x02")
        return digest.hexdigest()[:16]


    def subset(self, names: Iterable[str]) -> "Catalog":
        """The entries that table names ``names`` resolve to: what one file's lineage can depend on
        (its fingerprint is a per-file cache key that ignores unrelated catalog changes)."""
        keys = {key for key in (self.resolve(name) for name in names) if key is not None}
        return Catalog({key: self._tables[key] for key in sorted(keys)})


def catalog_entries(lineage: FileLineage) -> dict[str, tuple[str, ...]]:
    """Tables ``lineage`` defines, with their ordered columns (CREATE TABLE/VIEW, CTAS, SELECT INTO);
    a later statement of the file wins."""
    tables: dict[str, tuple[str, ...]] = {}
    for statement in lineage.statements:
        if statement.defined_columns and len(statement.targets) == 1:
            tables[statement.targets[0]] = tuple(statement.defined_columns)
    return tables


def build_catalog(files: Iterable[FileLineage]) -> Catalog:
    """Columns defined by CREATE TABLE / CREATE VIEW / CTAS / SELECT INTO across ``files``; later files win."""
    tables: dict[str, tuple[str, ...]] = {}
    for file in files:
        tables.update(catalog_entries(file))
    return Catalog(tables)


def _statement_needs_catalog(statement: StatementLineage) -> bool:
    if statement.unresolved_columns or statement.column_mapping == "assumed":
        return True
    return any(edge.target.endswith(".*") or any(s.endswith(".*") for s in edge.sources) for edge in statement.columns)


def needs_catalog(lineage: FileLineage) -> bool:
    """True when a catalog could change ``lineage``: some statement has an unexpanded ``*``, a column
    whose table the SQL does not say, or an INSERT whose target columns were assumed from the query."""
    return any(_statement_needs_catalog(statement) for statement in lineage.statements)


def catalog_dependencies(lineage: FileLineage) -> frozenset[str]:
    """Tables whose catalog columns can change ``lineage`` (read or written by a statement that
    ``needs_catalog``); empty when the catalog cannot matter."""
    names: set[str] = set()
    for statement in lineage.statements:
        if _statement_needs_catalog(statement):
            names.update(statement.sources)
            # A created table or view takes its columns from its query, not from a catalog entry.
            if not (statement.kind.startswith("CREATE") or statement.kind == "SELECT INTO"):
                names.update(statement.targets)
    return frozenset(names)


def resolve_with_catalog(
    lineages: Mapping[str, FileLineage],
    reparse: Callable[[str, Catalog], FileLineage],
    rounds: int = 3,
) -> tuple[dict[str, FileLineage], Catalog]:
    """Second pass over a corpus: build the catalog from ``lineages`` (path -> first-pass lineage) and
    re-parse, via ``reparse(path, catalog)``, only the files the catalog can change. Repeats while
    re-parsing defines new columns (a view over a ``SELECT *`` view), at most ``rounds`` times.
    Returns the final lineages and catalog."""
    current = dict(lineages)
    used: dict[str, str] = {}  # path -> fingerprint of the catalog subset it was last parsed with
    catalog = build_catalog(current.values())
    for _ in range(rounds):
        changed = False
        for path, lineage in list(current.items()):
            # The first pass shows every star; a re-parse may have expanded some of them already.
            relevant = catalog.subset(catalog_dependencies(lineages[path]) | catalog_dependencies(lineage))
            if not relevant or used.get(path) == relevant.fingerprint():
                continue
            used[path] = relevant.fingerprint()
            current[path] = reparse(path, catalog)
            changed = True
        if not changed:
            break
        rebuilt = build_catalog(current.values())
        if rebuilt.fingerprint() == catalog.fingerprint():
            break
        catalog = rebuilt
    return current, catalog
