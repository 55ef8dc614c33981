"""Choosing a folder's dialect from its files: ``dialect: auto`` folders, and the advice given when a
domain's statements fail at a high rate in the dialect it was configured with.

Both read a deterministic sample of files (the first ``SAMPLE_FILES`` by path) and ask the parser which
dialect reads them best (``parsing.suggest_dialect``). An ``auto`` folder's choice is remembered with
the stat signatures of its sample, so a scan that finds the sample unchanged does not parse it again.
"""

from dataclasses import dataclass
from pathlib import Path

from lineage_pipeline.corpus.files import resolve_inside, walk_corpus
from lineage_pipeline.corpus.manifest import DomainManifest
from lineage_pipeline.parsing import DialectSuggestion, suggest_dialect
from lineage_pipeline.settings import AUTO_DIALECT

SAMPLE_FILES = 20
ADVICE_ERROR_RATE = 0.10
"""Share of a domain's statements failing above which the other likely dialects are tried."""
_SAMPLE_BYTES = 200_000


@dataclass(frozen=True)
class AutoChoice:
    """The dialect picked for an ``auto`` folder and the sample it was picked from (path:size:mtime_ns)."""

    dialect: str
    basis: str


def _texts(root: Path, paths: list[str]) -> list[str]:
    texts = []
    for path in paths:
        try:
            texts.append(resolve_inside(root, path).read_bytes()[:_SAMPLE_BYTES].decode("utf-8", errors="replace"))
        except OSError:
            continue
    return texts


def resolve_auto_folders(
    root: Path,
    domain: str,
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
    previous: dict[str, AutoChoice],
) -> tuple[dict[str, str], dict[str, AutoChoice]]:
    """``folder_dialects`` with each ``auto`` folder of ``domain`` replaced by the dialect that reads its
    sample best (``default_dialect`` when no other does clearly better), and the choices made. A folder
    whose sample has the same stat signatures as in ``previous`` keeps its choice without parsing."""
    auto = [folder for folder, dialect in folder_dialects.items() if dialect == AUTO_DIALECT]
    if not auto:
        return folder_dialects, {}
    files = sorted((path, info) for path, info in walk_corpus(root, extensions, domain))
    resolved, choices = dict(folder_dialects), {}
    for folder in auto:
        sample = [(path, info) for path, info in files if path.startswith(folder + "/")][:SAMPLE_FILES]
        basis = ";".join(f"{path}:{info.st_size}:{info.st_mtime_ns}" for path, info in sample)
        kept = previous.get(folder)
        if kept is not None and kept.basis == basis:
            choices[folder] = kept
        else:
            suggestion = suggest_dialect(_texts(root, [path for path, _ in sample]), default_dialect, label=folder)
            choices[folder] = AutoChoice(suggestion.best, basis)
        resolved[folder] = choices[folder].dialect
    return resolved, choices


def dialect_advice(root: Path, manifest: DomainManifest, statements: int, failed: int) -> DialectSuggestion | None:
    """When more than ``ADVICE_ERROR_RATE`` of the domain's statements failed, which dialect reads a sample
    of its files (in its most common dialect) best; None below that rate or with nothing to judge by."""
    if not manifest.files or failed <= ADVICE_ERROR_RATE * max(1, statements + failed):
        return None
    counts: dict[str, int] = {}
    for entry in manifest.files:
        counts[entry.dialect] = counts.get(entry.dialect, 0) + 1
    configured = max(sorted(counts), key=counts.__getitem__)
    sample = [e.path for e in manifest.files if e.dialect == configured][:SAMPLE_FILES]
    return suggest_dialect(_texts(root, sample), configured, label=manifest.domain)
