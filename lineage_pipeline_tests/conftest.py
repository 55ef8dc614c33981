"""Shared fixtures: an isolated project environment (data dir, Dagster home, corpus copy) per test.

Every embedded FalkorDB server a test starts (directly or through a subprocess) lives under the
test's data dir and is stopped by the fixture's finalizer.

The ``integration`` marker: a test that starts a real process (a graph server, a Dagster run, a
command, parse workers) is marked here, by the fixtures it uses (``INTEGRATION_FIXTURES``), or by its
module's ``pytestmark`` where no fixture shows it. ``pytest -m "not integration"`` runs the rest in
well under two minutes. Every test is also watched while it runs: one that starts a process without
the marker is listed at the end of the session (``--strict-integration-markers`` fails it instead).
"""

import multiprocessing.process
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.dump import GraphDump, canonical_dump
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.resources import build_resources
from lineage_pipeline.settings import PROJECT_ROOT, IngestionSettings

INTEGRATION_FIXTURES = frozenset({
    "project_env",  # runs the project's commands as processes
    "falkordb_backend",  # a real embedded FalkorDB server
    "store",  # graph/conftest.py: a real FalkorDB server (or Neo4j)
    "fixture_graph",  # explore/conftest.py: a real FalkorDB server (or Neo4j)
})
"""Fixtures whose tests start real processes: such tests are marked ``integration`` at collection."""

INTEGRATION_TESTS = (
    # modules and tests of the graph, observability, parsing and explore suites that start processes where
    # no fixture shows it (found by the watcher below); a module's own ``pytestmark`` can replace its line
    "cli/test_main.py::test_help_lists_every_command_without_importing_any_heavy_library",
    "cli/test_main.py::test_bench_help_lists_its_commands_without_importing_the_benchmarks",
    "cli/test_main.py::test_command_modules_import_only_light_modules_at_top_level",
    "explore/test_html_page.py::test_two_hundred_nodes_render_without_overlapping",
    "graph/test_connect.py::test_remote_falkordb_url_is_used_and_its_password_never_shown",
    "graph/test_connect.py::test_embedded_server_that_stops_answering_is_replaced_and_keeps_its_data",
    "graph/test_dead_letter.py::test_concurrent_processes_never_interleave_lines",
    "graph/test_embedded_server.py",
    "graph/test_falkordb_backend.py::test_recover_restarts_a_killed_embedded_server",
    "graph/test_falkordb_backend.py::test_falkordb_maintenance_runs_every_few_writes_and_its_failure_fails_no_write",
    "graph/test_writer.py::test_pipelined_stream_writes_the_same_graph_as_one_write_at_a_time",
    "graph/test_writer.py::test_server_killed_mid_write_run_completes_and_equals_clean_ingest",
    "observability/test_grafana_dashboard.py::test_dashboard_references_only_exposed_series_and_covers_every_metric",
    "observability/test_metrics.py::test_counters_histograms_and_gauges_aggregate_over_processes",
    "observability/test_metrics.py::test_active_workers_counts_only_live_processes",
    "observability/test_metrics.py::test_every_metric_is_exposed_from_zero_and_statsd_is_off_by_default",
    "observability/test_metrics.py::test_importing_observability_reads_no_settings_and_touches_no_file",
    "observability/test_metrics.py::test_a_forked_child_records_in_its_own_files",
    "observability/test_multiproc.py",
    "observability/test_server.py::test_reset_removes_accumulated_values",
    "observability/test_statsd.py::test_recorded_figures_reach_a_real_statsd_socket",
    "observability/test_store.py::test_a_full_filesystem_disables_metrics_instead_of_sigbus",
    "observability/test_store.py::test_metrics_recorded_before_the_disk_filled_stay_readable",
    "parsing/test_robustness.py::test_error_messages_do_not_depend_on_the_process_hash_seed",
)
"""Node ids (below ``lineage_pipeline_tests/``, a module or one test with all its parameters) marked ``integration``."""

DEMO_CORPUS = PROJECT_ROOT / "examples" / "bank_corpus"


def dump_of(data_dir: Path) -> GraphDump:
    """The canonical dump of the embedded graph in ``data_dir`` (its server stopped afterwards)."""
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="lineage"))
    try:
        return canonical_dump(backend)
    finally:
        backend.close()
        stop_server(data_dir)
