"""Spec of assets.corpus: sql_corpus in a real Dagster materialization, full and incremental scans."""

import json

import dagster as dg
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.corpus.manifest import build_manifest, load_manifest
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline_tests.conftest import project_resources

pytestmark = pytest.mark.integration  # Dagster runs


@pytest.fixture
def reads(reads: list[str], monkeypatch) -> list[str]:
    """The shared read counter, with files written by the test counting as settled at once (the racy
    window is specified in corpus/test_manifest.py)."""
    monkeypatch.setattr(manifest_module, "RACY_WINDOW_NS", 0)
    return reads


@pytest.fixture
def setup(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "core").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (corpus / "core" / f"{name}.sql").write_text(f"INSERT INTO dw.{name} SELECT x FROM stg.{name};")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(domain_partitions.name, ["core"])
    return corpus, instance, project_resources(corpus, tmp_path / "data", {"core": "tsql"})


@pytest.fixture
def manifests(tmp_path):
    """Where sql_corpus saves the manifests (the stores resource's ``manifests_dir``)."""
    return tmp_path / "data" / "manifests"


def materialize(instance, resources, changed_paths=None, expect_success=True):
    config = {} if changed_paths is None else {"changed_paths": changed_paths}
    result = dg.materialize(
        [sql_corpus], instance=instance, resources=resources, partition_key="core",
        run_config={"ops": {"sql_corpus": {"config": config}}}, raise_on_error=False,
    )
    assert result.success is expect_success
    if not expect_success:
        return result
    (event,) = result.asset_materializations_for_node("sql_corpus")
    return {k: v.value for k, v in event.metadata.items()}


def manifest_paths(manifests) -> dict[str, str]:
    manifest = load_manifest(manifests, "core")
    return {entry.path: entry.sha256 for entry in manifest.files}


def test_changed_paths_rescan_only_what_may_have_changed(setup, reads, manifests):
    corpus, instance, resources = setup
    (corpus / "core" / "d.sql").write_text("INSERT INTO dw.d SELECT x FROM stg.d;")
    first = materialize(instance, resources)
    assert (first["scan_mode"], first["files"], first["changed_paths_named"]) == ("full", 4, 0)
    before = manifest_paths(manifests)
    (corpus / "core" / "a.sql").write_text("INSERT INTO dw.a SELECT y FROM stg.a2;")
    (corpus / "core" / "b.sql").write_text("INSERT INTO dw.b SELECT x FROM stg.B;")  # same size, not named
    (corpus / "core" / "c.sql").rename(corpus / "core" / "c2.sql")
    reads.clear()
    second = materialize(instance, resources, ["core/a.sql", "core/c.sql", "core/c2.sql"])
    assert (second["scan_mode"], second["files"], second["changed_paths_named"]) == ("incremental", 4, 3)
    assert sorted(reads) == ["core/a.sql", "core/b.sql", "core/c2.sql"], "d.sql is untouched: reused, not read"
    after = manifest_paths(manifests)
    assert sorted(after) == ["core/a.sql", "core/b.sql", "core/c2.sql", "core/d.sql"]
    assert after["core/b.sql"] != before["core/b.sql"], "an unnamed edit still changes the signature"
    assert after["core/a.sql"] != before["core/a.sql"] and after["core/c2.sql"] == before["core/c.sql"]
    full = build_manifest(corpus, "core", [".sql"], {"core": "tsql"}, "postgres")
    assert {e.path: e.sha256 for e in full.files} == after


def test_full_rescan_reads_only_files_whose_stat_signature_changed(setup, reads, manifests):
    corpus, instance, resources = setup
    materialize(instance, resources)
    before = manifest_paths(manifests)
    reads.clear()
    again = materialize(instance, resources)
    assert (again["scan_mode"], again["files"]) == ("full", 3) and reads == []
    assert manifest_paths(manifests) == before
    (corpus / "core" / "b.sql").write_text("INSERT INTO dw.b SELECT x FROM stg.B;")
    materialize(instance, resources)
    assert reads == ["core/b.sql"] and manifest_paths(manifests)["core/b.sql"] != before["core/b.sql"]


def test_unreadable_previous_manifest_means_a_full_read(setup, reads, manifests):
    _, instance, resources = setup
    materialize(instance, resources)
    (manifests / "core.json").write_text("{not json")
    reads.clear()
    metadata = materialize(instance, resources, ["core/a.sql"])
    assert metadata["scan_mode"] == "full (previous manifest unreadable)" and sorted(reads) == [
        "core/a.sql", "core/b.sql", "core/c.sql"
    ]


def test_no_previous_manifest_falls_back_to_a_full_scan(setup):
    _, instance, resources = setup
    metadata = materialize(instance, resources, ["core/a.sql"])
    assert metadata["scan_mode"] == "full (no previous manifest)" and metadata["files"] == 3


def test_a_path_of_another_domain_fails_the_step_with_a_clear_error(setup):
    _, instance, resources = setup
    materialize(instance, resources)
    result = materialize(instance, resources, ["risk/x.sql"], expect_success=False)
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "'risk/x.sql' is not in domain 'core'" in json.dumps(failure.event_specific_data.error.to_string())
