"""Shared fixtures: an isolated project environment (data dir, Dagster home, corpus copy) per test.

Every embedded FalkorDB server a test starts (directly or through a subprocess) lives under the
test's data dir and is stopped by the fixture's finalizer.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.resources import build_resources
from lineage_pipeline.settings import PROJECT_ROOT, IngestionSettings

DEMO_CORPUS = PROJECT_ROOT / "examples" / "bank_corpus"
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
            raise AssertionError(f"{' '.join(args)} exited {result.returncode}\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr}")
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
