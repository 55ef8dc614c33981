"""Compare the graph with what the manifests say it must hold: per domain, the same files at the same
full revisions, no relationship of another revision, none from a vanished file; and no domain the
manifests do not know.

A revision (``rows.file_revision``) is everything a file's lineage depends on - its bytes, the parser
version, the catalog context - so comparing it whole (not only the content hash) is what catches a
file whose lineage is stale although its bytes did not change. The relationships are checked too: a
file committed at the right revision must not keep edges of another one.

Reads go through the same retry layer as writes (``faults.call_with_retry``).
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from lineage_pipeline.corpus.files import domain_of
from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.faults import DEFAULT_RETRY, RetryPolicy, retrying_read

CHECK_CHUNK = 5000
"""Files per relationship-revision query (bounds its parameter list)."""


@dataclass
class ConsistencyReport:
    """Differences between the graph and the manifest of one domain; empty lists mean consistent."""

    domain: str
    files_checked: int = 0
    """Files whose committed revision was compared (all of the domain's, or those a sync wrote)."""
    edges_checked: int = 0
    """Files whose relationships were read for other revisions (all of them, or those a sync wrote)."""
    revision_mismatches: list[str] = field(default_factory=list)
    """Files whose committed revision is not the expected one (or was never committed)."""
    missing_files: list[str] = field(default_factory=list)
    stale_files: list[str] = field(default_factory=list)
    """Files in the graph the manifest no longer has."""
    edges_from_missing_files: list[str] = field(default_factory=list)
    edges_of_other_revisions: list[str] = field(default_factory=list)
    """Files with relationships stamped with a revision other than the expected one."""

    @property
    def consistent(self) -> bool:
        return not (
            self.revision_mismatches
            or self.missing_files
            or self.stale_files
            or self.edges_from_missing_files
            or self.edges_of_other_revisions
        )


def _reader(backend: GraphBackend, retry: RetryPolicy):
    def read(query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return retrying_read(backend, query, params, retry)

    return read


def check_domain(
    backend: GraphBackend,
    domain: str,
    expected_revisions: Mapping[str, str],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    whole_graph: bool = False,
    edges_of: Collection[str] | None = None,
    gone: Collection[str] = (),
) -> ConsistencyReport:
    """``expected_revisions`` = path -> full revision (``rows.file_revision``, as the graph stage
    computes it) of every file of ``domain`` now.

    ``edges_of``: the files whose relationships are read for other revisions (None: every file). A
    sync rewrites only changed files, so after one the relationships of the files it wrote are what
    can be wrong: checking only those keeps a check after a small change from reading the whole
    domain's relationships. ``gone``: paths deleted by that sync, whose relationships are looked for.

    Reads only the domain (its file nodes, and its files' relationships through the ``file`` index), so
    the check costs what the domain holds, not what the graph holds. Relationships of a file that has no
    node any more are looked for among the domain's stale files; ``whole_graph`` also scans every
    relationship for files no node names (the writer unlinks a file's relationships before deleting its
    node, so only a change made outside the writer leaves those)."""
    read = _reader(backend, retry)
    report = ConsistencyReport(domain=domain, files_checked=len(expected_revisions))
    in_graph = {path: rev for path, rev in read(cypher.DOMAIN_FILES, {"domain": domain})}
    for path, rev in sorted(expected_revisions.items()):
        if path not in in_graph:
            report.missing_files.append(path)
        elif in_graph[path] != rev:
            report.revision_mismatches.append(path)
    report.stale_files = sorted(set(in_graph) - set(expected_revisions))
    if whole_graph:
        edge_files = {path for path in _all_edge_files(read) if domain_of(path) == domain}
    else:
        edge_files = _files_with_edges(read, sorted(set(report.stale_files) | set(gone)))
    report.edges_from_missing_files = sorted(path for path in edge_files if path not in expected_revisions)
    checked = expected_revisions if edges_of is None else {p: expected_revisions[p] for p in edges_of if p in expected_revisions}
    report.edges_checked = len(checked)
    report.edges_of_other_revisions = _edges_of_other_revisions(read, checked)
    return report


def _edges_of_other_revisions(read, revisions: Mapping[str, str]) -> list[str]:
    """Those of the files of ``revisions`` (path -> expected revision) with a relationship of another one."""
    rows = [{"path": path, "rev": rev} for path, rev in sorted(revisions.items())]
    other: set[str] = set()
    for start in range(0, len(rows), CHECK_CHUNK):
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
            query = cypher.edges_of_other_revisions(rel_type)
            other.update(row[0] for row in read(query, {"rows": rows[start : start + CHECK_CHUNK]}))
    return sorted(other)


def check_after_write(
    backend: GraphBackend,
    domain: str,
    written_revisions: Mapping[str, str],
    *,
    file_count: int,
    gone: Collection[str] = (),
    all_revisions: Callable[[], Mapping[str, str]],
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ConsistencyReport:
    """``check_domain`` right after a sync of ``domain``, at the cost of what the sync changed: the files it
    wrote (``written_revisions``: path -> expected revision) hold their revision on node and edges, the
    files it deleted (``gone``) are gone with their edges, and the domain holds ``file_count`` files (a
    count over its index). The files it left alone were compared with the manifest by the sync itself,
    under the domain's lock; only if the count differs is every file compared (``all_revisions``), so the
    report names the difference."""
    read = _reader(backend, retry)
    ((in_domain,),) = read(cypher.DOMAIN_FILE_COUNT, {"domain": domain})
    if int(in_domain) != file_count:
        return check_domain(backend, domain, all_revisions(), retry=retry, edges_of=list(written_revisions), gone=gone)
    report = ConsistencyReport(domain=domain, files_checked=len(written_revisions))
    paths = sorted(set(written_revisions) | set(gone))
    in_graph: dict[str, str] = {}
    for start in range(0, len(paths), CHECK_CHUNK):
        in_graph.update((path, rev) for path, rev in read(cypher.FILES_AT, {"paths": paths[start : start + CHECK_CHUNK]}))
    for path, rev in sorted(written_revisions.items()):
        if path not in in_graph:
            report.missing_files.append(path)
        elif in_graph[path] != rev:
            report.revision_mismatches.append(path)
    report.stale_files = sorted(path for path in gone if path in in_graph)
    report.edges_from_missing_files = sorted(_files_with_edges(read, sorted(gone)))
    report.edges_checked = len(written_revisions)
    report.edges_of_other_revisions = _edges_of_other_revisions(read, written_revisions)
    return report


def _all_edge_files(read) -> set[str]:
    return {row[0] for row in read(cypher.EDGE_FILES)}


def _files_with_edges(read, paths: list[str]) -> set[str]:
    """Those of ``paths`` that some relationship comes from (index lookups, ``CHECK_CHUNK`` paths a query)."""
    found: set[str] = set()
    for start in range(0, len(paths), CHECK_CHUNK):
        chunk = paths[start : start + CHECK_CHUNK]
        for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
            found.update(row[0] for row in read(cypher.files_with_relationships(rel_type), {"paths": chunk}))
    return found


def graph_domains(
    backend: GraphBackend, *, retry: RetryPolicy = DEFAULT_RETRY, whole_graph: bool = False
) -> set[str]:
    """Every domain the graph holds files or a sync marker of (a sync sets its marker before its first write
    and a retire removes it last); ``whole_graph`` also counts relationships whose file no node names."""
    read = _reader(backend, retry)
    domains = {row[0] for row in read(cypher.GRAPH_FILE_DOMAINS)}
    domains |= {row[0] for row in read(cypher.GRAPH_SYNC_DOMAINS)}
    if whole_graph:
        domains |= {domain_of(path) for path in _all_edge_files(read)}
    return {domain for domain in domains if domain is not None}


def synced_domains(backend: GraphBackend, *, retry: RetryPolicy = DEFAULT_RETRY) -> set[str]:
    """The domains a sync ever wrote to (their markers): one cheap read, unlike ``graph_domains``."""
    return {row[0] for row in _reader(backend, retry)(cypher.GRAPH_SYNC_DOMAINS) if row[0] is not None}


def unexpected_domains(
    backend: GraphBackend, expected: Collection[str], *, retry: RetryPolicy = DEFAULT_RETRY, whole_graph: bool = False
) -> list[str]:
    """Domains present in the graph but not in ``expected`` (sorted): e.g. a corpus folder removed or
    renamed, whose lineage must be retired (``GraphWriter.retire_domain``)."""
    return sorted(graph_domains(backend, retry=retry, whole_graph=whole_graph) - set(expected))