DEMO_DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}
VENV_BIN = Path(sys.executable).parent


def project_settings(corpus: Path, data_dir: Path, folder_dialects: dict[str, str] | None = None, **values) -> IngestionSettings:
    """The project's settings for ``corpus`` and ``data_dir`` (the demo corpus's dialects unless given);
    ``values`` override any other knob, the rest comes from the project's YAML and environment."""
    dialects = DEMO_DIALECTS if folder_dialects is None else folder_dialects
    return IngestionSettings(corpus_root=corpus, data_dir=data_dir, folder_dialects=dialects, **values)


def project_resources(corpus: Path, data_dir: Path, folder_dialects: dict[str, str] | None = None, **values) -> dict:
    """The code location's resources for these settings, built in-process as ``build_definitions`` builds them."""
    return build_resources(project_settings(corpus, data_dir, folder_dialects, **values))


@dataclass
class ProjectEnv:
    """Paths and environment for running the project's commands in isolation."""

    root: Path
    corpus: Path
    data_dir: Path
    dagster_home: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a command of the venv (``lineage``, ``dagster``) with this environment."""
        command = [str(VENV_BIN / args[0]), *args[1:]]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr}"
            )
        return result

    def graph_config(self) -> GraphStoreConfig:
        return GraphStoreConfig(data_dir=self.data_dir, graph_name="lineage")


@pytest.fixture
def project_env(tmp_path: Path) -> ProjectEnv:
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    data_dir = tmp_path / "data"
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        **os.environ,
        "LINEAGE_CORPUS_ROOT": str(corpus),
        "LINEAGE_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(dagster_home),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    yield ProjectEnv(tmp_path, corpus, data_dir, dagster_home, env)
    stop_server(data_dir)


@pytest.fixture
def falkordb_backend(tmp_path: Path):
    """A real embedded FalkorDB server in a temp data dir, with the lineage schema in place."""
    data_dir = tmp_path / "graph-data"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="test"))
    yield backend
    backend.close()
    stop_server(data_dir)


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Paths whose content a manifest scan reads, in order (the real read, counted)."""
    seen: list[str] = []
    real = manifest_module.manifest_entry

    def counting(root, relative_path, *args, **kwargs):
        seen.append(relative_path)
        return real(root, relative_path, *args, **kwargs)

    monkeypatch.setattr(manifest_module, "manifest_entry", counting)
    return seen


# -- the integration marker ------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--strict-integration-markers", action="store_true",
        help="fail a test that starts a process without the integration marker (default: list it at the end)",
    )


def _listed(nodeid: str) -> bool:
    """``nodeid`` is one of ``INTEGRATION_TESTS``: the module, or the test with any parameters."""
    relative = nodeid.removeprefix("lineage_pipeline_tests/")
    test = relative.split("[", 1)[0]
    return any(test == entry or (entry.endswith(".py") and test.startswith(entry + "::")) for entry in INTEGRATION_TESTS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())) or _listed(item.nodeid):
            item.add_marker(pytest.mark.integration)


_UNMARKED_SPAWNS: list[str] = []


@pytest.fixture(autouse=True)
def _processes_need_the_integration_marker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Watch the test for forks, subprocesses and multiprocessing starts; report one without the marker."""
    if request.node.get_closest_marker("integration") is not None:
        yield
        return
    started: list[str] = []
    parent = os.getpid()

    def watched(kind: str, real):
        def start(*args, **kwargs):
            if os.getpid() == parent:
                started.append(kind)
            return real(*args, **kwargs)
        return start

    monkeypatch.setattr(os, "fork", watched("os.fork", os.fork))
    monkeypatch.setattr(subprocess.Popen, "_execute_child", watched("subprocess", subprocess.Popen._execute_child))
    monkeypatch.setattr(
        multiprocessing.process.BaseProcess, "start", watched("multiprocessing", multiprocessing.process.BaseProcess.start)
    )
    yield
    if started:
        message = f"{request.node.nodeid} started processes ({', '.join(sorted(set(started)))}) but is not marked integration"
        if request.config.getoption("--strict-integration-markers"):
            pytest.fail(message, pytrace=False)
        _UNMARKED_SPAWNS.append(message)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _UNMARKED_SPAWNS:
        terminalreporter.section("tests that start processes without the integration marker")
        for line in _UNMARKED_SPAWNS:
            terminalreporter.write_line(line)
