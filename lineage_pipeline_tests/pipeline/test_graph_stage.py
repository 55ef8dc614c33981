"""Spec of pipeline.graph_stage through real ``lineage ingest`` runs: the run's worker process killed
(kill -9) in the middle of the graph write, then a re-run, gives exactly a clean ingest's graph."""

import os
import signal
import subprocess
import time

import falkordb
import redis.exceptions

from benchmarks.generate import generate_corpus
from lineage_pipeline.corpus.manifest import build_manifest
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import server_status
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.rows import file_revision
from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.pipeline.graph_stage import PROVISIONAL, revision_of, sync_manifest
from lineage_pipeline.pipeline.parse_stage import ParseOptions, parse_domain_files
from lineage_pipeline.settings import knob_default
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline_tests.conftest import VENV_BIN
from lineage_pipeline_tests.graph.test_writer import snapshot


def _count(graph, query: str) -> int:
    try:
        return graph.ro_query(query).result_set[0][0]
    except redis.exceptions.ResponseError:  # the graph does not exist yet
        return 0


def _kill_mid_write(project_env, env: dict) -> None:
    """Start ``lineage ingest``; kill -9 its whole process group once the graph write is under way."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "lineage"), "ingest"], env=env, cwd=project_env.root, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    graph = None
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the run finished before it could be killed mid-write"
            info = server_status(project_env.data_dir)
            if info is not None and graph is None:
                try:
                    graph = falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).select_graph("lineage")
                except redis.exceptions.ConnectionError:
                    pass  # started, not listening yet
            if graph is not None and _count(graph, "MATCH ()-[e]->() RETURN count(e)") >= 200:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
                committed = _count(graph, "MATCH (f:SqlFile) WHERE f.rev IS NOT NULL RETURN count(f)")
                assert committed < 200, "killed mid-write: not every file was committed"
                return
            time.sleep(0.02)
        raise AssertionError("the graph write never started")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def test_worker_killed_mid_write_then_rerun_equals_clean_ingest(project_env, tmp_path):
    corpus = tmp_path / "generated"
    generate_corpus(corpus, 200, seed=3)
    project_env.env["LINEAGE_CORPUS_ROOT"] = str(corpus)
    # one row per transaction makes the write long enough to be killed in the middle
    _kill_mid_write(project_env, {**project_env.env, "LINEAGE_WRITE_BATCH_SIZE": "1"})

    project_env.run("lineage", "ingest")
    project_env.env["LINEAGE_GRAPH_NAME"] = "clean"
    project_env.run("lineage", "ingest")
    with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="lineage")) as backend:
        resumed = snapshot(backend)
    with graph_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="clean")) as backend:
        clean = snapshot(backend)
    assert len(clean[0]) > 200 and len(clean[1]) > 1000
    assert resumed == clean


def _sync(manifest, results, backend):
    return sync_manifest(
        manifest, results, backend, batch_size=100, max_delete_fraction=knob_default("max_delete_fraction"),
        retry=RetryPolicy(), orphan_policy="remove",
    )


def _stores(tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite", max_entries=10_000, ttl_seconds=86400.0)
    return cache, ParseResults(tmp_path / "results.sqlite")


def _parse_and_sync(root, stores, backend, domain="reporting"):
    """Parse ``domain`` against the catalog of both domains and sync it; returns the manifest, each file's
    stored result (key with catalog context, final or not) and the sync report."""
    cache, results = stores
    manifests = {d: build_manifest(root, d, [".sql"], {}, "postgres") for d in ("core", "reporting")}
    others = [m for d, m in manifests.items() if d != domain]
    parse_domain_files(manifests[domain], others, cache, results, 5_000_000, ParseOptions(workers=1))
    return manifests[domain], results.stored(domain), _sync(manifests[domain], results, backend)


def test_a_file_resolved_against_a_changed_definition_is_rewritten(falkordb_backend, tmp_path):
    root = tmp_path / "corpus"
    (root / "core").mkdir(parents=True)
    (root / "reporting").mkdir()
    table = root / "core" / "t.sql"
    table.write_text("CREATE TABLE core.t (a INT);\n")
    (root / "reporting" / "v.sql").write_text("CREATE VIEW rpt.v AS SELECT * FROM core.t;\n")
    (root / "reporting" / "plain.sql").write_text("INSERT INTO rpt.p (x) SELECT y FROM core.t;\n")
    stores = _stores(tmp_path)
    manifest, stored, report = _parse_and_sync(root, stores, falkordb_backend)
    assert report.files_written == ["reporting/plain.sql", "reporting/v.sql"]
    revs = dict(falkordb_backend.read("MATCH (f:SqlFile) RETURN f.path, f.rev"))
    sha = {e.path: e.sha256 for e in manifest.files}
    context = stored["reporting/v.sql"].key.context
    dialect = {e.path: e.dialect for e in manifest.files}
    v, plain = "reporting/v.sql", "reporting/plain.sql"
    assert context and revs[v] == file_revision(sha[v], dialect[v], PARSER_VERSION, context)
    assert revs[plain] == file_revision(sha[plain], dialect[plain], PARSER_VERSION)  # no catalog needed
    assert revs == {path: revision_of(row) for path, row in stored.items()}
    derives = "MATCH (s:Column)-[:DERIVES]->(t:Column {table: 'rpt.v'}) RETURN s.key ORDER BY s.key"
    assert [r[0] for r in falkordb_backend.read(derives)] == ["core.t.a"]

    assert _parse_and_sync(root, stores, falkordb_backend)[2].files_written == []
    table.write_text("CREATE TABLE core.t (a INT, b INT);\n")
    _, _, report = _parse_and_sync(root, stores, falkordb_backend)
    assert report.files_written == ["reporting/v.sql"]  # its bytes did not change, its catalog did
    assert [r[0] for r in falkordb_backend.read(derives)] == ["core.t.a", "core.t.b"]


def test_lineage_of_a_file_edited_mid_run_is_replaced_even_when_the_edit_is_reverted(falkordb_backend, tmp_path):
    """The run parses what it reads; the graph revision of that result is this run's only, so the next run
    writes the file again even if its content is back to what the first run scanned."""
    root = tmp_path / "corpus"
    (root / "core").mkdir(parents=True)
    (root / "reporting").mkdir()
    (root / "core" / "t.sql").write_text("CREATE TABLE core.t (a INT);\n")
    edited = root / "reporting" / "p.sql"
    edited.write_text("INSERT INTO rpt.p (x) SELECT a FROM core.t;\n")
    stores = cache, results = _stores(tmp_path)
    manifests = {d: build_manifest(root, d, [".sql"], {}, "postgres") for d in ("core", "reporting")}
    edited.write_text("INSERT INTO rpt.edited (x) SELECT a FROM core.t;\n")  # after the scan, before the parse
    outcome, _ = parse_domain_files(
        manifests["reporting"], [manifests["core"]], cache, results, 5_000_000, ParseOptions(workers=1)
    )
    assert outcome.provisional == ["reporting/p.sql"] and not results.stored("reporting")["reporting/p.sql"].final
    _sync(manifests["reporting"], results, falkordb_backend)
    (rev,) = falkordb_backend.read("MATCH (f:SqlFile {path: 'reporting/p.sql'}) RETURN f.rev")[0]
    assert rev.endswith(f":{PROVISIONAL}")
    writes = "MATCH (:SqlFile {path: 'reporting/p.sql'})-[:WRITES]->(t:Table) RETURN t.key"
    assert falkordb_backend.read(writes) == [["rpt.edited"]], "the graph shows what was parsed"

    edited.write_text("INSERT INTO rpt.p (x) SELECT a FROM core.t;\n")  # back to the scanned content
    manifest, stored, report = _parse_and_sync(root, stores, falkordb_backend)
    assert report.files_written == ["reporting/p.sql"] and stored["reporting/p.sql"].key.context == ""
    assert stored["reporting/p.sql"].final
    assert falkordb_backend.read(writes) == [["rpt.p"]]
    assert not falkordb_backend.read("MATCH (t:Table {key: 'rpt.edited'}) RETURN t"), "its node went with its file"
