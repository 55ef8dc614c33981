"""Corpus-wide catalog: table name -> ordered column names, built from CREATE TABLE / VIEW / CTAS statements."""

import hashlib
from collections.abc import Iterable, Iterator, Mapping

from lineage_pipeline.parsing.models import FileLineage


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


def build_catalog(files: Iterable[FileLineage]) -> Catalog:
    """Columns defined by CREATE TABLE / CREATE VIEW / CTAS / SELECT INTO across ``files``; later files win."""
    tables: dict[str, tuple[str, ...]] = {}
    for file in files:
        for statement in file.statements:
            if statement.defined_columns and len(statement.targets) == 1:
                tables[statement.targets[0]] = tuple(statement.defined_columns)
    return Catalog(tables)
