"""Parse a domain's manifest into lineage, reusing stored results for unchanged content."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from lineage_pipeline.corpus.files import CorpusPathError, resolve_inside
from lineage_pipeline.corpus.manifest import DomainManifest, ManifestEntry
from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.parsing.models import FileLineage, ParseIssue
from lineage_pipeline.stores.parse_store import ParseStore


@dataclass(frozen=True)
class FileError:
    """One problem in one file, located for a human: path, statement, line, message."""

    path: str
    statement: int | None
    line: int | None
    message: str


@dataclass
class ParseOutcome:
    """Lineage of every file of a domain plus what it cost."""

    lineages: dict[str, FileLineage]
    parsed: int = 0
    reused: int = 0
    seconds: float = 0.0
    file_ms: list[float] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(len(f.statements) for f in self.lineages.values())

    @property
    def errors(self) -> list[FileError]:
        return [
            FileError(path, issue.statement, issue.line, issue.message)
            for path, lineage in sorted(self.lineages.items())
            for issue in lineage.errors
        ]


def read_and_parse(root: Path, entry: ManifestEntry, max_file_bytes: int) -> FileLineage:
    """Lineage of one corpus file; unreadable, oversized or escaping files become an error record."""
    try:
        path = resolve_inside(root, entry.path)
        size = path.stat().st_size
        if size > max_file_bytes:
            message = f"file is {size} bytes, over the {max_file_bytes}-byte limit (max_file_bytes); not parsed"
            return FileLineage(path=entry.path, dialect=entry.dialect, errors=[ParseIssue(message=message)])
        data = path.read_bytes()
    except (OSError, CorpusPathError) as error:
        return FileLineage(path=entry.path, dialect=entry.dialect, errors=[ParseIssue(message=f"cannot read file: {error}")])
    return parse_file_bytes(data, entry.dialect, entry.path)


def parse_manifest(manifest: DomainManifest, store: ParseStore, max_file_bytes: int) -> ParseOutcome:
    """Lineage for every manifest file: from the store when this content was parsed before, else parsed now."""
    started = time.perf_counter()
    root = Path(manifest.corpus_root)
    keys = [(e.sha256, e.dialect, e.path) for e in manifest.files]
    stored = store.get_many(keys)
    outcome = ParseOutcome(lineages={key[2]: lineage for key, lineage in stored.items()}, reused=len(stored))
    fresh: list[tuple[str, str, FileLineage]] = []
    for entry in manifest.files:
        if entry.path in outcome.lineages:
            continue
        file_started = time.perf_counter()
        lineage = read_and_parse(root, entry, max_file_bytes)
        outcome.file_ms.append((time.perf_counter() - file_started) * 1000)
        outcome.lineages[entry.path] = lineage
        fresh.append((entry.sha256, entry.dialect, lineage))
    store.put_many(fresh)
    outcome.parsed = len(fresh)
    outcome.seconds = time.perf_counter() - started
    return outcome
