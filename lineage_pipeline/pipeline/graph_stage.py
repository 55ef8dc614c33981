"""Write a domain's parse results to the graph so that it equals the manifest, file for file."""

from collections.abc import Callable, Collection

from lineage_pipeline.corpus.manifest import DomainManifest
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.rows import FileGraph, build_file_graph, file_revision
from lineage_pipeline.graph.writer import GraphWriter, OrphanPolicy, SyncReport
from lineage_pipeline.pipeline.progress import NoProgress, Progress
from lineage_pipeline.stores.parse_results import ParseResults, StoredResult

PROVISIONAL = "provisional"
"""Last part of the revision of a result good for one run only, so a later final result of the same
content is never taken for the same revision."""


class MissingParseResultError(RuntimeError):
    """The graph stage found a manifest file with no parse result for its current content."""


def revision_of(stored: StoredResult) -> str:
    """The graph revision of a stored result: what the file's lineage depends on (``rows.file_revision``)."""
    return _revision(stored.key.sha256, stored.key.dialect, stored.key.context, stored.parser_version, stored.final)


def _revision(sha256: str, dialect: str, context: str, parser_version: str, final: bool) -> str:
    revision = file_revision(sha256, dialect, parser_version, context)
    return revision if final else f"{revision}:{PROVISIONAL}"


def current_revisions(
    manifest: DomainManifest,
    results: ParseResults,
    *,
    stored: dict[str, StoredResult] | None = None,
    paths: Collection[str] | None = None,
) -> dict[str, str]:
    """Path -> revision of every manifest file (or of those of ``paths`` the manifest has, their rows read
    by path); raises MissingParseResultError if one has no result for its scanned content and dialect.
    ``stored``: the domain's ``results.stored`` if the caller read it."""
    wanted = None if paths is None else set(paths)
    entries = manifest.files if wanted is None else [e for e in manifest.files if e.path in wanted]
    if stored is None and paths is not None:
        stored = results.stored(manifest.domain, [e.path for e in entries])
    if stored is None:
        rows = {
            path: (sha256, dialect, _revision(sha256, dialect, context, version, final))
            for path, sha256, dialect, context, version, final in results.revision_keys(manifest.domain)
        }
    else:
        rows = {path: (row.key.sha256, row.key.dialect, revision_of(row)) for path, row in stored.items()}
    missing = [
        e.path for e in entries
        if (row := rows.get(e.path)) is None or (row[0], row[1]) != (e.sha256, e.dialect)
    ]
    if missing:
        raise MissingParseResultError(
            f"no parse result stored for {len(missing)} file(s) of domain {manifest.domain!r} "
            f"(first: {missing[0]}); materialize parsed_sql for this partition first"
        )
    return {e.path: rows[e.path][2] for e in entries}


def sync_manifest(
    manifest: DomainManifest,
    results: ParseResults,
    backend: GraphBackend,
    *,
    batch_size: int,
    max_delete_fraction: float,
    force: bool = False,
    retry: RetryPolicy,
    orphan_policy: OrphanPolicy,
    dead_letters: DeadLetterFile | None = None,
    run_id: str = "local",
    pipelined: bool = True,
    progress: Progress | None = None,
    retire: bool = False,
    on_rows: Callable[[list[FileGraph]], None] | None = None,
) -> SyncReport:
    """Bring the domain's subgraph to the manifest's files; only changed files are read from ``results``.
    ``retire`` (a run retiring a domain whose folder is gone): with no file left in the manifest, the
    domain is retired (``GraphWriter.retire_domain``: its sync marker and dead letters go too).

    A file's revision includes its catalog context, so a file re-resolved against a changed table
    definition (of any domain) is rewritten like a changed file. Rows the store rejects go to
    ``dead_letters`` tagged with ``run_id`` (and are in the report). ``pipelined``: through the store's
    write stream (``GraphWriter``). ``progress`` hears of every file read for writing, ``on_rows`` gets
    the rows built for each chunk of files before they are written.
    """
    # derived by ``revisions`` while the writer reads the graph's state, before it asks for any rows
    current: dict[str, str] = {}
    sha256 = {e.path: e.sha256 for e in manifest.files}
    progress = progress or NoProgress()

    def revisions() -> dict[str, str]:
        current.update(current_revisions(manifest, results))
        return current

    def graphs_for(paths: list[str]) -> list[FileGraph]:
        graphs = [build_file_graph(lineage, manifest.domain, sha256[lineage.path], current[lineage.path])
                  for lineage in results.read(paths)]
        progress.advance(len(graphs))
        if on_rows is not None:
            on_rows(graphs)
        return graphs

    writer = GraphWriter(
        backend, batch_size=batch_size, retry=retry, orphan_policy=orphan_policy, dead_letters=dead_letters, run_id=run_id,
        pipelined=pipelined,
    )
    progress.begin("write", None)
    try:
        if retire and not manifest.files:
            return writer.retire_domain(manifest.domain)
        return writer.sync_domain(manifest.domain, revisions, graphs_for, max_delete_fraction, force)
    finally:
        progress.end()
