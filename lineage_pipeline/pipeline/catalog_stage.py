"""Corpus-wide schema catalog for one domain's parse (the second pass of ``parsed_sql``).

The tables and views every corpus file defines (first-pass results, cached) form a catalog. A file of
the domain whose lineage a catalog can change (``SELECT *``, a column whose table the SQL does not
say, INSERT without a column list) is re-parsed with just the catalog entries it depends on, cached
under their fingerprint (the cache ``context``); the chosen context of every domain file is recorded
in the cache for the graph stage, whose file revision includes it. Other domains' files contribute
only their catalog facts, read from cache summaries (never decoded lineage), so memory stays bounded.
The catalog is built once per corpus state (``corpus_digest``) and saved in the cache; the other runs
of that state (every other domain of one ``lineage ingest``) reuse it after a stat walk of the corpus.

Limitation: a run of domain D re-resolves only D's files. When a definition in another domain
changes, D's dependent files follow on D's next run (``lineage ingest`` runs every domain).
"""

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import DomainManifest, ManifestEntry, build_manifest, last_built, load_manifest
from lineage_pipeline.parsing import Catalog
from lineage_pipeline.pipeline.parse_pool import FileResult, FileTask
from lineage_pipeline.pipeline.parse_stage import (
    CachingParser,
    ParseOptions,
    ParseOutcome,
    parse_manifest,
    prestart_workers,
)
from lineage_pipeline.stores.parse_cache import CacheKey, ParseCache, Summary

ROUNDS = 3
"""Re-resolutions of table-defining files while the catalog still grows (a view over a ``SELECT *`` view)."""


@dataclass
class CatalogOutcome:
    """What the catalog pass did for one domain; ``contexts`` is path -> catalog context ('' = first pass)."""

    corpus_files: int = 0
    """Files of the whole corpus the catalog was built from."""
    catalog_reused: bool = False
    """The catalog of this corpus state was saved by an earlier run and reused (no other domain read)."""
    corpus_files_parsed: int = 0
    """First-pass parses of other domains' files this run needed (their cache misses)."""
    catalog_tables: int = 0
    files_resolved: int = 0
    """Files of the domain whose lineage is the catalog-resolved one."""
    resolved_hits: int = 0
    resolved_parsed: int = 0
    """Catalog-resolved parses run now (the domain's files and table-defining files of any domain)."""
    column_edges_added: int = 0
    """Column edges resolution added to the domain's files, compared with their first pass."""
    file_ms: list[float] = field(default_factory=list)
    """Per-file time of every parse this pass ran (first passes of other domains' files and resolutions)."""
    seconds: float = 0.0
    contexts: dict[str, str] = field(default_factory=dict)


def other_domain_manifests(
    root: Path,
    domain: str,
    extensions: list[str],
    folder_dialects: dict[str, str],
    default_dialect: str,
    manifests_dir: Path,
) -> Iterator[DomainManifest]:
    """A fresh manifest of every other domain of the corpus, one at a time (the one this process built
    last, else the saved one, possibly stale, only lets unchanged files skip hashing; nothing is saved)."""
    for other in discover_domains(root, extensions):
        if other == domain:
            continue
        previous = last_built(root, other)
        try:
            previous = previous or load_manifest(manifests_dir, other)
        except (FileNotFoundError, ValueError):  # missing or unreadable: scan from scratch
            previous = None
        yield build_manifest(root, other, extensions, folder_dialects, default_dialect, previous=previous)


def corpus_digest(manifests: Iterable[DomainManifest], parser_version: str) -> str:
    """Digest of the corpus state a catalog is built from: every file's path, content and dialect, and
    the parser version (equal digests give equal catalogs)."""
    files = sorted((e.path, e.sha256, e.dialect) for m in manifests for e in m.files)
    digest = hashlib.sha256(parser_version.encode())
    for path, sha256, dialect in files:
        digest.update(f"\0{path}\0{sha256}\0{dialect}".encode())
    return digest.hexdigest()


