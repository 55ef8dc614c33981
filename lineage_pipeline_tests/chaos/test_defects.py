"""One regression test per numbered defect of issue 17 not already covered under ``graph/`` and by the
graph-level chaos spec (defects 1, 2, 8 and 9 are: ``graph/test_writer_faults.py``, ``graph/test_keys.py``,
``chaos/test_graph_faults.py``; the sensor ticking while a folder is being deleted, part of defect 6, is
``sensors/test_corpus_sensor.py::test_a_folder_being_deleted_is_held_on_threshold_then_retired_by_one_run``).
Real files, real ``lineage`` processes and a real FalkorDB where the defect lives there.

(3) a deleted top-level folder, and a sub-folder ingested by mistake as the corpus root;
(4) a run left STARTED by a killed ``lineage ingest``;
(5) a folder's dialect changed in the configuration;
(6) a corrupt sensor state file;
(7) a manifest whose stored SHA-256 was altered, and a top-level folder named ``_root``;
(10) a pathological file that keeps the parser busy.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from lineage_pipeline.corpus.manifest import ManifestFolder
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.dump import GraphDump
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline_tests.conftest import DEMO_CORPUS, VENV_BIN, ProjectEnv, dump_of

ALL_DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}


def sibling(env: ProjectEnv, name: str, corpus: Path | None = None, **extra: str) -> ProjectEnv:
    """Another isolated installation next to ``env`` (own data dir and Dagster home), e.g. for a clean ingest."""
    root = env.root / name
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(env.dagster_home / "dagster.yaml", home / "dagster.yaml")
    corpus = corpus or env.corpus
    data_dir = root / "data"
    environment = {
        **env.env, "LINEAGE_CORPUS_ROOT": str(corpus), "LINEAGE_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(home), **extra,
    }
    return ProjectEnv(root, corpus, data_dir, home, environment)


def file_paths(dump: GraphDump) -> dict[str, dict]:
    return {dict(props)["path"]: dict(props) for labels, props in dump.nodes if "SqlFile" in labels}


# -- (3) a deleted top-level folder; a sub-folder ingested as the corpus root ----------------------


def test_3_deleted_folder_is_kept_and_named_until_force_delete_retires_it(project_env):
    project_env.run("lineage", "ingest")
    shutil.rmtree(project_env.corpus / "reporting")
    kept = project_env.run("lineage", "ingest", check=False)
    assert kept.returncode == 1
    assert "reporting" in kept.stderr.splitlines()[-1] or "Folder gone for domain(s) reporting" in kept.stderr
    assert any(p.startswith("reporting/") for p in file_paths(dump_of(project_env.data_dir))), "its lineage is kept"
    retired = project_env.run("lineage", "ingest", "--force-delete")
    assert "Retired (folder gone, lineage removed): reporting" in retired.stdout
    clean = sibling(project_env, "clean")
    clean.run("lineage", "ingest")
    actual, expected = dump_of(project_env.data_dir), dump_of(clean.data_dir)
    assert actual == expected, actual.difference(expected)
    assert project_env.run("lineage", "ingest").returncode == 0, "a retired domain is no longer reported"


def test_3_sub_folder_ingested_as_root_then_right_root_with_force_delete_leaves_no_duplicates(project_env):
    from benchmarks.generate import generate_corpus

    corpus = project_env.root / "generated"
    generate_corpus(corpus, 40, 3)  # <domain>/bu00N/*.sql: a sub-folder has folders of its own
    wrong = project_env.run("lineage", "ingest", "--corpus", str(corpus / "core"))
    assert wrong.returncode == 0, wrong.stderr
    mistaken = file_paths(dump_of(project_env.data_dir))
    assert mistaken and all(p.startswith("bu0") for p in mistaken), "the mistake: core's sub-folders as domains"
    right = project_env.run("lineage", "ingest", "--corpus", str(corpus), "--force-delete")
    assert right.returncode == 0, right.stderr
    assert "Retired (folder gone, lineage removed): bu0" in right.stdout
    clean = sibling(project_env, "clean", corpus=corpus)
    clean.run("lineage", "ingest")
    actual, expected = dump_of(project_env.data_dir), dump_of(clean.data_dir)
    assert actual == expected, actual.difference(expected)
    domains = sorted({props["domain"] for props in file_paths(actual).values()})
    assert domains == sorted(d.name for d in corpus.iterdir() if d.is_dir()), "no duplicate (bu00N) domains"


# -- (4) a run left STARTED by a killed ingest -----------------------------------------------------


def _runs(dagster_home: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return list(instance.get_runs())


def test_4_run_left_started_by_a_killed_ingest_is_failed_by_the_next_ingest(project_env):
    process = subprocess.Popen(
        [str(VENV_BIN / "lineage"), "ingest"], env=project_env.env, cwd=project_env.root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        started = []
        while time.monotonic() < deadline and not started and process.poll() is None:
            time.sleep(0.2)
            started = [r.run_id for r in _runs(project_env.dagster_home) if r.status == dg.DagsterRunStatus.STARTED]
        assert started, "a run was executing when the command was killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    status = {r.run_id: r.status for r in _runs(project_env.dagster_home)}
    assert status[started[0]] == dg.DagsterRunStatus.STARTED, "left STARTED by the kill"
    rerun = project_env.run("lineage", "ingest", timeout=300)
    assert rerun.returncode == 0
    status = {r.run_id: r.status for r in _runs(project_env.dagster_home)}
    assert status[started[0]] == dg.DagsterRunStatus.FAILURE
    assert not [r for r, s in status.items() if s in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING)]


# -- (5) a folder's dialect changed in the configuration -------------------------------------------


def test_5_dialect_change_rewrites_the_folders_edges_and_the_check_sees_the_stale_graph(project_env):
    from lineage_pipeline.corpus.manifest import load_manifest
    from lineage_pipeline.graph.consistency import check_domain
    from lineage_pipeline.pipeline.graph_stage import current_revisions
    from lineage_pipeline.stores.parse_results import ParseResults

    # a folder of files without a ``-- dialect:`` header (the demo corpus's files all have one, which wins)
    (project_env.corpus / "ledger").mkdir()
    for i in range(3):
        (project_env.corpus / "ledger" / f"load_{i}.sql").write_text(
            f"INSERT INTO ledger.t{i} (id, amount) SELECT id, amount FROM stg.source_{i};\n"
        )
    project_env.env["LINEAGE_FOLDER_DIALECTS"] = json.dumps({**ALL_DIALECTS, "ledger": "tsql"})
    project_env.run("lineage", "ingest")
    changed = {**ALL_DIALECTS, "ledger": "snowflake"}
    clean = sibling(project_env, "clean", LINEAGE_FOLDER_DIALECTS=json.dumps(changed))
    clean.run("lineage", "ingest")  # the corpus as the new configuration reads it
    manifest = load_manifest(clean.data_dir / "manifests", "ledger")
    expected_revisions = current_revisions(manifest, ParseResults(clean.data_dir / "parse_results.sqlite"))
    assert len(expected_revisions) == 3
    assert all(":snowflake:" in rev for rev in expected_revisions.values()), "a revision includes the dialect"
    backend = open_backend(GraphStoreConfig(data_dir=project_env.data_dir, graph_name="lineage"))
    try:
        stale = check_domain(backend, "ledger", expected_revisions)
    finally:
        backend.close()
        stop_server(project_env.data_dir)
    assert sorted(stale.revision_mismatches) == sorted(expected_revisions), "graph_matches_manifest sees the stale graph"
    project_env.env["LINEAGE_FOLDER_DIALECTS"] = json.dumps(changed)
    rerun = project_env.run("lineage", "ingest")
    assert "ledger" in rerun.stdout
    actual, expected = dump_of(project_env.data_dir), dump_of(clean.data_dir)
    assert actual == expected, actual.difference(expected)
    edges = [dict(props) for *_, props in actual.relationships if dict(props).get("file", "").startswith("ledger/")]
    assert edges and all(":snowflake:" in props["rev"] for props in edges), "every edge of the folder rewritten"


# -- (6) a corrupt sensor state file ---------------------------------------------------------------


def test_6_corrupt_sensor_state_is_moved_aside_and_rebuilt_and_the_sensor_evaluates(tmp_path):
    from lineage_pipeline.sensors.batching import BatchPolicy
    from lineage_pipeline.sensors.corpus_sensor import CorpusSensorConfig, build_corpus_sensor
    from lineage_pipeline.sensors.state_store import StateStore

    corpus = tmp_path / "corpus"
    (corpus / "core").mkdir(parents=True)
    (corpus / "core" / "a.sql").write_text("INSERT INTO dw.a SELECT * FROM stg.a;\n")
    state = tmp_path / "state" / "corpus_state.sqlite"
    state.parent.mkdir()
    rng = random.Random(6)
    state.write_bytes(b"SQLite format 3\0" + bytes(rng.randrange(256) for _ in range(8192)))
    store = StateStore(state)
    try:
        assert store.moved_to is not None and store.moved_to.exists(), "the damaged file is kept aside"
        assert store.load() == {}, "rebuilt empty"
    finally:
        store.close()
    state.write_bytes(state.read_bytes()[:100])  # now truncated: the sensor itself opens it
    config = CorpusSensorConfig(
        corpus_root=corpus, extensions=[".sql"], state_path=state, policy=BatchPolicy(debounce_window_seconds=0),
        interval_seconds=1, metrics_dir=tmp_path / "metrics",
    )
    sensor = build_corpus_sensor(config, lambda: 1_000_000.0)
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = sensor(dg.build_sensor_context(instance=instance, cursor=None))
    requested = [r for r in result.dynamic_partitions_requests or [] if isinstance(r, dg.AddDynamicPartitionsRequest)]
    assert [key for r in requested for key in r.partition_keys] == ["core"], "the rebuilt state sees the corpus afresh"
    moved = [p for p in state.parent.glob("corpus_state.sqlite.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 2, "each damaged file was moved aside, none deleted"


# -- (7) an altered manifest is not trusted; a folder named _root ----------------------------------


def _spec(root: Path):
    from lineage_pipeline.pipeline.ingest import CorpusSpec

    return CorpusSpec(root=root, extensions=[".sql"], folder_dialects=ALL_DIALECTS, default_dialect="postgres",
                      max_file_bytes=5_000_000)


def test_7_manifest_with_an_altered_sha256_is_rescanned(tmp_path, reads):
    from lineage_pipeline.pipeline.ingest import scan_domain

    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    manifests = ManifestFolder(tmp_path / "manifests")
    first = scan_domain("core", _spec(corpus), manifests)
    true_sha = {e.path: e.sha256 for e in first.manifest.files}
    victim = sorted(true_sha)[0]
    text = first.manifest_path.read_text()
    first.manifest_path.write_text(text.replace(true_sha[victim], "0" * 64, 1))
    reads.clear()
    again = scan_domain("core", _spec(corpus), manifests)
    assert victim in reads, "the altered manifest is not trusted: the file is read again"
    assert {e.path: e.sha256 for e in again.manifest.files} == true_sha


def test_7_top_level_folder_named_root_is_its_own_domain(project_env):
    from lineage_pipeline.corpus.files import ROOT_DOMAIN, discover_domains, domain_of

    (project_env.corpus / "_root").mkdir()
    (project_env.corpus / "_root" / "folder_file.sql").write_text("INSERT INTO mart.f (id) SELECT id FROM stg.f;\n")
    assert domain_of("_root/folder_file.sql") == "__root" != ROOT_DOMAIN == domain_of("bootstrap.sql")
    assert {"_root", "__root"} <= set(discover_domains(project_env.corpus, [".sql"]))
    project_env.run("lineage", "ingest")
    files = file_paths(dump_of(project_env.data_dir))
    assert files["_root/folder_file.sql"]["domain"] == "__root"
    assert files["bootstrap.sql"]["domain"] == "_root", "the files directly under the root are still there"


# -- (10) a pathological file under the CPU limit --------------------------------------------------

PATHOLOGICAL = "SELECT 1 FROM t " + "JOIN JOIN " * 60


@pytest.mark.integration  # parse worker processes
def test_10_pathological_file_is_stopped_by_the_cpu_limit_its_result_provisional(tmp_path):
    from lineage_pipeline.pipeline.ingest import parse_domain, scan_domain
    from lineage_pipeline.pipeline.parse_pool import FileTask, ParsePool
    from lineage_pipeline.pipeline.parse_stage import ParseOptions
    from lineage_pipeline.stores.parse_cache import ParseCache
    from lineage_pipeline.stores.parse_results import ParseResults

    corpus = tmp_path / "corpus"
    (corpus / "core").mkdir(parents=True)
    (corpus / "core" / "pathological.sql").write_text(PATHOLOGICAL)
    (corpus / "core" / "fine.sql").write_text("INSERT INTO dw.b (id) SELECT id FROM stg.b;\n")
    manifests = ManifestFolder(tmp_path / "manifests")
    scan_domain("core", _spec(corpus), manifests)
    cache = ParseCache(tmp_path / "parse_cache.sqlite", max_entries=1000, ttl_seconds=86400)
    results = ParseResults(tmp_path / "parse_results.sqlite")
    started = time.monotonic()
    report = parse_domain(
        "core", _spec(corpus), manifests, cache, results, ParseOptions(workers=1, file_timeout_s=1), corpus_catalog=False,
    )
    assert time.monotonic() - started < 60
    assert report.outcome.worker_timeouts == 1
    assert report.outcome.provisional == ["core/pathological.sql"], "good for this run only"
    entries = {e.path: e for e in manifests.load("core").files}
    patho, fine = entries["core/pathological.sql"], entries["core/fine.sql"]
    assert cache.get(patho.sha256, patho.dialect, patho.path) is None, "never cached as final"
    assert cache.get(fine.sha256, fine.dialect, fine.path) is not None
    (stored,) = results.read(["core/pathological.sql"])
    # stopped by the CPU limit, or on a machine too loaded to give it 1 s of CPU, by the looser wall-clock bound
    assert "worker stopped" in stored.errors[0].message and not stored.statements
    # the pool goes on: a worker stopped by the limit is replaced and the next file parses normally
    with ParsePool(corpus, 5_000_000, workers=1, file_timeout_s=1) as pool:
        timed_out, other = list(pool.parse([FileTask("core/pathological.sql", "tsql"), FileTask("core/fine.sql", "tsql")]))
        assert pool.stats.timeouts == 1 and pool.stats.crashes == 0
    assert other.encoded.reusable and not timed_out.encoded.reusable
