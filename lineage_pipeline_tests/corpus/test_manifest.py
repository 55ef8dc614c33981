"""Spec of corpus.manifest: size, SHA-256 and dialect per file; header beats folder beats default."""

import hashlib
import json
import os
import time

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.corpus.files import CorpusPathError
from lineage_pipeline.corpus.manifest import (
    RACY_WINDOW_NS,
    DomainManifest,
    ManifestFolder,
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


def test_entries_are_saved_as_arrays_and_a_manifest_of_entry_objects_still_loads(tmp_path):
    (tmp_path / "a.sql").write_text("select 1")
    manifest = build_manifest(tmp_path, "_root", [".sql"], {}, "postgres")
    save_manifest(manifest, tmp_path / "manifests")
    saved = json.loads((tmp_path / "manifests" / "_root.json").read_text())
    assert saved["files"] == [list(manifest.files[0])]
    entry = manifest.files[0]
    older = json.dumps({**saved, "files": [entry._asdict()]}, indent=1).encode()  # as saved before
    (tmp_path / "manifests" / "_root.json").write_bytes(older)
    (tmp_path / "manifests" / "_root.json.sha256").write_text(hashlib.sha256(older).hexdigest())
    assert load_manifest(tmp_path / "manifests", "_root") == manifest


def later() -> int:
    """A scan clock past the racy window, as if the scan ran a while after the test wrote its files."""
    return time.time_ns() + 2 * RACY_WINDOW_NS




def scan(root, previous=None, clock_ns=later, folder_dialects=None):
    base = previous or DomainManifest(domain="core", corpus_root=str(root.resolve()), files=[])
    return update_manifest(base, root, [], [".sql"], folder_dialects or {}, "postgres", clock_ns=clock_ns)


def test_update_rereads_named_new_and_changed_files_only(tmp_path, reads):
    core = tmp_path / "core"
    core.mkdir()
    for name in ("a", "b", "c", "e", "f"):
        (core / f"{name}.sql").write_text(f"select '{name}';")
    previous = scan(tmp_path)
    reads.clear()
    (core / "a.sql").write_text("-- dialect: tsql\nselect 'a2';")
    (core / "b.sql").write_text("select 'B';")  # same size, not named: its signature changed, re-read
    (core / "c.sql").unlink()  # not named: the walk still drops it
    (core / "d.sql").write_text("select 'd';")  # not named: the walk still finds it
    (core / "d.sql~").write_text("editor backup")
    (core / "e.sql").write_text("select 'e', 'longer';")  # resized, not named: re-read
    named = ["core/a.sql", "core/d.sql~"]
    updated = update_manifest(previous, tmp_path, named, [".sql"], {}, "postgres", clock_ns=later)
    assert sorted(reads) == ["core/a.sql", "core/b.sql", "core/d.sql", "core/e.sql"], "f.sql is untouched"
    by_path = {e.path: e for e in updated.files}
    assert list(by_path) == ["core/a.sql", "core/b.sql", "core/d.sql", "core/e.sql", "core/f.sql"]
    assert by_path["core/a.sql"].dialect == "tsql"
    assert by_path["core/a.sql"].sha256 == hashlib.sha256(b"-- dialect: tsql\nselect 'a2';").hexdigest()
    assert by_path["core/b.sql"].sha256 == hashlib.sha256(b"select 'B';").hexdigest()
    assert by_path["core/e.sql"].sha256 == hashlib.sha256(b"select 'e', 'longer';").hexdigest()
    assert by_path["core/f.sql"] == previous.files[-1]
    content = update_manifest(previous, tmp_path, ["core/b.sql"], [".sql"], {}, "postgres", clock_ns=later)
    assert content.version == build_manifest(tmp_path, "core", [".sql"], {}, "postgres").version


def test_rescan_reads_no_file_whose_signature_is_unchanged(tmp_path, reads):
    (tmp_path / "core").mkdir()
    for name in ("a", "b"):
        (tmp_path / "core" / f"{name}.sql").write_text(f"select '{name}';")
    first = scan(tmp_path)
    assert sorted(reads) == ["core/a.sql", "core/b.sql"] and all(e.signature is not None for e in first.files)
    reads.clear()
    assert scan(tmp_path, first) == first and reads == []
    assert build_manifest(tmp_path, "core", [".sql"], {}, "postgres", previous=first) == first and reads == []


def test_same_size_edit_with_mtime_put_back_is_reread(tmp_path, reads):
    (tmp_path / "core").mkdir()
    target = tmp_path / "core" / "a.sql"
    target.write_text("select 'a';")
    first = scan(tmp_path)
    before = os.stat(target)
    time.sleep(0.02)  # past the filesystem's timestamp tick, so the ctime of the edit differs
    target.write_text("select 'A';")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(target)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    reads.clear()
    (entry,) = scan(tmp_path, first).files
    assert reads == ["core/a.sql"], "ctime changed, so the file is read again"
    assert entry.sha256 == hashlib.sha256(b"select 'A';").hexdigest() != first.files[0].sha256


def test_file_changed_within_the_racy_window_is_reread_until_settled(tmp_path, reads):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "a.sql").write_text("select 'a';")
    fresh = scan(tmp_path, clock_ns=time.time_ns)
    assert fresh.files[0].signature is None, "written just now: a same-tick rewrite would go unseen"
    settled = scan(tmp_path, fresh)
    assert reads == ["core/a.sql", "core/a.sql"] and settled.files[0].signature is not None
    assert settled.files[0].sha256 == fresh.files[0].sha256


