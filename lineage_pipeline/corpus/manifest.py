"""The manifest of a corpus domain: every SQL file with its size, SHA-256 and dialect.

A rescan re-reads only files whose stat signature (size, mtime_ns, ctime_ns, inode) differs from the
previous manifest's entry. ``ctime`` cannot be set by a user, so a copy carrying an old mtime, or an
edit with ``utime`` put back, still changes the signature (the sensor relies on the same property).
"""

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from lineage_pipeline.corpus.files import (
    CorpusPathError,
    check_relative_path,
    domain_of,
    resolve_inside,
    walk_corpus,
)
from lineage_pipeline.parsing import header_dialect

_HEADER_BYTES = 2048

RACY_WINDOW_NS = 2_000_000_000
"""A file changed this close to the scan may change again within the same timestamp tick without
changing its signature (coarse filesystem clocks); its signature is not recorded, so it is re-read."""


class StatSignature(NamedTuple):
    """What a rescan compares to decide a file is unchanged without reading it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, info: os.stat_result) -> "StatSignature":
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


class ManifestEntry(NamedTuple):
    """One corpus file as it is on disk now; the stat fields are None when unknown (older manifest, or too
    recently changed to trust), and such an entry is re-read by the next scan.

    A tuple, saved as a JSON array: a pydantic model per entry took ~3x the memory and the time to load
    (32k entries: 45 MB and 0.10 s as models, 14 MB and 0.03 s as tuples). Entries saved as objects (an
    older manifest) load as well."""

    path: str
    domain: str
    size: int
    sha256: str
    dialect: str
    mtime_ns: int | None = None
    ctime_ns: int | None = None
    inode: int | None = None

    @property
    def signature(self) -> StatSignature | None:
        if self.mtime_ns is None or self.ctime_ns is None or self.inode is None:
            return None
        return StatSignature(self.size, self.mtime_ns, self.ctime_ns, self.inode)


class DomainManifest(BaseModel):
    """All files of one domain, sorted by path, and the dialect configuration their dialects came from."""

    domain: str
    corpus_root: str
    files: list[ManifestEntry]
    folder_dialects: dict[str, str] | None = None
    default_dialect: str | None = None
    auto_dialects: dict[str, tuple[str, str]] | None = None
    """Folders configured ``auto``: (dialect picked, stat basis of the sample it was picked from)."""

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


def manifest_entry(
    root: Path,
    relative_path: str,
    folder_dialects: dict[str, str],
    default_dialect: str,
    signature: StatSignature | None = None,
) -> ManifestEntry:
    """Hash and classify one file; the file's own ``-- dialect:`` header wins over folder config.

    ``signature`` must be taken before the read: a change during the read then shows at the next scan.
    """
    data = resolve_inside(root, relative_path).read_bytes()
    head = data[:_HEADER_BYTES].decode("utf-8", errors="replace")
    dialect = header_dialect(head) or folder_dialect(relative_path, folder_dialects, default_dialect)
    stat_fields = {}
    if signature is not None and signature.size == len(data):  # else it changed since: unknown, re-read next time
        stat_fields = {"mtime_ns": signature.mtime_ns, "ctime_ns": signature.ctime_ns, "inode": signature.inode}
    return ManifestEntry(
        path=relative_path,
        domain=domain_of(relative_path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        dialect=dialect,
        **stat_fields,
    )


def build_manifest(
    root: Path,
    domain: str,
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
    previous: DomainManifest | None = None,
) -> DomainManifest:
    """Scan one domain of the corpus and describe every file in it; with ``previous`` (the domain's last
    manifest), a file whose stat signature is unchanged keeps its entry instead of being re-read."""
    if previous is None or previous.domain != domain:
        previous = DomainManifest(domain=domain, corpus_root=str(root.resolve()), files=[])
    return update_manifest(previous, root, [], extensions, folder_dialects, default_dialect)


def update_manifest(
    previous: DomainManifest,
    root: Path,
    changed_paths: list[str],
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
    clock_ns: Callable[[], int] = time.time_ns,
) -> DomainManifest:
    """``previous`` brought up to date re-reading only what may have changed: ``changed_paths``, plus files
    a metadata walk of the domain shows as new or with another stat signature. Deleted files drop out.

    Entries are reused only if ``previous`` was built from the same corpus root and dialect configuration
    (a reused entry keeps its dialect). The walk makes a lost batch (a failed earlier run) self-healing.
    Raises CorpusPathError for a path that is not corpus-relative or lies in another domain.
    """
    for path in changed_paths:
        check_relative_path(path)
        if domain_of(path) != previous.domain:
            raise CorpusPathError(f"changed path {path!r} is not in domain {previous.domain!r}")
    corpus_root = str(root.resolve())
    settled_before = clock_ns() - RACY_WINDOW_NS
    on_disk = {path: StatSignature.of(info) for path, info in walk_corpus(root, extensions, previous.domain)}
    reusable = (previous.corpus_root, previous.folder_dialects, previous.default_dialect) == (
        corpus_root, folder_dialects, default_dialect
    )
    named = set(changed_paths)
    # plain tuples compared (a StatSignature per entry cost more than the walk at 100k files)
    entries = {
        e.path: e
        for e in (previous.files if reusable else [])
        if e.path not in named and on_disk.get(e.path) == (e.size, e.mtime_ns, e.ctime_ns, e.inode)
    }
    for path in sorted(set(on_disk) - set(entries)):
        signature = on_disk[path]
        try:
            entries[path] = manifest_entry(
                root, path, folder_dialects, default_dialect, signature if signature.ctime_ns < settled_before else None
            )
        except FileNotFoundError:
            pass  # deleted since the walk: absent is the truth now
    # built from typed values: validating 30k entries again took longer than the walk
    return DomainManifest.model_construct(
        domain=previous.domain,
        corpus_root=corpus_root,
        files=[entries[p] for p in sorted(entries)],
        folder_dialects=folder_dialects,
        default_dialect=default_dialect,
        auto_dialects=None,
    )


def _write_atomically(target: Path, data: bytes) -> None:
    # no fsync: a manifest an OS crash left torn no longer matches its seal and is rescanned, so the
    # flush bought nothing but a wait behind the disk's write-back (up to seconds after a large ingest)
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_bytes(data)
    scratch.replace(target)


def save_manifest(manifest: DomainManifest, directory: Path) -> Path:
    """Write the manifest atomically as ``<directory>/<domain>.json``, then its seal (the JSON's SHA-256) as
    ``<domain>.json.sha256``: an altered or damaged manifest, or one whose seal a crash kept from being
    written, no longer matches its seal and is rescanned instead of trusted."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{manifest.domain}.json"
    body = manifest.model_dump_json().encode()
    _write_atomically(target, body)
    _write_atomically(target.with_name(target.name + ".sha256"), hashlib.sha256(body).hexdigest().encode())
    return target


def _sealed_body(directory: Path, domain: str) -> bytes:
    path = directory / f"{domain}.json"
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no manifest for domain {domain!r} at {path}: materialize sql_corpus first") from None
    try:
        seal = path.with_name(path.name + ".sha256").read_text().strip()
    except OSError:
        seal = ""
    if seal != hashlib.sha256(body).hexdigest():
        raise ValueError(f"manifest {path} was altered or damaged since it was saved (its seal does not match)")
    return body


def load_manifest(directory: Path, domain: str) -> DomainManifest:
    """The manifest last saved for ``domain``; raises FileNotFoundError naming the missing file and
    ValueError naming a file that is damaged or was altered since it was saved (its seal does not match)."""
    body = _sealed_body(directory, domain)
    try:
        return DomainManifest.model_validate_json(body)
    except ValueError as error:
        raise ValueError(f"manifest {directory / f'{domain}.json'} is unreadable: {error}") from None


def _file_signature(path: Path) -> StatSignature | None:
    try:
        return StatSignature.of(os.stat(path))
    except FileNotFoundError:
        return None


class _Held(NamedTuple):
    domain: str
    signatures: tuple[StatSignature | None, StatSignature | None]
    """Of the manifest file and its seal when it was read or written."""
    seal: str
    manifest: DomainManifest
    settled: bool
    """Both files were last changed before the racy window: equal signatures mean equal bytes."""


class ManifestFolder:
    """The saved manifests of a corpus (``load_manifest``/``save_manifest`` in one directory), holding the
    one last loaded or saved: the steps of a run read their domain's manifest once, not once each (~30 ms
    per 32k files), and memory holds one domain's entries, not the corpus's. A held manifest is served
    while its file and seal keep their stat signatures (a rewrite gets a new inode, and ``ctime`` cannot be
    set by a user, so any change is seen); for files changed within ``RACY_WINDOW_NS`` (a change in the
    same clock tick keeps the signature) only once the file's bytes still hash to its seal."""

    def __init__(self, directory: Path, clock_ns: Callable[[], int] = time.time_ns):
        self.directory = Path(directory)
        self._clock_ns = clock_ns
        self._held: _Held | None = None

    def path(self, domain: str) -> Path:
        return self.directory / f"{domain}.json"

    def _seal_path(self, domain: str) -> Path:
        return self.directory / f"{domain}.json.sha256"

    def _signatures(self, domain: str) -> tuple[StatSignature | None, StatSignature | None]:
        return _file_signature(self.path(domain)), _file_signature(self._seal_path(domain))

    def load(self, domain: str) -> DomainManifest:
        """``load_manifest`` of ``domain`` (raising as it does), or the held one if its files are unchanged."""
        signatures = self._signatures(domain)
        held = self._held
        if held is not None and held.domain == domain and held.signatures == signatures:
            if held.settled or self._hashes_to(domain, held.seal):
                return held.manifest
        manifest = load_manifest(self.directory, domain)
        self._hold(manifest, signatures)
        return manifest

    def save(self, manifest: DomainManifest) -> Path:
        """``save_manifest`` into this folder; the manifest saved is the one held."""
        location = save_manifest(manifest, self.directory)
        self._hold(manifest, self._signatures(manifest.domain))
        return location

    def _hashes_to(self, domain: str, seal: str) -> bool:
        try:
            return hashlib.sha256(self.path(domain).read_bytes()).hexdigest() == seal
        except OSError:
            return False

    def _hold(self, manifest: DomainManifest, signatures: tuple[StatSignature | None, StatSignature | None]) -> None:
        """Hold ``manifest`` as what files of ``signatures`` say, if they still do (else hold nothing)."""
        self._held = None
        try:
            seal = self._seal_path(manifest.domain).read_text().strip()
        except OSError:
            return
        if None in signatures or self._signatures(manifest.domain) != signatures:
            return  # changed meanwhile: what the files say now is for the next load to read
        settled_before = self._clock_ns() - RACY_WINDOW_NS
        settled = all(signature is not None and signature.ctime_ns < settled_before for signature in signatures)
        self._held = _Held(manifest.domain, signatures, seal, manifest, settled)

    def domains(self) -> list[str]:
        """Domains with a saved manifest, sorted."""
        return sorted(path.stem for path in self.directory.glob("*.json"))
