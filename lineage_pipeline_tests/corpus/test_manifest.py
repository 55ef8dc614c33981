"""Spec of corpus.manifest: size, SHA-256 and dialect per file; header beats folder beats default."""

import hashlib

import pytest

from lineage_pipeline.corpus.manifest import build_manifest, folder_dialect, load_manifest, save_manifest


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
