"""Compare a domain's subgraph with its manifest: same files, same content hashes, no edges from vanished files."""

from dataclasses import dataclass, field

from lineage_pipeline.corpus.files import domain_of
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.rows import file_revision

DOMAIN_FILES = "MATCH (f:SqlFile) WHERE f.domain = $domain RETURN f.path, f.sha256, f.rev"
EDGE_FILES = "MATCH ()-[r]->() WHERE r.file IS NOT NULL RETURN DISTINCT r.file"


@dataclass
class ConsistencyReport:
    """Differences between the graph and the manifest of one domain; empty lists mean consistent."""

    domain: str
    files_checked: int = 0
    hash_mismatches: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    stale_files: list[str] = field(default_factory=list)
    edges_from_missing_files: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not (self.hash_mismatches or self.missing_files or self.stale_files or self.edges_from_missing_files)


def check_domain(backend: GraphBackend, domain: str, manifest_hashes: dict[str, str], parser_version: str) -> ConsistencyReport:
    """``manifest_hashes`` = path -> SHA-256 of every file of ``domain`` now; a file counts as written only once its revision is committed."""
    report = ConsistencyReport(domain=domain, files_checked=len(manifest_hashes))
    in_graph = {path: (sha256, rev) for path, sha256, rev in backend.read(DOMAIN_FILES, {"domain": domain})}
    for path, sha256 in sorted(manifest_hashes.items()):
        stored = in_graph.get(path)
        if stored is None:
            report.missing_files.append(path)
        elif stored[0] != sha256 or not _same_parse(stored[1] or "", file_revision(sha256, parser_version)):
            report.hash_mismatches.append(path)
    report.stale_files = sorted(set(in_graph) - set(manifest_hashes))
    edge_files = {row[0] for row in backend.read(EDGE_FILES)}
    report.edges_from_missing_files = sorted(
        path for path in edge_files if domain_of(path) == domain and path not in manifest_hashes
    )
    return report


def _same_parse(rev: str, expected: str) -> bool:
    """``rev`` is ``expected`` itself or ``expected`` plus a catalog context (a catalog-resolved file)."""
    return rev == expected or rev.startswith(expected + ":")