def test_older_manifest_or_other_dialect_config_is_not_reused(tmp_path, reads):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "a.sql").write_text("select 'a';")
    first = scan(tmp_path)
    without_stats = first.model_copy(
        update={"files": [first.files[0]._replace(mtime_ns=None, ctime_ns=None, inode=None)]}
    )
    reads.clear()
    assert scan(tmp_path, without_stats) == first and reads == ["core/a.sql"]
    reads.clear()
    recut = scan(tmp_path, first, folder_dialects={"core": "tsql"})
    assert reads == ["core/a.sql"] and recut.files[0].dialect == "tsql"


def test_update_rejects_paths_outside_the_domain_or_root(tmp_path):
    (tmp_path / "core").mkdir()
    previous = build_manifest(tmp_path, "core", [".sql"], {}, "postgres")
    with pytest.raises(CorpusPathError, match="'risk/x.sql' is not in domain 'core'"):
        update_manifest(previous, tmp_path, ["risk/x.sql"], [".sql"], {}, "postgres")
    with pytest.raises(CorpusPathError, match="not a corpus-relative path"):
        update_manifest(previous, tmp_path, ["core/../../etc.sql"], [".sql"], {}, "postgres")


def _saved_domain(tmp_path):
    root = tmp_path / "corpus"
    (root / "core").mkdir(parents=True)
    for name in ("a", "b"):
        (root / "core" / f"{name}.sql").write_text(f"SELECT {name} FROM t;")
    return root, build_manifest(root, "core", [".sql"], {}, "postgres")


def _later() -> int:
    """A clock past the racy window of files written now."""
    return time.time_ns() + 2 * RACY_WINDOW_NS


def test_a_folder_reads_a_domain_once_while_its_files_are_unchanged(tmp_path, monkeypatch):
    root, manifest = _saved_domain(tmp_path)
    folder = ManifestFolder(tmp_path / "manifests", clock_ns=_later)
    assert folder.save(manifest) == tmp_path / "manifests" / "core.json"
    reads = []
    monkeypatch.setattr(manifest_module, "load_manifest", lambda d, domain: reads.append(domain) or load_manifest(d, domain))
    assert folder.load("core") is manifest, "the one it saved is held"
    assert ManifestFolder(tmp_path / "manifests").load("core") == manifest and reads == ["core"]
    assert folder.domains() == ["core"]


def test_a_manifest_written_within_the_racy_window_is_served_only_while_its_bytes_hash_to_its_seal(tmp_path, monkeypatch):
    """A change in the same clock tick as the save would keep the file's signature: its bytes decide."""
    root, manifest = _saved_domain(tmp_path)
    folder = ManifestFolder(tmp_path / "manifests")
    folder.save(manifest)
    reads = []
    monkeypatch.setattr(manifest_module, "load_manifest", lambda d, domain: reads.append(domain) or load_manifest(d, domain))
    assert folder.load("core") is manifest and reads == []
    recorded = manifest_module._file_signature(folder.path("core"))
    text = folder.path("core").read_text()
    folder.path("core").write_text(text.replace(manifest.files[0].sha256, "f" * 64, 1))  # same size, in place
    signature_of = manifest_module._file_signature
    # the clock did not move between the save and the edit: the file keeps the signature recorded
    monkeypatch.setattr(
        manifest_module, "_file_signature", lambda path: recorded if path == folder.path("core") else signature_of(path)
    )
    with pytest.raises(ValueError, match="seal does not match"):
        folder.load("core")


def test_a_folder_reloads_a_manifest_another_writer_replaced(tmp_path):
    root, manifest = _saved_domain(tmp_path)
    folder = ManifestFolder(tmp_path / "manifests")
    folder.save(manifest)
    (root / "core" / "c.sql").write_text("SELECT c FROM t;")
    newer = build_manifest(root, "core", [".sql"], {}, "postgres", previous=manifest)
    save_manifest(newer, tmp_path / "manifests")  # another process
    assert [e.path for e in folder.load("core").files] == ["core/a.sql", "core/b.sql", "core/c.sql"]


def test_a_folder_does_not_serve_a_held_manifest_whose_file_was_altered_in_place(tmp_path):
    root, manifest = _saved_domain(tmp_path)
    folder = ManifestFolder(tmp_path / "manifests", clock_ns=_later)
    folder.save(manifest)
    assert folder.load("core") is manifest
    path = folder.path("core")
    text = path.read_text()
    sha = manifest.files[0].sha256
    path.write_text(text.replace(sha, "f" * 64, 1))  # same size, same inode: its ctime still moves
    with pytest.raises(ValueError, match="seal does not match"):
        folder.load("core")
