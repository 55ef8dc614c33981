"""Spec of the settings: defaults < YAML < env < run config, validation messages, feature flags, secrets."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.events import DagsterEventType
from pydantic import ValidationError

from lineage_pipeline.definitions import build_definitions
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.partitions import DOMAIN_PARTITIONS
from lineage_pipeline.sensors.batching import SensorCursor, add_changes, decide
from lineage_pipeline.sensors.corpus_sensor import CorpusSensorConfig
from lineage_pipeline.settings import (
    BACKEND_WRITE_BATCH_LIMITS,
    PROJECT_ROOT,
    IngestionSettings,
    InvalidSettingsError,
    default_config_file,
    knob_default,
    load_settings,
)
from lineage_pipeline.settings_sources import env_names, format_validation_error


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No inherited LINEAGE_*/alias variables; returns a writer of the YAML file the settings read."""
    names = {n for field in IngestionSettings.model_fields for n in env_names(field)}
    for key in list(os.environ):
        if key.upper() in names or key.upper().startswith("LINEAGE_") or key.upper().split("__")[0] in names:
            monkeypatch.delenv(key)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    config = tmp_path / "ingestion.yaml"

    def write(values: dict) -> Path:
        config.write_text(yaml.safe_dump({"corpus_root": str(corpus), **values}))
        monkeypatch.setenv("LINEAGE_CONFIG", str(config))
        return config

    write({})
    return write


def error_text() -> str:
    with pytest.raises(ValidationError) as caught:
        IngestionSettings()
    return format_validation_error(caught.value)


def test_precedence_default_then_yaml_then_env(isolated, monkeypatch):
    assert IngestionSettings().write_batch_size == 1000
    isolated({"write_batch_size": 7, "graph_name": "from_yaml"})
    assert (IngestionSettings().write_batch_size, IngestionSettings().graph_name) == (7, "from_yaml")
    monkeypatch.setenv("LINEAGE_WRITE_BATCH_SIZE", "11")
    settings = IngestionSettings()
    assert (settings.write_batch_size, settings.graph_name) == (11, "from_yaml")


def test_env_wins_over_yaml_for_nested_and_aliased_keys(isolated, monkeypatch):
    isolated({"folder_dialects": {"core": "tsql", "risk": "snowflake"}, "enable_batching": True})
    monkeypatch.setenv("LINEAGE_FOLDER_DIALECTS__core", "postgres")
    monkeypatch.setenv("ENABLE_BATCHING", "false")
    settings = IngestionSettings()
    assert settings.folder_dialects == {"core": "postgres", "risk": "snowflake"}
    assert settings.enable_batching is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LINEAGE_WORKERS": "0"}, "workers='0' (from env LINEAGE_WORKERS): Input should be greater than or equal to 1"),
        (
            {"LINEAGE_DEBOUNCE_WINDOW_SECONDS": "-1"},
            "debounce_window_seconds='-1' (from env LINEAGE_DEBOUNCE_WINDOW_SECONDS): Input should be greater than or equal to 0",
        ),
        (
            {"LINEAGE_WRITE_BATCH_SIZE": str(BACKEND_WRITE_BATCH_LIMITS["falkordb"] + 1)},
            "write_batch_size='10001' (from env LINEAGE_WRITE_BATCH_SIZE), graph_backend='falkordb' (from default): "
            "write_batch_size 10001 is above the falkordb backend's limit of 10000",
        ),
        (
            {"LINEAGE_GRAPH_BACKEND": "neo4j"},
            "graph_backend='neo4j' (from env LINEAGE_GRAPH_BACKEND), neo4j_uri=None (from default): "
            "graph_backend is 'neo4j' but neo4j_uri is not set",
        ),
        ({"LINEAGE_CORPUS_ROOT": "/no/such/corpus"}, "corpus_root='/no/such/corpus' (from env LINEAGE_CORPUS_ROOT): "
         "corpus root /no/such/corpus does not exist or is not a directory"),
        ({"LINEAGE_PARSE_ERROR_RATE_THRESHOLD": "1.5"}, "parse_error_rate_threshold='1.5' (from env "
         "LINEAGE_PARSE_ERROR_RATE_THRESHOLD): Input should be less than or equal to 1"),
        ({"STATSD_PORT": "70000"}, "statsd_port='70000' (from env STATSD_PORT): Input should be less than or equal to 65535"),
        ({"LINEAGE_PARSE_WORKER_START": "thread"}, "parse_worker_start='thread' (from env LINEAGE_PARSE_WORKER_START): "
         "Input should be 'auto', 'fork' or 'spawn'"),
    ],
)
def test_each_invalid_value_is_reported_with_key_value_and_source(isolated, monkeypatch, env, expected):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert error_text() == expected


