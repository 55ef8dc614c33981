"""The manifest of a corpus domain: every SQL file with its size, SHA-256 and dialect."""

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lineage_pipeline.corpus.files import (
    CorpusPathError,
    check_relative_path,
    domain_of,
    iter_corpus_files,
    resolve_inside,
    walk_corpus,
)
from lineage_pipeline.parsing import header_dialect

_HEADER_BYTES = 2048


class ManifestEntry(BaseModel):
    """One corpus file as it is on disk now."""

    model_config = ConfigDict(frozen=True)

    path: str
    domain: str
    size: int
    sha256: str
    dialect: str


class DomainManifest(BaseModel):
    """All files of one domain, sorted by path."""

    domain: str
    corpus_root: str
    files: list[ManifestEntry]

    @property
    def version(self) -> str:
        """Short digest of paths, contents and dialects: equal manifests have equal versions."""
        digest = hashlib.sha256()
        for entry in self.files:
            digest.update(f"{entry.path}\0{entry.sha256}\0{entry.dialect}\n".encode())
        return digest.hexdigest()[:16]


def folder_dialect(relative_path: str, folder_dialects: dict[str, str], default_dialect: str) -> str:
    """Dialect configured for the deepest configured folder containing ``relative_path``."""
    parts = relative_path.split("/")[:-1]
    for depth in range(len(parts), 0, -1):
        configured = folder_dialects.get("/".join(parts[:depth]))
        if configured:
            return configured
    return default_dialect


def manifest_entry(root: Path, relative_path: str, folder_dialects: dict[str, str], default_dialect: str) -> ManifestEntry:
    """Hash and classify one file; the file's own ``-- dialect:`` header wins over folder config."""
    data = resolve_inside(root, relative_path).read_bytes()
    head = data[:_HEADER_BYTES].decode("utf-8", errors="replace")
    dialect = header_dialect(head) or folder_dialect(relative_path, folder_dialects, default_dialect)
    return ManifestEntry(
        path=relative_path,
        domain=domain_of(relative_path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        dialect=dialect,
    )


def build_manifest(
    root: Path, domain: str, extensions: list[str], folder_dialects: dict[str, str], default_dialect: str
) -> DomainManifest:
    """Scan one domain of the corpus and describe every file in it."""
    files = [
        manifest_entry(root, path, folder_dialects, default_dialect)
        for path in iter_corpus_files(root, extensions, domain=domain)
    ]
    return DomainManifest(domain=domain, corpus_root=str(root.resolve()), files=files)


def update_manifest(
    previous: DomainManifest,
    root: Path,
    changed_paths: list[str],
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
) -> DomainManifest:
    """``previous`` brought up to date re-reading only what may have changed: ``changed_paths``, plus files
    a metadata walk of the domain shows as new or resized. Deleted files drop out.

    The walk makes a lost batch (a failed earlier run) self-healing for additions and deletions.
    Raises CorpusPathError for a path that is not corpus-relative or lies in another domain.
    """
    for path in changed_paths:
        check_relative_path(path)
        if domain_of(path) != previous.domain:
            raise CorpusPathError(f"changed path {path!r} is not in domain {previous.domain!r}")
    named = set(changed_paths)
    on_disk = {path: info.st_size for path, info in walk_corpus(root, extensions, previous.domain)}
    entries = {
        e.path: e for e in previous.files if e.path not in named and on_disk.get(e.path) == e.size
    }
    for path in sorted(set(on_disk) - set(entries)):
        try:
            entries[path] = manifest_entry(root, path, folder_dialects, default_dialect)
        except FileNotFoundError:
            pass  # deleted since the walk: absent is the truth now
    return DomainManifest(
        domain=previous.domain, corpus_root=str(root.resolve()), files=[entries[p] for p in sorted(entries)]
    )


def save_manifest(manifest: DomainManifest, directory: Path) -> Path:
    """Write the manifest atomically as ``<directory>/<domain>.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{manifest.domain}.json"
    scratch = target.with_suffix(".json.tmp")
    scratch.write_text(manifest.model_dump_json(indent=1))
    scratch.replace(target)
    return target


def load_manifest(directory: Path, domain: str) -> DomainManifest:
    """The manifest last saved for ``domain``; raises FileNotFoundError naming the missing file."""
    path = directory / f"{domain}.json"
    if not path.exists():
        raise FileNotFoundError(f"no manifest for domain {domain!r} at {path}: materialize sql_corpus first")
    return DomainManifest.model_validate(json.loads(path.read_text()))
