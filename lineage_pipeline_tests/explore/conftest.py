"""A small fixture corpus (real SQL files beside this module) parsed and written into a real FalkorDB.

``corpus/``: ``src.accounts -> stg.accounts -> dw.dim_account -> rpt.balance_summary``, plus report
queries in ``reporting/report_balances.sql`` that only read ``dw.dim_account`` and ``stg.accounts``.
"""

import hashlib
from pathlib import Path

import pytest

from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.rows import build_file_graph
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.parsing.parser import parse_file_bytes
from lineage_pipeline_tests.graph.conftest import _neo4j_config

CORPUS = Path(__file__).parent / "corpus"


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
    ingest(backend)
    yield backend
    if request.param == "neo4j":
        backend.write("MATCH (n) DETACH DELETE n")
    backend.close()
    stop_server(config.data_dir)
