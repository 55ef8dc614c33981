"""What the asset-check tests share: a copied demo corpus, an ephemeral instance with one partition, the
project's resources built in-process, and a run of a selection of assets and checks."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline_tests.conftest import DEMO_CORPUS, project_resources

DOMAIN = "staging"


@dataclass
class ChecksSetup:
    instance: dg.DagsterInstance
    resources: dict
    corpus: Path
    data_dir: Path


def checks_setup(tmp_path: Path, **settings):
    """A ``ChecksSetup`` for the demo corpus (generator: stops the graph server the run may start)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    data_dir = tmp_path / "data"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(domain_partitions.name, [DOMAIN])
    resources = project_resources(corpus, data_dir, graph_name="checks", **settings)
    try:
        yield ChecksSetup(instance, resources, corpus, data_dir)
    finally:
        stop_server(data_dir)


def run_checks(
    setup: ChecksSetup, definitions: list, selection=None, max_error_rate=None, partition: str | None = DOMAIN
) -> dict[str, dg.AssetCheckEvaluation]:
    """Materialize ``definitions`` (or ``selection`` of them) for ``partition``; check name -> evaluation."""
    run_config: dict = {"ops": {"parsed_sql": {"config": {"workers": 1}}}}
    if max_error_rate is not None:
        run_config["ops"]["parsed_sql_parse_error_rate_below_threshold"] = {"config": {"max_error_rate": max_error_rate}}
    if selection is not None and "parsed_sql" not in str(selection):
        run_config["ops"].pop("parsed_sql")
    result = dg.materialize(
        definitions, instance=setup.instance, resources=setup.resources, partition_key=partition, selection=selection,
        run_config=run_config,
    )
    assert result.success
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def metadata(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}
