"""Spec of corpus.manifest: size, SHA-256 and dialect per file; header beats folder beats default."""

import hashlib

import pytest

from lineage_pipeline.corpus.files import CorpusPathError
from lineage_pipeline.corpus.manifest import (
    build_manifest,
    folder_dialect,
    load_manifest,
    save_manifest,
    update_manifest,
)


def test_folder_dialect_deepest_configured_folder_wins():
    config = {"core": "tsql", "core/legacy": "oracle"}
    assert folder_dialect("core/a.sql", config, "postgres") == "tsql"
    assert folder_dialect("core/legacy/x/a.sql", config, "postgres") == "oracle"
    assert folder_dialect("risk/a.sql", config, "postgres") == "postgres"
    assert folder_dialect("a.sql", config, "postgres") == "postgres"


def test_manifest_entries(tmp_path):
    (tmp_path / "core").mkdir()
    body = b"INSERT INTO dw.t SELECT a FROM stg.s;\n"
    (tmp_path / "core" / "a.sql").write_bytes(body)
    headed = b"-- dialect: snowflake\nSELECT 1;\n"
    (tmp_path / "core" / "b.sql").write_bytes(headed)
    manifest = build_manifest(tmp_path, "core", [".sql"], {"core": "tsql"}, "postgres")
    assert [(e.path, e.domain, e.size, e.dialect) for e in manifest.files] == [
        ("core/a.sql", "core", len(body), "tsql"),
        ("core/b.sql", "core", len(headed), "snowflake"),
    ]
    assert manifest.files[0].sha256 == hashlib.sha256(body).hexdigest()


def test_version_tracks_content(tmp_path):
    (tmp_path / "a.sql").write_text("select 1")
    first = build_manifest(tmp_path, "_root", [".sql"], {}, "postgres")
    assert build_manifest(tmp_path, "_root", [".sql"], {}, "postgres").version == first.version
    (tmp_path / "a.sql").write_text("select 2")
    assert build_manifest(tmp_path, "_root", [".sql"], {}, "postgres").version != first.version


def test_save_and_load_round_trip(tmp_path):
    (tmp_path / "a.sql").write_text("select 1")
    manifest = build_manifest(tmp_path, "_root", [".sql"], {}, "postgres")
    save_manifest(manifest, tmp_path / "manifests")
    assert load_manifest(tmp_path / "manifests", "_root") == manifest
    with pytest.raises(FileNotFoundError, match="no manifest for domain 'core'.*materialize sql_corpus first"):
        load_manifest(tmp_path / "manifests", "core")


def test_update_rereads_named_new_and_resized_files_only(tmp_path):
    core = tmp_path / "core"
    core.mkdir()
    for name in ("a", "b", "c", "e"):
        (core / f"{name}.sql").write_text(f"select '{name}';")
    previous = build_manifest(tmp_path, "core", [".sql"], {}, "postgres")
    (core / "a.sql").write_text("-- dialect: tsql\nselect 'a2';")
    (core / "b.sql").write_text("select 'B';")  # same size, not named: the old entry is kept
    (core / "c.sql").unlink()  # not named: the walk still drops it
    (core / "d.sql").write_text("select 'd';")  # not named: the walk still finds it
    (core / "d.sql~").write_text("editor backup")
    (core / "e.sql").write_text("select 'e', 'longer';")  # resized, not named: re-read
    updated = update_manifest(previous, tmp_path, ["core/a.sql", "core/d.sql~"], [".sql"], {}, "postgres")
    by_path = {e.path: e for e in updated.files}
    assert list(by_path) == ["core/a.sql", "core/b.sql", "core/d.sql", "core/e.sql"]
    assert by_path["core/a.sql"].dialect == "tsql"
    assert by_path["core/a.sql"].sha256 == hashlib.sha256(b"-- dialect: tsql\nselect 'a2';").hexdigest()
    assert by_path["core/b.sql"] == previous.files[1]
    assert by_path["core/e.sql"].sha256 == hashlib.sha256(b"select 'e', 'longer';").hexdigest()
    assert update_manifest(previous, tmp_path, ["core/b.sql"], [".sql"], {}, "postgres") == build_manifest(
        tmp_path, "core", [".sql"], {}, "postgres"
    )


def test_update_rejects_paths_outside_the_domain_or_root(tmp_path):
    (tmp_path / "core").mkdir()
    previous = build_manifest(tmp_path, "core", [".sql"], {}, "postgres")
    with pytest.raises(CorpusPathError, match="'risk/x.sql' is not in domain 'core'"):
        update_manifest(previous, tmp_path, ["risk/x.sql"], [".sql"], {}, "postgres")
    with pytest.raises(CorpusPathError, match="not a corpus-relative path"):
        update_manifest(previous, tmp_path, ["core/../../etc.sql"], [".sql"], {}, "postgres")
