"""Spec of ``lineage config show`` run as a user would: effective values, their sources, secrets masked."""

import json

import yaml

from lineage_pipeline.settings import PROJECT_ROOT, IngestionSettings


def _config_file(tmp_path, **values):
    config = yaml.safe_load((PROJECT_ROOT / "config" / "ingestion.yaml").read_text())
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump({**config, **values}))
    return path


def test_show_json_reports_value_and_source_of_every_key(project_env, tmp_path):
    config = _config_file(tmp_path, write_batch_size=7, graph_name="from_yaml")
    project_env.env.update({"LINEAGE_GRAPH_NAME": "from_env", "LINEAGE_FOLDER_DIALECTS__core": "postgres"})
    shown = json.loads(project_env.run("lineage", "--config-file", str(config), "config", "show", "--format", "json").stdout)
    assert set(shown) == set(IngestionSettings.model_fields)
    assert shown["write_batch_size"] == {"value": "7", "source": f"yaml {config}", "env": "LINEAGE_WRITE_BATCH_SIZE"}
    assert shown["graph_name"]["value"] == "from_env" and shown["graph_name"]["source"] == "env LINEAGE_GRAPH_NAME"
    assert json.loads(shown["folder_dialects"]["value"])["core"] == "postgres"
    assert shown["folder_dialects"]["source"] == "env LINEAGE_FOLDER_DIALECTS__*"
    assert shown["corpus_root"] == {
        "value": str(project_env.corpus), "source": "env LINEAGE_CORPUS_ROOT", "env": "LINEAGE_CORPUS_ROOT"
    }
    assert shown["max_file_bytes"]["source"] == "default"
    assert shown["enable_batching"]["env"] == "LINEAGE_ENABLE_BATCHING"


def test_show_masks_secrets(project_env):
    project_env.env.update({
        "LINEAGE_NEO4J_PASSWORD": "pw-in-env-123",
        "LINEAGE_FALKORDB_URL": "redis://admin:url-pass-456@graph.internal:6379",
    })
    for output in ("table", "json"):
        result = project_env.run("lineage", "config", "show", "--format", output)
        text = result.stdout + result.stderr
        assert "pw-in-env-123" not in text and "url-pass-456" not in text
        assert "redis://admin:********@graph.internal:6379" in text
    shown = json.loads(project_env.run("lineage", "config", "show", "--format", "json").stdout)
    assert shown["neo4j_password"] == {
        "value": "********", "source": "env LINEAGE_NEO4J_PASSWORD", "env": "LINEAGE_NEO4J_PASSWORD"
    }


def test_show_explains_what_baseline_mode_overrode(project_env):
    project_env.env["LINEAGE_BASELINE_MODE"] = "1"
    shown = json.loads(project_env.run("lineage", "config", "show", "--format", "json").stdout)
    assert shown["baseline_mode"] == {"value": "true", "source": "env LINEAGE_BASELINE_MODE", "env": "LINEAGE_BASELINE_MODE"}
    assert shown["enable_parse_cache"]["value"] == "false"
    assert shown["enable_parse_cache"]["source"] == "baseline_mode (configured by default)"
    assert shown["write_batch_size"]["value"] == "1"
    assert shown["write_batch_size"]["source"].startswith("enable_batched_writes=false (configured by yaml ")


def test_table_lists_every_key_with_its_source(project_env):
    lines = project_env.run("lineage", "config", "show").stdout.splitlines()
    assert lines[0].startswith("Settings file: ")
    rows = {line.split()[0]: line for line in lines[3:] if line.strip()}
    assert set(rows) == set(IngestionSettings.model_fields)
    assert rows["corpus_root"].split()[2:4] == ["env", "LINEAGE_CORPUS_ROOT"]


def test_invalid_settings_exit_1_naming_key_value_and_source(project_env, tmp_path):
    project_env.env["LINEAGE_WORKERS"] = "0"
    result = project_env.run("lineage", "config", "show", check=False)
    assert result.returncode == 1
    assert "workers='0' (from env LINEAGE_WORKERS): Input should be greater than or equal to 1" in result.stderr


def test_unparseable_yaml_and_non_json_list_are_clear_errors(project_env, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("write_batch_size: [1, 2\n")
    result = project_env.run("lineage", "--config-file", str(broken), "config", "show", check=False)
    assert result.returncode == 1 and f"invalid settings file {broken}" in result.stderr
    project_env.env["LINEAGE_FILE_EXTENSIONS"] = ".sql"
    result = project_env.run("lineage", "config", "show", check=False)
    assert result.returncode == 1
    assert "file_extensions='.sql' (from env LINEAGE_FILE_EXTENSIONS): not valid JSON" in result.stderr
