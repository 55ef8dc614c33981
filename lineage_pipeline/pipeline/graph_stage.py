"""Write a domain's parsed lineage to the graph so that it equals the manifest, file for file."""

from collections.abc import Iterable, Mapping
from typing import Protocol

from lineage_pipeline.corpus.manifest import DomainManifest
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.rows import FileGraph, build_file_graph, file_revision
from lineage_pipeline.graph.writer import GraphWriter, OrphanPolicy, SyncReport
from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.parsing.models import FileLineage


class ParseResults(Protocol):
    """Where ``parsed_sql`` left its results (the parse cache) and which catalog context each path's
    result was resolved with."""

    def contexts(self, keys: Iterable[tuple[str, str, str]]) -> dict[str, str]: ...

    def get_many(
        self, keys: Iterable[tuple[str, str, str]], contexts: Mapping[str, str] | None = None
    ) -> dict[tuple[str, str, str], FileLineage]: ...


class MissingParseResultError(RuntimeError):
    """The graph stage found a manifest file with no stored parse result."""


def sync_manifest(
    manifest: DomainManifest,
    store: ParseResults,
    backend: GraphBackend,
    batch_size: int,
    max_delete_fraction: float = 0.5,
    force: bool = False,
    *,
    retry: RetryPolicy = RetryPolicy(),
    orphan_policy: OrphanPolicy = "remove",
    dead_letters: DeadLetterFile | None = None,
    run_id: str = "local",
    pipelined: bool = True,
) -> SyncReport:
    """Bring the domain's subgraph to the manifest's files; only changed files are read from the store.

    A file's revision includes its catalog context, so a file re-resolved against a changed table
    definition (of any domain) is rewritten like a changed file. Rows the store rejects go to
    ``dead_letters`` tagged with ``run_id`` (and are in the report). ``pipelined``: through the store's
    write stream (``GraphWriter``).
    """
    entries = {entry.path: entry for entry in manifest.files}
    contexts = store.contexts((e.sha256, e.dialect, e.path) for e in manifest.files)
    current = {path: file_revision(entry.sha256, PARSER_VERSION, contexts[path]) for path, entry in entries.items()}

    def graphs_for(paths: list[str]) -> list[FileGraph]:
        keys = [(entries[p].sha256, entries[p].dialect, p) for p in paths]
        stored = store.get_many(keys, contexts)
        missing = [key[2] for key in keys if key not in stored]
        if missing:
            raise MissingParseResultError(
                f"no parse result stored for {len(missing)} file(s) of domain {manifest.domain!r} "
                f"(first: {missing[0]}); materialize parsed_sql for this partition first"
            )
        return [build_file_graph(stored[key], manifest.domain, key[0], current[key[2]]) for key in keys]

    writer = GraphWriter(
        backend, batch_size=batch_size, retry=retry, orphan_policy=orphan_policy, dead_letters=dead_letters, run_id=run_id,
        pipelined=pipelined,
    )
    return writer.sync_domain(manifest.domain, current, graphs_for, max_delete_fraction, force)