def test_invalid_yaml_value_names_the_yaml_file(isolated):
    config = isolated({"write_batch_size": 0})
    assert error_text() == (
        f"write_batch_size=0 (from yaml {config.resolve()}): Input should be greater than or equal to 1"
    )


def test_neo4j_batch_limit_is_the_neo4j_one(isolated, monkeypatch):
    monkeypatch.setenv("LINEAGE_GRAPH_BACKEND", "neo4j")
    monkeypatch.setenv("LINEAGE_NEO4J_URI", "neo4j://db:7687")
    monkeypatch.setenv("LINEAGE_WRITE_BATCH_SIZE", "20000")
    assert IngestionSettings().write_batch_size == 20000
    monkeypatch.setenv("LINEAGE_WRITE_BATCH_SIZE", "50001")
    assert "above the neo4j backend's limit of 50000" in error_text()


@pytest.mark.integration  # a subprocess as another user
def test_unreadable_corpus_root_is_reported_for_a_non_root_user():
    # root reads everything, so the check runs as 'nobody' in a real subprocess
    base = Path(tempfile.mkdtemp(prefix="unreadable-", dir="/tmp"))
    try:
        base.chmod(0o755)
        corpus = base / "corpus"
        corpus.mkdir(mode=0o000)
        corpus.chmod(0o000)
        script = (
            "from pydantic import ValidationError\n"
            "from lineage_pipeline.settings import IngestionSettings\n"
            "from lineage_pipeline.settings_sources import format_validation_error\n"
            "try:\n    IngestionSettings()\nexcept ValidationError as e:\n    print(format_validation_error(e))\n"
        )
        env = {**os.environ, "LINEAGE_CORPUS_ROOT": str(corpus), "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd="/tmp")
        assert result.stdout.strip() == (
            f"corpus_root='{corpus}' (from env LINEAGE_CORPUS_ROOT): corpus root {corpus} is not readable by this process"
        ), result.stderr
    finally:
        shutil.rmtree(base)


def test_secret_values_are_masked_in_errors_and_repr(isolated, monkeypatch):
    monkeypatch.setenv("LINEAGE_NEO4J_PASSWORD", "hunter2-secret")
    settings = IngestionSettings()
    assert settings.neo4j_password.get_secret_value() == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings) and "hunter2-secret" not in str(settings.model_dump())
    monkeypatch.setenv("LINEAGE_WORKERS", "0")
    assert "hunter2-secret" not in error_text()


def test_baseline_mode_turns_every_optimisation_off(isolated, monkeypatch):
    isolated({"write_batch_size": 500, "workers": 2})
    default = IngestionSettings()
    assert (default.enable_parse_cache, default.enable_batching, default.enable_batched_writes, default.enable_pipelined_writes,
            default.enable_parallel_workers, default.write_batch_size, default.workers) == (True, True, True, True, True, 500, 2)
    assert default.overridden == {}
    monkeypatch.setenv("LINEAGE_BASELINE_MODE", "true")
    baseline = IngestionSettings()
    knobs = (
        baseline.enable_parse_cache, baseline.enable_batching, baseline.enable_batched_writes,
        baseline.enable_pipelined_writes, baseline.enable_parallel_workers, baseline.write_batch_size, baseline.workers,
    )
    assert knobs == (False, False, False, False, False, 1, 1)
    assert baseline.overridden["enable_parse_cache"] == "baseline_mode"
    assert baseline.overridden["write_batch_size"] == "enable_batched_writes=false"


@pytest.mark.parametrize(
    ("flag", "knob", "on", "off"),
    [("LINEAGE_ENABLE_BATCHED_WRITES", "write_batch_size", 500, 1), ("LINEAGE_ENABLE_PARALLEL_WORKERS", "workers", 2, 1)],
)
def test_each_write_and_worker_flag_governs_its_knob(isolated, monkeypatch, flag, knob, on, off):
    isolated({"write_batch_size": 500, "workers": 2})
    assert getattr(IngestionSettings(), knob) == on
    monkeypatch.setenv(flag, "false")
    assert getattr(IngestionSettings(), knob) == off


