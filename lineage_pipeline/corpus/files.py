"""Walking a corpus root safely: SQL files only, nothing outside the root, editor litter ignored."""

import os
from collections.abc import Iterator
from pathlib import Path

ROOT_DOMAIN = "_root"
"""Partition of the files that sit directly under the corpus root."""

_EDITOR_LITTER_SUFFIXES = ("~", ".swp", ".swo", ".tmp", ".bak")


class CorpusPathError(ValueError):
    """A path names something outside the corpus root or that is not a corpus file."""


def is_ignored_name(name: str) -> bool:
    """Hidden files/folders and editor temp files are never part of the corpus."""
    return name.startswith(".") or name.endswith(_EDITOR_LITTER_SUFFIXES) or name.startswith("#")


def domain_of(relative_path: str) -> str:
    """The domain (partition) of a corpus-relative POSIX path: its top-level folder."""
    head, sep, _ = relative_path.partition("/")
    return head if sep else ROOT_DOMAIN


def resolve_inside(root: Path, relative_path: str) -> Path:
    """The real path of ``relative_path`` under ``root``; raises if it escapes (``..``, symlinks)."""
    real_root = root.resolve()
    candidate = (real_root / relative_path).resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise CorpusPathError(f"{relative_path!r} resolves to {candidate}, outside the corpus root {real_root}")
    return candidate


def iter_corpus_files(root: Path, extensions: list[str], domain: str | None = None) -> Iterator[str]:
    """Corpus-relative POSIX paths of SQL files under ``root`` (optionally one domain), sorted.

    Symlinks are followed only while they stay inside the root; a link loop or an unreadable folder
    is skipped rather than failing the scan.
    """
    real_root = root.resolve()
    if not real_root.is_dir():
        raise CorpusPathError(f"corpus root {root} is not a readable directory")
    found: list[str] = []
    seen_dirs: set[Path] = set()

    def walk(directory: Path, prefix: str, depth: int) -> None:
        if directory in seen_dirs:
            return
        seen_dirs.add(directory)
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            if depth == 0 and domain is not None:
                is_root_file = not entry.is_dir()
                if (domain == ROOT_DOMAIN) != is_root_file or (domain != ROOT_DOMAIN and entry.name != domain):
                    continue
            relative = f"{prefix}{entry.name}"
            real = Path(entry.path).resolve()
            if real != real_root and real_root not in real.parents:
                continue
            if real.is_dir():
                walk(real, f"{relative}/", depth + 1)
            elif real.is_file() and entry.name.lower().endswith(tuple(extensions)):
                found.append(relative)

    walk(real_root, "", 0)
    return iter(sorted(found))


def discover_domains(root: Path, extensions: list[str]) -> list[str]:
    """Domains that hold at least one SQL file: top-level folders, plus ``_root`` for loose files."""
    return sorted({domain_of(path) for path in iter_corpus_files(root, extensions)})
