"""A small fixture corpus (real SQL files beside this module) parsed and written into a real FalkorDB.

``corpus/``: ``src.accounts -> stg.accounts -> dw.dim_account -> rpt.balance_summary``, plus report
queries in ``reporting/report_balances.sql`` that only read ``dw.dim_account`` and ``stg.accounts``.
"""

import hashlib
from pathlib import Path

import pytest

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.rows import SITE_PROPERTIES, build_file_graph
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.parsing.parser import parse_file_bytes
from lineage_pipeline_tests.graph.conftest import _neo4j_config

CORPUS = Path(__file__).parent / "corpus"


def site_statement_overrides() -> dict[str, tuple[str, str]]:
    """The writer statements that make READS/WRITES store the statement sites ``rows`` now carries.

    The shared ``cypher.merge_relationships`` SETs only ``rev`` (and ``transform``); until it also sets
    ``graph.rows.SITE_PROPERTIES`` (wiring asked for in the issue-19 report), tests send the same MERGE
    with the site properties added. Empty once the cypher module sets them itself.
    """
    overrides = {}
    for rel_type in ("READS", "WRITES"):
        name = f"merge:{rel_type}"
        query, key = cypher.STATEMENTS[name]
        if "e.statements" not in query:
            sites = "".join(f", e.{p} = r.{p}" for p in SITE_PROPERTIES)
            overrides[name] = (query.replace("SET e.rev = r.rev", f"SET e.rev = r.rev{sites}"), key)
    return overrides


def with_site_properties(monkeypatch) -> None:
    for name, statement in site_statement_overrides().items():
        monkeypatch.setitem(cypher.STATEMENTS, name, statement)


WITH_SITES = (
    "import sys; from lineage_pipeline.graph import cypher; "
    "from lineage_pipeline_tests.explore.conftest import site_statement_overrides; "
    "cypher.STATEMENTS.update(site_statement_overrides()); "
)
"""Python ``-c`` prefix for a subprocess that writes the graph the way the wired writer will."""


def parse_corpus(root: Path = CORPUS) -> dict[str, list]:
    """domain -> [(path, sha256, lineage)] for every .sql file under ``root`` (T-SQL; paths relative)."""
    domains: dict[str, list] = {}
    for path in sorted(root.rglob("*.sql")):
        relative = path.relative_to(root).as_posix()
        data = path.read_bytes()
        lineage = parse_file_bytes(data, "tsql", relative)
        domains.setdefault(relative.split("/")[0], []).append((relative, hashlib.sha256(data).hexdigest(), lineage))
    return domains


def ingest(backend, root: Path = CORPUS) -> None:
    """Parse ``root`` and sync each domain into ``backend`` with the real GraphWriter."""
    writer = GraphWriter(backend)
    for domain, files in parse_corpus(root).items():
        by_path = {path: (sha, lineage) for path, sha, lineage in files}

        def graphs_for(paths, domain=domain, by_path=by_path):
            return [build_file_graph(by_path[p][1], domain, by_path[p][0], by_path[p][0]) for p in paths]

        writer.sync_domain(domain, {path: sha for path, (sha, _) in by_path.items()}, graphs_for)


@pytest.fixture(params=["falkordb", "neo4j"])
def fixture_graph(request, tmp_path, monkeypatch):
    """The fixture corpus in a real embedded FalkorDB, and in Neo4j when ``NEO4J_URI`` points at a scratch
    database (skipped otherwise, as in the graph suite): every read here must run on both."""
    if request.param == "neo4j":
        config = _neo4j_config(tmp_path)
    else:
        config = GraphStoreConfig(data_dir=tmp_path / "graph-data", graph_name="test")
    backend = open_backend(config)
    if request.param == "neo4j":
        backend.write("MATCH (n) DETACH DELETE n")
    with_site_properties(monkeypatch)
    ingest(backend)
    yield backend
    if request.param == "neo4j":
        backend.write("MATCH (n) DETACH DELETE n")
    backend.close()
    stop_server(config.data_dir)
