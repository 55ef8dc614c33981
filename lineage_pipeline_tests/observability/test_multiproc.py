"""Spec of the multiprocess set-up: which directory a process writes its metrics to, whatever it inherited."""

import subprocess
import sys

from lineage_pipeline.observability.multiproc import DERIVED_MARK_ENV, MULTIPROC_ENV
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import metrics_env, samples

SCRIPT = "from lineage_pipeline.observability import metrics as m\nm.record_files(2, 0)\nprint(m.METRICS_DIR)\n"


def _run(env, script=SCRIPT) -> str:
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_default_dir_is_under_the_data_dir(tmp_path):
    assert _run(metrics_env(tmp_path / "data")) == str(tmp_path / "data" / "metrics")
    assert samples(exposition(tmp_path / "data" / "metrics").decode())["files_processed_total"] == 2


def test_child_with_another_data_dir_does_not_inherit_the_parents_derived_dir(tmp_path):
    parent_dir = str(tmp_path / "parent" / "metrics")
    env = metrics_env(tmp_path / "child", **{MULTIPROC_ENV: parent_dir, DERIVED_MARK_ENV: parent_dir})
    assert _run(env) == str(tmp_path / "child" / "metrics")


def test_operator_set_dir_and_metrics_dir_setting_are_honoured(tmp_path):
    chosen = tmp_path / "ops-metrics"
    assert _run(metrics_env(tmp_path / "data", **{MULTIPROC_ENV: str(chosen)})) == str(chosen)
    assert samples(exposition(chosen).decode())["files_processed_total"] == 2
    configured = tmp_path / "configured"
    assert _run(metrics_env(tmp_path / "data", LINEAGE_METRICS_DIR=str(configured))) == str(configured)


def test_prometheus_client_imported_first_still_writes_multiprocess_files(tmp_path):
    _run(metrics_env(tmp_path / "data"), "import prometheus_client, prometheus_client.values\n" + SCRIPT)
    _run(metrics_env(tmp_path / "data"), "import prometheus_client, prometheus_client.values\n" + SCRIPT)
    assert samples(exposition(tmp_path / "data" / "metrics").decode())["files_processed_total"] == 4
