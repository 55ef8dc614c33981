"""The dead-letter file: rows the graph store rejected on their own, one JSON object per line.

Every process appends and rewrites it under an ``flock`` of the file itself, so concurrent domain
runs and ``lineage replay-failed`` never interleave or lose entries. An entry names the statement
(by its registry name in ``cypher.STATEMENTS``, never raw Cypher) and the row, so it can be replayed.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

DEAD_LETTER_FILE_NAME = "failed_ingestion.jsonl"


def dead_letter_path(data_dir: Path, configured: Path | str | None = None) -> Path:
    """The dead-letter file: ``configured`` (relative to ``data_dir``), else ``<data_dir>/failed_ingestion.jsonl``."""
    return Path(data_dir) / (configured or DEAD_LETTER_FILE_NAME)


class DeadLetter(BaseModel):
    """One rejected row: what was written, why it failed, in which run and when."""

    statement: str
    row: Any
    error: str
    run_id: str
    domain: str
    file: str | None = None
    rev: str | None = None
    time: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


class DeadLetterFileError(ValueError):
    """The dead-letter file has a line that is not a valid entry; the message names file and line."""


class DeadLetterFile:
    """Append, read and rewrite ``failed_ingestion.jsonl`` safely across processes."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _parse(self, text: str) -> list[DeadLetter]:
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(DeadLetter.model_validate_json(line))
            except ValueError as error:
                raise DeadLetterFileError(f"{self.path}:{number}: not a dead-letter entry: {error}") from None
        return entries

    @staticmethod
    def _write_all(handle, entries: Iterable[DeadLetter]) -> None:
        handle.seek(0)
        handle.truncate()
        handle.writelines(entry.model_dump_json() + "\n" for entry in entries)
        handle.flush()
        os.fsync(handle.fileno())

    def append(self, entries: list[DeadLetter]) -> None:
        """Add entries durably (fsync), after anything already there."""
        if not entries:
            return
        with self._locked() as handle:
            handle.writelines(entry.model_dump_json() + "\n" for entry in entries)
            handle.flush()
            os.fsync(handle.fileno())

    def read(self, domain: str | None = None) -> list[DeadLetter]:
        """Pending entries, optionally of one domain only."""
        if not self.path.exists():
            return []
        with self._locked() as handle:
            handle.seek(0)
            entries = self._parse(handle.read())
        return [e for e in entries if domain is None or e.domain == domain]

    def discard_files(self, paths: Iterable[str]) -> int:
        """Drop entries of files that are being rewritten or deleted (their rows are superseded)."""
        paths = set(paths)
        if not paths or not self.path.exists():
            return 0
        with self._locked() as handle:
            handle.seek(0)
            entries = self._parse(handle.read())
            kept = [e for e in entries if e.file not in paths]
            if len(kept) != len(entries):
                self._write_all(handle, kept)
        return len(entries) - len(kept)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[tuple[list[DeadLetter], list[DeadLetter]]]:
        """Hold the lock; yields (entries, keep): on normal exit the file is rewritten with ``keep``,
        on an exception it is left as it was."""
        with self._locked() as handle:
            handle.seek(0)
            entries = self._parse(handle.read())
            keep: list[DeadLetter] = []
            yield entries, keep
            self._write_all(handle, keep)


def dead_letter_entry(statement: str, row: Any, error: BaseException, run_id: str, domain: str) -> DeadLetter:
    """An entry for ``row``, with the file/revision it came from when the row says so."""
    file = rev = None
    if isinstance(row, dict):
        file, rev = row.get("file") or row.get("path"), row.get("rev")
    elif isinstance(row, str):
        file = row  # delete statements take bare paths
    return DeadLetter(
        statement=statement, row=row, error=f"{type(error).__name__}: {error}", run_id=run_id, domain=domain,
        file=file, rev=rev,
    )

