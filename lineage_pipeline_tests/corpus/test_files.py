"""Spec of corpus.files: which files form the corpus, their domains, and that nothing escapes the root."""

import os

import pytest

from lineage_pipeline.corpus.files import (
    ROOT_DOMAIN,
    CorpusPathError,
    check_relative_path,
    discover_domains,
    domain_of,
    iter_corpus_files,
    resolve_inside,
    walk_corpus,
)


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    for relative in [
        "loose.sql", "staging/a.sql", "staging/deep/b.SQL", "core/c.sql", "core/notes.txt",
        "core/c.sql~", "core/.c.sql.swp", "core/x.tmp", ".git/config.sql", "core/.hidden/d.sql",
    ]:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("select 1;")
    (tmp_path / "outside.sql").write_text("select 2;")
    (tmp_path / "outside_dir").mkdir()
    (tmp_path / "outside_dir" / "e.sql").write_text("select 3;")
    return root


def test_lists_sql_files_sorted_and_ignores_litter(corpus):
    assert list(iter_corpus_files(corpus, [".sql"])) == ["core/c.sql", "loose.sql", "staging/a.sql", "staging/deep/b.SQL"]


def test_domains_are_top_level_folders_plus_root(corpus):
    assert discover_domains(corpus, [".sql"]) == [ROOT_DOMAIN, "core", "staging"]
    assert domain_of("staging/deep/b.sql") == "staging"
    assert domain_of("loose.sql") == ROOT_DOMAIN


def test_one_domain_only(corpus):
    assert list(iter_corpus_files(corpus, [".sql"], domain="staging")) == ["staging/a.sql", "staging/deep/b.SQL"]
    assert list(iter_corpus_files(corpus, [".sql"], domain=ROOT_DOMAIN)) == ["loose.sql"]


def test_symlinks_leaving_the_root_are_not_followed(corpus, tmp_path):
    os.symlink(tmp_path / "outside.sql", corpus / "core" / "link_out.sql")
    os.symlink(tmp_path / "outside_dir", corpus / "linked_dir")
    os.symlink(corpus / "staging" / "a.sql", corpus / "core" / "link_in.sql")
    os.symlink(corpus / "core", corpus / "core" / "loop")
    files = list(iter_corpus_files(corpus, [".sql"]))
    assert "core/link_out.sql" not in files
    assert not any(f.startswith("linked_dir") for f in files)
    assert "core/link_in.sql" in files


def test_resolve_inside_rejects_escapes(corpus, tmp_path):
    assert resolve_inside(corpus, "staging/a.sql") == (corpus / "staging" / "a.sql").resolve()
    with pytest.raises(CorpusPathError, match="outside the corpus root"):
        resolve_inside(corpus, "../outside.sql")
    os.symlink(tmp_path / "outside.sql", corpus / "sneaky.sql")
    with pytest.raises(CorpusPathError, match="outside the corpus root"):
        resolve_inside(corpus, "sneaky.sql")
    sibling = corpus.parent / f"{corpus.name}2"  # shares the root's name as a prefix: still outside
    sibling.mkdir()
    (sibling / "x.sql").write_text("SELECT 1")
    with pytest.raises(CorpusPathError, match="outside the corpus root"):
        resolve_inside(corpus, f"../{corpus.name}2/x.sql")
    assert resolve_inside(corpus, "staging/../staging/a.sql") == (corpus / "staging" / "a.sql").resolve()


def test_missing_root_is_named(tmp_path):
    with pytest.raises(CorpusPathError, match="nope is not a readable directory"):
        list(iter_corpus_files(tmp_path / "nope", [".sql"]))


def test_walk_gives_the_stat_of_each_file(corpus):
    stats = dict(walk_corpus(corpus, [".sql"], domain="core"))
    assert list(stats) == ["core/c.sql"]
    assert stats["core/c.sql"].st_size == len("select 1;")
    assert stats["core/c.sql"].st_mtime_ns == (corpus / "core" / "c.sql").stat().st_mtime_ns


def test_check_relative_path_rejects_what_is_not_corpus_relative():
    assert check_relative_path("core/a.sql") == "core/a.sql"
    for bad in ["/etc/passwd.sql", "../x.sql", "core/../../x.sql", "core//a.sql", "core\\a.sql", "./a.sql", ""]:
        with pytest.raises(CorpusPathError, match="is not a corpus-relative path"):
            check_relative_path(bad)


def test_domains_without_sql_files_are_not_domains(corpus):
    (corpus / "empty").mkdir()
    (corpus / "docs").mkdir()
    (corpus / "docs" / "readme.md").write_text("no sql here")
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "x.sql").write_text("SELECT 1")
    (corpus / "deep" / "er" / "still").mkdir(parents=True)
    (corpus / "deep" / "er" / "still" / "found.sql").write_text("SELECT 1")
    assert discover_domains(corpus, [".sql"]) == [ROOT_DOMAIN, "core", "deep", "staging"]
    (corpus / "loose.sql").unlink()
    assert ROOT_DOMAIN not in discover_domains(corpus, [".sql"]), "no loose SQL file, no _root domain"


def test_discovering_a_missing_root_names_it(tmp_path):
    with pytest.raises(CorpusPathError, match="missing"):
        discover_domains(tmp_path / "missing", [".sql"])
