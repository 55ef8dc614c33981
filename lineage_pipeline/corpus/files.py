"""Walking a corpus root safely: SQL files only, nothing outside the root, editor litter ignored."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

ROOT_DOMAIN = "_root"
"""Partition of the files that sit directly under the corpus root (no folder maps to it: ``domain_for_folder``)."""

_EDITOR_LITTER_SUFFIXES = ("~", ".swp", ".swo", ".tmp", ".bak")


class CorpusPathError(ValueError):
    """A path names something outside the corpus root or that is not a corpus file."""


def is_ignored_name(name: str) -> bool:
    """Hidden files/folders and editor temp files are never part of the corpus."""
    return name.startswith(".") or name.endswith(_EDITOR_LITTER_SUFFIXES) or name.startswith("#")


def domain_for_folder(folder: str) -> str:
    """The domain of a top-level folder: its name, with one more leading underscore when it starts with
    one, so that a folder named ``_root`` is domain ``__root`` and never collides with ``ROOT_DOMAIN``."""
    return f"_{folder}" if folder.startswith("_") else folder


def folder_of(domain: str) -> str | None:
    """The top-level folder of ``domain`` (None for ``ROOT_DOMAIN``): the inverse of ``domain_for_folder``."""
    if domain == ROOT_DOMAIN:
        return None
    return domain[1:] if domain.startswith("__") else domain


def domain_of(relative_path: str) -> str:
    """The domain (partition) of a corpus-relative POSIX path: its top-level folder's (``domain_for_folder``)."""
    head, sep, _ = relative_path.partition("/")
    return domain_for_folder(head) if sep else ROOT_DOMAIN


def resolve_inside(root: Path, relative_path: str) -> Path:
    """The real path of ``relative_path`` under ``root``; raises if it escapes (``..``, symlinks)."""
    # os.path on strings: every parsed file passes here, and pathlib's resolve and parents cost ~2x as much
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(real_root, relative_path))
    if not _inside(candidate, real_root):
        raise CorpusPathError(f"{relative_path!r} resolves to {candidate}, outside the corpus root {real_root}")
    return Path(candidate)


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root if real_root.endswith(os.sep) else real_root + os.sep)


def walk_corpus(root: Path, extensions: list[str], domain: str | None = None) -> Iterator[tuple[str, os.stat_result]]:
    """Corpus-relative POSIX path and ``stat`` of every SQL file under ``root`` (optionally one domain).

    Metadata only, one ``lstat`` per file: only symlinks are resolved, and followed only while they
    stay inside the root; a link loop, an unreadable folder or a file vanishing mid-scan is skipped.
    """
    real_root = str(root.resolve())
    if not os.path.isdir(real_root):
        raise CorpusPathError(f"corpus root {root} is not a readable directory")
    suffixes = tuple(e.lower() for e in extensions)
    seen_dirs: set[tuple[int, int]] = set()
    stack = [(real_root, "", 0)]
    while stack:
        directory, prefix, depth = stack.pop()
        try:
            identity = os.stat(directory)
            if (identity.st_dev, identity.st_ino) in seen_dirs:
                continue
            seen_dirs.add((identity.st_dev, identity.st_ino))
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if is_ignored_name(name):
                continue
            info: os.stat_result | None
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not _inside(target, real_root):
                        continue
                    info = os.stat(target)
                    is_dir, path = stat.S_ISDIR(info.st_mode), target
                else:
                    is_dir, path = entry.is_dir(follow_symlinks=False), entry.path
                    info = None if is_dir else entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if depth == 0 and domain is not None:
                if (domain == ROOT_DOMAIN) == is_dir or (domain != ROOT_DOMAIN and name != folder_of(domain)):
                    continue
            if is_dir:
                stack.append((path, f"{prefix}{name}/", depth + 1))
            elif info is not None and stat.S_ISREG(info.st_mode) and name.lower().endswith(suffixes):
                yield f"{prefix}{name}", info


def iter_corpus_files(root: Path, extensions: list[str], domain: str | None = None) -> Iterator[str]:
    """Corpus-relative POSIX paths of SQL files under ``root`` (optionally one domain), sorted."""
    return iter(sorted(path for path, _ in walk_corpus(root, extensions, domain)))


def check_relative_path(relative_path: str) -> str:
    """``relative_path`` if it is a plain corpus-relative POSIX path; raises naming it otherwise."""
    parts = relative_path.split("/")
    if relative_path.startswith("/") or "\\" in relative_path or any(p in ("", ".", "..") for p in parts):
        raise CorpusPathError(f"{relative_path!r} is not a corpus-relative path (expected e.g. 'staging/load.sql')")
    return relative_path


def discover_domains(root: Path, extensions: list[str]) -> list[str]:
    """Domains that hold at least one SQL file: top-level folders, plus ``_root`` for loose files.

    Each candidate's walk stops at its first SQL file, so this costs a listing per domain, not a scan.
    """
    real_root = root.resolve()
    try:
        with os.scandir(real_root) as listing:
            names = [entry.name for entry in listing if not is_ignored_name(entry.name)]
    except OSError as error:
        raise CorpusPathError(f"corpus root {root} is not a readable directory") from error
    candidates = {domain_for_folder(name) if os.path.isdir(real_root / name) else ROOT_DOMAIN for name in names}
    return sorted(domain for domain in candidates if next(walk_corpus(root, extensions, domain), None) is not None)
