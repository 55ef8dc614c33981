"""Spec of sensors.changes: metadata scan, hash-confirmed diff, rename pairing, bounded hashing."""

import hashlib
import itertools
import os

from lineage_pipeline.corpus.files import iter_corpus_files
from lineage_pipeline.sensors.changes import FileStat, Seen, detect_changes, file_sha256, scan_stats


def seen(size: int, mtime: int, sha: str) -> Seen:
    return Seen(size, mtime, mtime, sha)


def stat(size: int, mtime: int) -> FileStat:
    return FileStat(size, mtime, mtime)


def hasher(contents: dict[str, str]):
    return lambda path: contents.get(path)


def test_added_modified_deleted_and_touched():
    previous = {"a.sql": seen(1, 1, "A"), "b.sql": seen(1, 1, "B"), "c.sql": seen(1, 1, "C"), "d.sql": seen(1, 1, "D")}
    current = {"a.sql": stat(1, 1), "b.sql": stat(2, 5), "c.sql": stat(1, 9), "e.sql": stat(1, 1)}
    changes = detect_changes(previous, current, hasher({"b.sql": "B2", "c.sql": "C", "e.sql": "E"}))
    assert (changes.added, changes.modified, changes.deleted) == (["e.sql"], ["b.sql"], ["d.sql"])
    assert changes.unchanged_content == ["c.sql"] and not changes.renamed
    assert changes.changed_paths == ["b.sql", "d.sql", "e.sql"]
    assert changes.upserts["c.sql"] == Seen(1, 9, 9, "C"), "a touch refreshes the recorded metadata"
    assert "a.sql" not in changes.upserts, "unchanged metadata is never hashed"
    assert changes.removals == ["d.sql"]


def test_rename_pairs_a_deleted_and_a_new_file_with_the_same_content():
    previous = {"core/old.sql": seen(3, 1, "X"), "core/gone.sql": seen(3, 1, "Y")}
    current = {"core/new.sql": stat(3, 2), "core/other.sql": stat(3, 2)}
    changes = detect_changes(previous, current, hasher({"core/new.sql": "X", "core/other.sql": "Z"}))
    assert changes.renamed == [("core/old.sql", "core/new.sql")]
    assert (changes.added, changes.deleted) == (["core/other.sql"], ["core/gone.sql"])
    assert changes.changed_paths == ["core/gone.sql", "core/new.sql", "core/old.sql", "core/other.sql"]


def test_hashing_stops_at_the_budget_and_defers_the_rest():
    ticks = itertools.count()
    current = {f"f{i}.sql": stat(1, 1) for i in range(10)}
    changes = detect_changes({}, current, lambda p: p.upper(), budget_seconds=3, clock=lambda: next(ticks))
    assert 0 < len(changes.upserts) < 10 and changes.deferred == 10 - len(changes.upserts)
    assert changes.added == sorted(changes.upserts)


def test_unreadable_file_is_deferred_not_reported():
    changes = detect_changes({}, {"a.sql": stat(1, 1)}, hasher({}))
    assert not changes and changes.deferred == 1 and not changes.upserts


def test_scan_lists_what_the_corpus_walk_lists_with_metadata(tmp_path):
    root = tmp_path / "corpus"
    for relative in ["loose.sql", "staging/a.sql", "staging/deep/b.SQL", "core/c.sql", "core/c.sql~",
                     "core/.c.sql.swp", "core/x.tmp", ".git/y.sql", "core/.hidden/d.sql", "core/notes.txt"]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("select 1;")
    (tmp_path / "outside.sql").write_text("select 2;")
    os.symlink(tmp_path / "outside.sql", root / "core" / "out.sql")
    os.symlink(root / "staging" / "a.sql", root / "core" / "in.sql")
    os.symlink(root / "core", root / "core" / "loop")
    stats = scan_stats(root, [".sql"])
    assert sorted(stats) == list(iter_corpus_files(root, [".sql"]))
    assert sorted(stats) == ["core/c.sql", "core/in.sql", "loose.sql", "staging/a.sql", "staging/deep/b.SQL"]
    info = (root / "core" / "c.sql").stat()
    assert stats["core/c.sql"] == FileStat(info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def test_file_sha256(tmp_path):
    (tmp_path / "a.sql").write_bytes(b"select 1;")
    hash_one = file_sha256(tmp_path)
    assert hash_one("a.sql") == hashlib.sha256(b"select 1;").hexdigest()
    assert hash_one("missing.sql") is None