def test_batching_flag_changes_how_the_sensor_flushes(isolated, monkeypatch, tmp_path):
    changes = add_changes(SensorCursor(epoch="test", generation=0), ["core/a.sql", "core/b.sql", "core/c.sql"], now=100.0)
    batched = decide(changes, 101.0, CorpusSensorConfig.from_settings(IngestionSettings()).policy, in_flight=0)
    assert batched.batches == []  # still inside the debounce window
    monkeypatch.setenv("LINEAGE_ENABLE_BATCHING", "false")
    unbatched = decide(changes, 101.0, CorpusSensorConfig.from_settings(IngestionSettings()).policy, in_flight=0)
    assert sorted(b.paths for b in unbatched.batches) == [("core/a.sql",), ("core/b.sql",), ("core/c.sql",)]


def _latest_run_metadata(dagster_home: Path) -> dict[str, dict]:
    """Asset key -> materialization metadata of the newest run on the instance."""
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        assert run.status.value == "SUCCESS"
        result = {}
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            materialization = entry.dagster_event.event_specific_data.materialization
            result[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
        return result


def _ingest(project_env, data_dir: Path, monkeypatch, **env: str) -> dict[str, dict]:
    """``ingest_corpus`` for the staging partition, in this process, with the settings ``load_settings``
    reads from the project's environment plus ``env`` (read afresh: no subprocess needed for new settings);
    asset key -> the run's materialization metadata."""
    with monkeypatch.context() as patch:
        for key, value in {**project_env.env, "LINEAGE_DATA_DIR": str(data_dir), "LINEAGE_WORKERS": "2", **env}.items():
            if key.startswith("LINEAGE_"):
                patch.setenv(key, value)
        job = build_definitions(load_settings()).resolve_job_def("ingest_corpus")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(DOMAIN_PARTITIONS, ["staging"])
        result = job.execute_in_process(instance=instance, partition_key="staging")
        assert result.success
        return {
            node: {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}
            for node in ("sql_corpus", "parsed_sql", "lineage_graph")
        }


def test_each_feature_flag_changes_the_ingest(project_env, tmp_path, monkeypatch):
    data_dirs = {name: tmp_path / f"data-{name}" for name in ("default", "no_cache", "unbatched", "serial", "baseline")}
    try:
        cold = _ingest(project_env, data_dirs["default"], monkeypatch)
        warm = _ingest(project_env, data_dirs["default"], monkeypatch)
        files = cold["parsed_sql"]["files"]
        assert cold["parsed_sql"]["workers"] == 2 and warm["parsed_sql"]["cache_hits"] == files
        batched_transactions = cold["lineage_graph"]["transactions"]

        _ingest(project_env, data_dirs["no_cache"], monkeypatch, LINEAGE_ENABLE_PARSE_CACHE="false")
        no_cache = _ingest(project_env, data_dirs["no_cache"], monkeypatch, LINEAGE_ENABLE_PARSE_CACHE="false")
        assert no_cache["parsed_sql"]["cache_hits"] == 0 and no_cache["parsed_sql"]["files_parsed"] == files

        unbatched = _ingest(project_env, data_dirs["unbatched"], monkeypatch, LINEAGE_ENABLE_BATCHED_WRITES="false")
        assert unbatched["lineage_graph"]["write_batch_size"] == 1
        assert unbatched["lineage_graph"]["transactions"] > 3 * batched_transactions
        assert unbatched["lineage_graph"]["graph_relationships"] == cold["lineage_graph"]["graph_relationships"]

        serial = _ingest(project_env, data_dirs["serial"], monkeypatch, LINEAGE_ENABLE_PARALLEL_WORKERS="false")
        assert serial["parsed_sql"]["workers"] == 1

        _ingest(project_env, data_dirs["baseline"], monkeypatch, LINEAGE_BASELINE_MODE="true")
        baseline = _ingest(project_env, data_dirs["baseline"], monkeypatch, LINEAGE_BASELINE_MODE="true")
        assert baseline["parsed_sql"]["workers"] == 1 and baseline["parsed_sql"]["cache_hits"] == 0
        assert baseline["lineage_graph"]["write_batch_size"] == 1
    finally:
        for data_dir in data_dirs.values():
            stop_server(data_dir)


def test_run_config_overrides_env_which_overrides_yaml(project_env, tmp_path):
    config = yaml.safe_load((PROJECT_ROOT / "config" / "ingestion.yaml").read_text())
    config_file = tmp_path / "ingestion.yaml"
    config_file.write_text(yaml.safe_dump({**config, "write_batch_size": 7}))
    secret = "s3cret-never-logged"
    project_env.env.update({"LINEAGE_CONFIG": str(config_file), "LINEAGE_NEO4J_PASSWORD": secret})
    outputs = [project_env.run("lineage", "ingest", "--domain", "staging")]
    assert _latest_run_metadata(project_env.dagster_home)["lineage_graph"]["write_batch_size"] == 7

    project_env.env["LINEAGE_WRITE_BATCH_SIZE"] = "11"
    (project_env.corpus / "staging" / "new_view.sql").write_text("CREATE VIEW stg.v_new AS SELECT id FROM stg.accounts;\n")
    outputs.append(project_env.run("lineage", "ingest", "--domain", "staging"))
    assert _latest_run_metadata(project_env.dagster_home)["lineage_graph"]["write_batch_size"] == 11

    run_config = tmp_path / "run.yaml"
    run_config.write_text(yaml.safe_dump({"resources": {"graph_store": {"config": {"write_batch_size": 13}}}}))
    outputs.append(project_env.run(
        "dagster", "job", "execute", "-m", "lineage_pipeline.definitions", "-j", "ingest_corpus",
        "--tags", json.dumps({"dagster/partition": "staging"}), "-c", str(run_config),
    ))
    assert _latest_run_metadata(project_env.dagster_home)["lineage_graph"]["write_batch_size"] == 13

    # the password was in every process's environment: it must appear in no output, log or stored event
    for output in outputs:
        assert secret not in output.stdout + output.stderr
    for path in project_env.dagster_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_unknown_yaml_key_is_rejected_naming_the_file(isolated):
    config = isolated({"bogus_key": 3})
    assert error_text() == f"bogus_key (from yaml {config.resolve()}): unknown setting"


def test_configuration_reference_documents_every_key():
    reference = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    undocumented = [
        name for name in IngestionSettings.model_fields
        if f"| `{name}` |" not in reference or any(env not in reference for env in env_names(name))
    ]
    assert undocumented == []


def test_load_settings_reads_afresh_each_call_from_the_given_file_with_overrides_winning(isolated, tmp_path):
    isolated({"write_batch_size": 7})
    assert load_settings().write_batch_size == 7
    isolated({"write_batch_size": 8})
    assert load_settings().write_batch_size == 8, "no cache: a changed file is read by the next call"
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"corpus_root": str(tmp_path / "corpus"), "write_batch_size": 9, "graph_name": "other"}))
    settings = load_settings(other, graph_name="override")
    assert (settings.write_batch_size, settings.graph_name) == (9, "override")
    assert type(settings).source_file() == other and IngestionSettings.source_file() == default_config_file()


