"""Pure change detection: compare a metadata scan with the last-seen state, confirm with content hashes.

A file is hashed only when its (size, mtime_ns, ctime_ns) differs from what was last seen, or when it is
new; equal hashes mean "no change" (a ``touch``, a save without edits). ``ctime`` cannot be set by a
user, so a copy carrying an old mtime still shows up. No Dagster here.
"""

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from lineage_pipeline.corpus.files import walk_corpus


class FileStat(NamedTuple):
    """The metadata a scan compares: cheap to read, changes whenever content can have changed."""

    size: int
    mtime_ns: int
    ctime_ns: int


class Seen(NamedTuple):
    """A file as last seen: its metadata and the SHA-256 of its content then."""

    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str

    @property
    def stat(self) -> FileStat:
        return FileStat(self.size, self.mtime_ns, self.ctime_ns)


@dataclass
class ChangeSet:
    """What changed since the last-seen state, and the state rows to record for it."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unchanged_content: list[str] = field(default_factory=list)
    """Metadata changed, content did not (touch): recorded, never a change."""
    upserts: dict[str, Seen] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)
    """Paths gone from disk: the deleted ones and the old side of renames."""
    deferred: int = 0
    """Candidates not hashed within the time budget; they are seen again by the next scan."""

    @property
    def changed_paths(self) -> list[str]:
        """Every path a run must re-read: both sides of a rename count."""
        paths = {*self.added, *self.modified, *self.deleted}
        paths.update(p for pair in self.renamed for p in pair)
        return sorted(paths)

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.deleted or self.renamed)


def scan_stats(root: Path, extensions: list[str]) -> dict[str, FileStat]:
    """Metadata of every corpus file under ``root`` (one ``lstat`` each, no content read)."""
    return {
        path: FileStat(info.st_size, info.st_mtime_ns, info.st_ctime_ns) for path, info in walk_corpus(root, extensions)
    }


def file_sha256(root: Path) -> Callable[[str], str | None]:
    """A hasher of corpus-relative paths under ``root``; None when the file vanished or is unreadable."""

    def hash_one(relative_path: str) -> str | None:
        digest = hashlib.sha256()
        try:
            with open(os.path.join(root, relative_path), "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return None
        return digest.hexdigest()

    return hash_one


def detect_changes(
    previous: Mapping[str, Seen],
    current: Mapping[str, FileStat],
    hash_file: Callable[[str], str | None],
    budget_seconds: float = float("inf"),
    clock: Callable[[], float] = time.monotonic,
) -> ChangeSet:
    """Diff ``current`` metadata against ``previous`` state; renames pair a deleted and a new file by hash.

    Hashing stops once ``budget_seconds`` are spent: what is left is neither reported nor recorded,
    so the next scan finds it again (progress on a huge first scan, a bounded sensor tick).
    """
    changes = ChangeSet()
    deadline = clock() + budget_seconds
    candidates = sorted(p for p, s in current.items() if p in previous and previous[p].stat != s)
    candidates += sorted(p for p in current if p not in previous)
    added: dict[str, str] = {}
    for index, path in enumerate(candidates):
        if clock() > deadline:
            changes.deferred = len(candidates) - index
            break
        digest = hash_file(path)
        if digest is None:
            changes.deferred += 1
            continue
        stat = current[path]
        changes.upserts[path] = Seen(stat.size, stat.mtime_ns, stat.ctime_ns, digest)
        before = previous.get(path)
        if before is None:
            added[path] = digest
        elif before.sha256 == digest:
            changes.unchanged_content.append(path)
        else:
            changes.modified.append(path)
    deleted_by_hash: dict[str, list[str]] = {}
    for path in sorted(p for p in previous if p not in current):
        deleted_by_hash.setdefault(previous[path].sha256, []).append(path)
        changes.removals.append(path)
    for path, digest in added.items():
        origins = deleted_by_hash.get(digest)
        if origins:
            changes.renamed.append((origins.pop(0), path))
        else:
            changes.added.append(path)
    changes.deleted = sorted(p for paths in deleted_by_hash.values() for p in paths)
    return changes
