"""The small interface every graph store implements, so the writer and queries are backend-agnostic."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class WriteStats:
    """What one write changed, as the database reports it."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    transactions: int = 0

    def add(self, other: "WriteStats") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class WriteResult:
    """A write's statistics, for statements that RETURN one the count of rows it applied, and the rows it
    returned."""

    stats: WriteStats
    applied: int | None = None
    records: list[list[Any]] = field(default_factory=list)


def applied_count(records: list[list[Any]]) -> int | None:
    """The single ``RETURN count(...)`` value of a write, or None if it returns no count."""
    value = records[0][0] if records and records[0] else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


Write = tuple[str, dict[str, Any]]
"""A write statement and its parameters."""


def write_each(backend: "GraphBackend", writes: Iterable[Write]) -> Iterator[WriteResult | Exception]:
    """``write_stream`` for a store without pipelining: each write sent once the previous one answered."""
    for query, params in writes:
        try:
            yield backend.write(query, params)
        except Exception as error:  # noqa: BLE001 - handed to the caller in order, like a pipelined store's error reply
            yield error


class GraphBackend(Protocol):
    """A Cypher graph store: one write = one transaction."""

    name: str
    location: str

    def ensure_schema(self) -> None:
        """Create key uniqueness and indexes if missing; idempotent."""

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """Rows of a read-only query."""

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteResult:
        """Run one write statement in its own transaction (all of it or none of it)."""

    def write_stream(self, writes: Iterable[Write]) -> Iterator[WriteResult | Exception]:
        """Run each write in its own transaction, in order, yielding its result or the error it raised
        (never raising one). ``writes`` is consumed lazily and a store may send a write before the
        previous one answered, so the next batch is prepared while the store runs this one. A wrapper
        that changes ``write`` must define this too (``write_each`` over itself), or it is bypassed."""

    def recover(self) -> None:
        """Reconnect after a transient failure (restarting the embedded server if it died)."""

    def close(self) -> None:
        """Release connections."""
