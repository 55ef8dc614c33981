"""Spec of the code location: it validates, and the documented ``dagster job execute`` runs one partition."""

import json
import logging

import yaml
from dagster import DagsterInstance

from lineage_pipeline.corpus.manifest import load_manifest
from lineage_pipeline.definitions import build_definitions, defs, ingest_job
from lineage_pipeline.graph.connect import graph_backend
from lineage_pipeline.graph.queries import graph_counts
from lineage_pipeline.sensors.corpus_sensor import SENSOR_NAME
from lineage_pipeline.settings import load_settings
from lineage_pipeline_tests.conftest import DEMO_CORPUS, project_settings


def test_definitions_wire_three_partitioned_assets_and_the_job():
    definitions = defs()
    keys = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"sql_corpus", "parsed_sql", "lineage_graph"}
    job = definitions.resolve_job_def("ingest_corpus")
    assert job.partitions_def is not None and job.partitions_def.name == "corpus_domain"
    assert definitions.resolve_sensor_def(SENSOR_NAME).name == SENSOR_NAME


def test_definitions_take_every_resource_value_and_the_sensors_root_from_the_settings(tmp_path):
    settings = project_settings(DEMO_CORPUS, tmp_path / "data", graph_name="from_settings", workers=3)
    definitions = build_definitions(settings)
    resources = definitions.resolve_job_def("ingest_corpus").resource_defs
    assert set(resources) >= {"corpus", "stores", "parser", "graph_store"}
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    assert str(DEMO_CORPUS) in (sensor.description or "")


def test_ingest_job_is_rebuilt_with_the_given_config_file_and_corpus_root(tmp_path):
    config = tmp_path / "ingestion.yaml"
    config.write_text(yaml.safe_dump({"corpus_root": str(DEMO_CORPUS), "data_dir": str(tmp_path / "data")}))
    job = ingest_job(str(config), str(tmp_path))
    assert job.name == "ingest_corpus"


def test_a_run_builds_its_job_without_reading_the_warehouse_facts(tmp_path, caplog):
    """Every run the launcher starts rebuilds the job: the warehouse assets, read from the facts store and
    as many as the warehouse has tables, are the code location's, not the run's."""
    config = tmp_path / "ingestion.yaml"
    config.write_text(yaml.safe_dump({"corpus_root": str(DEMO_CORPUS), "data_dir": str(tmp_path / "data")}))
    facts = load_settings(str(config)).warehouse_facts_path
    facts.parent.mkdir(parents=True)
    facts.write_bytes(b"not a database" * 100)  # any read of it warns
    with caplog.at_level(logging.WARNING):
        assert ingest_job(str(config)).name == "ingest_corpus"
    assert caplog.text == "", "the job was built without opening the facts store"
    with caplog.at_level(logging.WARNING):
        build_definitions(load_settings(str(config)))
    assert "warehouse assets left out" in caplog.text, "the code location does read it"


def test_dagster_definitions_validate(project_env):
    result = project_env.run("dagster", "definitions", "validate", "-m", "lineage_pipeline.definitions")
    assert "Validation successful" in result.stdout + result.stderr


def test_dagster_job_execute_runs_one_partition(project_env):
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        instance.add_dynamic_partitions("corpus_domain", ["staging"])
    project_env.run(
        "dagster", "job", "execute", "-m", "lineage_pipeline.definitions", "-j", "ingest_corpus",
        "--tags", json.dumps({"dagster/partition": "staging"}),
    )
    manifest = load_manifest(project_env.data_dir / "manifests", "staging")
    assert manifest.files and all(f.domain == "staging" for f in manifest.files)
    with graph_backend(project_env.graph_config()) as backend:
        domains = {row[0] for row in backend.read("MATCH (f:SqlFile) RETURN DISTINCT f.domain")}
        nodes, relationships = graph_counts(backend)
    assert domains == {"staging"}
    assert nodes["SqlFile"] == len(manifest.files)
    assert relationships["FEEDS"] > 0 and relationships["DERIVES"] > 0
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        runs = instance.get_runs()
    assert [(r.job_name, r.tags["dagster/partition"], r.status.value) for r in runs] == [
        ("ingest_corpus", "staging", "SUCCESS")
    ]