def parse_with_catalog(
    manifest: DomainManifest,
    others: Iterable[DomainManifest],
    cache: ParseCache,
    max_file_bytes: int,
    options: ParseOptions | None = None,
) -> tuple[ParseOutcome, CatalogOutcome]:
    """``parse_manifest`` for ``manifest``, then the catalog pass over it and the ``others`` domains.

    The catalog is built once per corpus state: it is saved in ``cache`` under ``corpus_digest`` and a
    later run (any domain) of the same state reuses it without reading other domains' facts. The
    ``ParseOutcome`` counts the first pass's hits and misses and the final lineage's statements,
    column edges and errors; the ``CatalogOutcome`` describes the second pass. Every domain file's
    catalog context is recorded in ``cache`` (``ParseCache.contexts``).
    """
    options = options or ParseOptions()
    # one run: what the first pass stored or used must survive the catalog pass's LRU eviction
    keep_since = cache.clock()
    cache_check = cache.verify_integrity()  # before the first read: a damaged cache is rebuilt, never fatal
    prestart_workers(manifest, cache, max_file_bytes, options)  # they start while the others are scanned
    others = [other for other in others if other.domain != manifest.domain]
    live = {(e.sha256, e.dialect) for m in (manifest, *others) for e in m.files}
    report = CatalogOutcome(corpus_files=len(manifest.files) + sum(len(o.files) for o in others))
    digest = corpus_digest([manifest, *others], cache.parser_version)
    saved = cache.load_catalog(digest)
    facts = _CatalogFacts()
    # a catalog to build needs every other domain's first pass: the missing ones are parsed in the
    # domain's own worker stream, their facts noted as they arrive
    missing = [] if saved is not None else _missing_first_passes(others, cache, facts)
    own: dict[str, Summary] = {}

    def note_other(result: FileResult) -> None:
        facts.note(result.task.path, result.encoded.summary)
        report.file_ms.append(result.ms)

    outcome = parse_manifest(
        manifest, cache, max_file_bytes, options, on_summary=own.__setitem__, live=live, also=missing, on_also=note_other,
        cache_check=cache_check,
    )
    report.corpus_files_parsed = len(missing)
    started = time.perf_counter()
    entries = {e.path: e for e in manifest.files}
    with CachingParser(Path(manifest.corpus_root), cache, max_file_bytes, options, keep_since, live) as parser:
        resolver = _Resolver(entries, cache, parser, report)
        if saved is not None:
            catalog = Catalog(saved)
            report.catalog_reused = True
        else:
            for path, summary in own.items():
                facts.note(path, summary)
            # only files the rounds may re-resolve are kept, so memory does not grow with the corpus
            entries.update((e.path, e) for o in others for e in o.files if e.path in facts.dependent_definers)
            catalog = _resolve_rounds(facts, resolver)
            # a result of a crashed or hung worker says nothing about its file: do not keep what it left out
            if not (outcome.worker_crashes or outcome.worker_timeouts or parser.crashes or parser.timeouts):
                cache.save_catalog(digest, catalog)
        report.catalog_tables = len(catalog)
        subsets = {path: catalog.subset(s.dependencies) for path, s in own.items() if s.dependencies}
        resolved = resolver.resolve({path: subset for path, subset in subsets.items() if len(subset)})
    report.contexts = {e.path: subsets[e.path].fingerprint() if e.path in resolved else "" for e in manifest.files}
    # a result good for this run only is read under its own context (a resolution's over the first pass's)
    for path, context in [*outcome.once_contexts.items(), *parser.once.items()]:
        if path in report.contexts and (path not in resolved or context.startswith(report.contexts[path])):
            report.contexts[path] = context
    report.files_resolved = len(resolved)
    report.column_edges_added = sum(s.column_edges - own[path].column_edges for path, s in resolved.items())
    for path, summary in resolved.items():
        outcome.replace(path, own[path], summary)
    cache.record_contexts((e.path, e.sha256, e.dialect, report.contexts[e.path]) for e in manifest.files)
    report.seconds = time.perf_counter() - started
    return outcome, report


@dataclass
class _CatalogFacts:
    """What the catalog is built from: each table-defining file's definitions, and the dependencies of
    those whose definitions a catalog can change (a view over ``SELECT *``)."""

    defines: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    dependent_definers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def note(self, path: str, summary: Summary) -> None:
        if summary.defines:
            self.defines[path] = dict(summary.defines)
            if summary.dependencies:
                self.dependent_definers[path] = summary.dependencies


def _missing_first_passes(others: list[DomainManifest], cache: ParseCache, facts: _CatalogFacts) -> list[ManifestEntry]:
    """Note the cached first-pass facts of the ``others`` domains' files; return the files with none."""
    missing: list[ManifestEntry] = []
    for other in others:
        keys = (CacheKey(e.sha256, e.dialect) for e in other.files)
        for entry, (_, summary) in zip(other.files, cache.lookup(keys, count=False)):
            if summary is None:
                missing.append(entry)
            else:
                facts.note(entry.path, summary)
    return missing


def _resolve_rounds(facts: _CatalogFacts, resolver: "_Resolver") -> Catalog:
    """The corpus catalog from every file's first-pass facts, with table-defining files that depend on a
    catalog re-resolved while it grows (``ROUNDS`` at most)."""
    catalog = _catalog(facts.defines)
    used: dict[str, str] = {}
    for _ in range(ROUNDS):
        todo = {}
        for path, dependencies in facts.dependent_definers.items():
            subset = catalog.subset(dependencies)
            if len(subset) and used.get(path) != subset.fingerprint():
                todo[path], used[path] = subset, subset.fingerprint()
        for path, summary in resolver.resolve(todo).items():
            if summary.defines:
                facts.defines[path] = dict(summary.defines)
        rebuilt = _catalog(facts.defines)
        if not todo or rebuilt.fingerprint() == catalog.fingerprint():
            break
        catalog = rebuilt
    return catalog


def _catalog(defines: dict[str, dict[str, tuple[str, ...]]]) -> Catalog:
    """Later paths win, as in ``build_catalog`` over files in path order; a definition whose columns
    are not known yet is no entry."""
    tables: dict[str, tuple[str, ...]] = {}
    for path in sorted(defines):
        tables.update((table, columns) for table, columns in defines[path].items() if columns)
    return Catalog(tables)


class _Resolver:
    """Cached catalog-resolved summaries: a hit under (content, dialect, subset fingerprint), else a
    parse in the pool with that subset, stored under the same key."""

    def __init__(self, entries: dict[str, ManifestEntry], cache: ParseCache, parser: CachingParser, report: CatalogOutcome):
        self.entries, self.cache, self.parser, self.report = entries, cache, parser, report

    def resolve(self, subsets: dict[str, Catalog]) -> dict[str, Summary]:
        keys = {
            path: CacheKey(self.entries[path].sha256, self.entries[path].dialect, subset.fingerprint())
            for path, subset in subsets.items()
        }
        found: dict[str, Summary] = {}
        missed = []
        for path, (_, summary) in zip(keys, self.cache.lookup(keys.values(), count=False)):
            if summary is None:
                tables = {name: subsets[path][name] for name in subsets[path]}
                entry = self.entries[path]
                missed.append((FileTask(path, entry.dialect, tables, entry.sha256), keys[path]))
            else:
                found[path] = summary
        self.report.resolved_hits += len(found)
        self.report.resolved_parsed += len(missed)
        for result in self.parser.parse(missed):
            found[result.task.path] = result.encoded.summary
            self.report.file_ms.append(result.ms)
        return found