def test_an_invalid_given_file_is_named_in_the_error(isolated, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"corpus_root": str(tmp_path / "corpus"), "write_batch_size": 0}))
    with pytest.raises(InvalidSettingsError) as caught:
        load_settings(bad)
    assert f"write_batch_size=0 (from yaml {bad.resolve()})" in str(caught.value)
    bad.write_text("write_batch_size: [unclosed\n")
    with pytest.raises(InvalidSettingsError, match="invalid settings file"):
        load_settings(bad)


def test_default_config_file_follows_lineage_config(monkeypatch, tmp_path):
    monkeypatch.delenv("LINEAGE_CONFIG", raising=False)
    assert default_config_file() == PROJECT_ROOT / "config" / "ingestion.yaml"
    monkeypatch.setenv("LINEAGE_CONFIG", str(tmp_path / "x.yaml"))
    assert default_config_file() == tmp_path / "x.yaml"


def test_knob_defaults_are_the_settings_defaults():
    assert knob_default("write_batch_size") == 1000 and knob_default("parse_chunk_size") == 16
    assert knob_default("workers") == min(4, os.cpu_count() or 1) and knob_default("parse_worker_start") == "auto"


def test_derived_paths_live_in_the_data_dir(isolated, tmp_path):
    settings = load_settings(data_dir=tmp_path / "d")
    assert settings.parse_results_path == tmp_path / "d" / "parse_results.sqlite"
    assert settings.effective_parse_cache_path == tmp_path / "d" / "parse_cache.sqlite"
