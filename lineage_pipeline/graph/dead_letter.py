"""The dead-letter file: rows the graph store rejected on their own, one JSON object per line.

Every process appends and rewrites it under an ``flock`` of ``<file>.lock``, so concurrent domain
runs and ``lineage replay-failed`` never interleave or lose entries. An entry names the statement
(by its registry name in ``cypher.STATEMENTS``, never raw Cypher) and the row, so it can be replayed.

Faults: an append is all or nothing - a write cut short (disk full, file size limit) is truncated
back to where it started and the error raised; a rewrite goes to a temporary file renamed over the
old one. A line that is still damaged (written by an older version, or edited by hand) is skipped
with a warning when reading, and kept aside in ``<file>.damaged`` when the file is rewritten: one cut
line must not stop every later run, and its text is not thrown away.
"""

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lineage_pipeline.stores.sqlite_file import file_lock

log = logging.getLogger(__name__)

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
    time: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class DeadLetterWriteError(OSError):
    """Entries could not be added (e.g. disk full); none of them was (the file is as before). Keeps the
    OS error's errno; the message names the file and says what to do."""


class DeadLetterFileError(ValueError):
    """The dead-letter file cannot be used (kept for callers that catch it; damaged lines are skipped)."""


class DeadLetterFile:
    """Append, read and rewrite ``failed_ingestion.jsonl`` safely across processes."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def damaged_path(self) -> Path:
        return self.path.with_name(self.path.name + ".damaged")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # a separate lock file: a rewrite renames a new file over the entries, which must not change
        # the inode everyone locks
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.lock_path):
            yield

    def _load(self) -> tuple[list[DeadLetter], list[str]]:
        """(entries, damaged lines) of the file; the caller holds the lock."""
        try:
            text = self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return [], []
        entries, damaged = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(DeadLetter.model_validate_json(line))
            except ValueError as error:
                damaged.append(line)
                log.warning("%s:%d: skipped, not a dead-letter entry (%s)", self.path, number, str(error).splitlines()[0])
        return entries, damaged

    def _write_all(self, entries: Iterable[DeadLetter], damaged: list[str]) -> None:
        """Replace the file with ``entries`` atomically (temporary file, fsync, rename); ``damaged``
        lines are appended to ``<file>.damaged`` first. On failure the file is as before."""
        try:
            self._replace(entries, damaged)
        except OSError as error:
            raise DeadLetterWriteError(
                error.errno, f"cannot rewrite {self.path} ({error.strerror or error}); it is unchanged: free space and re-run"
            ) from error

    def _replace(self, entries: Iterable[DeadLetter], damaged: list[str]) -> None:
        if damaged:
            self._append_atomically(self.damaged_path, "".join(line + "\n" for line in damaged).encode("utf-8"))
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write("".join(entry.model_dump_json() + "\n" for entry in entries).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _fsync_dir(self.path.parent)

    @staticmethod
    def _append_atomically(path: Path, data: bytes) -> None:
        """Append ``data`` whole or not at all: on any failure the file is cut back to its old size."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            start = os.fstat(fd).st_size
            if start and os.pread(fd, 1, start - 1) != b"\n":
                data = b"\n" + data  # a line cut by an older version must not swallow the first new entry
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, start)  # frees space, so it works on a full disk
                os.fsync(fd)
                raise
        finally:
            os.close(fd)

    def append(self, entries: list[DeadLetter]) -> None:
        """Add entries durably (fsync), after anything already there: all of them or none (OSError)."""
        if not entries:
            return
        data = "".join(entry.model_dump_json() + "\n" for entry in entries).encode("utf-8")
        try:
            with self._locked():
                self._append_atomically(self.path, data)
        except OSError as error:
            raise DeadLetterWriteError(
                error.errno,
                f"cannot record {len(entries)} rejected row(s) in {self.path} ({error.strerror or error}); "
                "none was written: free space and re-run (the files they belong to are left to be redone)",
            ) from error

    def read(self, domain: str | None = None) -> list[DeadLetter]:
        """Pending entries, optionally of one domain only."""
        if not self.path.exists():
            return []
        with self._locked():
            entries, _ = self._load()
        return [e for e in entries if domain is None or e.domain == domain]

    def discard_files(self, paths: Iterable[str]) -> int:
        """Drop entries of files that are being rewritten or deleted (their rows are superseded)."""
        paths = set(paths)
        if not paths:
            return 0
        return self._discard(lambda e: e.file in paths)

    def discard_domain(self, domain: str) -> int:
        """Drop every entry of ``domain`` (a retired domain's rows must not come back by replay)."""
        return self._discard(lambda e: e.domain == domain)

    def _discard(self, superseded) -> int:
        if not self.path.exists():
            return 0
        with self._locked():
            entries, damaged = self._load()
            kept = [e for e in entries if not superseded(e)]
            if len(kept) != len(entries):
                self._write_all(kept, damaged)
        return len(entries) - len(kept)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[tuple[list[DeadLetter], list[DeadLetter]]]:
        """Hold the lock; yields (entries, keep): on normal exit the file is rewritten with ``keep``,
        on an exception it is left as it was."""
        with self._locked():
            entries, damaged = self._load()
            keep: list[DeadLetter] = []
            yield entries, keep
            self._write_all(keep, damaged)


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



def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
