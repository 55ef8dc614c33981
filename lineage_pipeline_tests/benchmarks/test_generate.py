"""Spec of the benchmark corpus generator: deterministic, realistic shape, parses with few known errors."""

import hashlib
from collections import defaultdict
from pathlib import Path

import pytest

from benchmarks.generate import (
    DOMAIN_DIALECTS,
    MARKER_FILE,
    CorpusExistsError,
    generate_corpus,
    mutate_corpus,
)
from lineage_pipeline.corpus.manifest import build_manifest
from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.settings import load_settings

FILES = 150
BROKEN_MARKERS = ("amount SELECT FROM ;", "WHERE AND ;", "= WHERE record_key = ;", "AS SELECT ((( FROM")


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.sql"))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate_corpus(tmp_path_factory.mktemp("gen") / "corpus", FILES, seed=7)


@pytest.fixture(scope="module")
def parsed(corpus):
    return {
        path: parse_file_bytes((corpus.root / path).read_bytes(), DOMAIN_DIALECTS[path.split("/")[0]], path)
        for path in corpus.paths
    }


def test_same_seed_is_byte_identical_and_other_seed_differs(corpus, tmp_path):
    again = generate_corpus(tmp_path / "again", FILES, seed=7)
    other = generate_corpus(tmp_path / "other", FILES, seed=8)
    assert again.paths == corpus.paths
    assert _digests(again.root) == _digests(corpus.root)
    assert _digests(other.root) != _digests(corpus.root)


def test_file_count_domains_and_bytes_match_disk(corpus):
    on_disk = _digests(corpus.root)
    assert corpus.files == FILES == len(on_disk)
    assert set(on_disk) == set(corpus.paths)
    assert set(corpus.domains) == set(DOMAIN_DIALECTS) and sum(corpus.domains.values()) == FILES
    assert corpus.bytes == sum((corpus.root / p).stat().st_size for p in corpus.paths)
    # domains hold unit sub-folders, as large warehouses do
    assert all(path.count("/") == 2 for path in corpus.paths)


def test_every_file_declares_its_domain_dialect_and_manifest_agrees(corpus):
    settings = load_settings()
    for domain, dialect in DOMAIN_DIALECTS.items():
        manifest = build_manifest(corpus.root, domain, [".sql"], settings.folder_dialects, settings.default_dialect)
        assert manifest.files and {entry.dialect for entry in manifest.files} == {dialect}
        # the project's folder convention and the generator agree where both speak
        assert settings.folder_dialects.get(domain, dialect) == dialect


def test_statements_per_file_and_only_the_broken_ones_fail(corpus, parsed):
    per_file = {path: len(f.statements) + len(f.errors) for path, f in parsed.items()}
    assert min(per_file.values()) >= 3 and max(per_file.values()) <= 10
    assert sum(per_file.values()) == corpus.statements
    errors = sum(len(f.errors) for f in parsed.values())
    assert errors == corpus.broken_statements
    assert 0.01 <= errors / corpus.statements <= 0.06
    # each error sits on a line of a deliberately broken statement, not on a realistic one
    for path, lineage in parsed.items():
        lines = (corpus.root / path).read_text().splitlines()
        for issue in lineage.errors:
            assert issue.statement is not None and issue.line is not None
            assert any(marker in lines[issue.line - 1] for marker in BROKEN_MARKERS), (path, issue)


def test_lineage_chains_cross_files_and_domains(parsed):
    written_by: dict[str, set[str]] = defaultdict(set)
    read_by: dict[str, set[str]] = defaultdict(set)
    for path, lineage in parsed.items():
        for statement in lineage.statements:
            for table in statement.targets:
                written_by[table].add(path)
            for table in statement.sources:
                read_by[table].add(path)
    crossings = {
        (next(iter(writers)).split("/")[0], reader.split("/")[0])
        for table, writers in written_by.items()
        for reader in read_by.get(table, ())
        if reader not in writers
    }
    for hop in [("staging", "core"), ("core", "risk"), ("risk", "reporting"), ("reporting", "marts")]:
        assert hop in crossings
    assert any(edge.sources for f in parsed.values() for s in f.statements for edge in s.columns)


def test_refuses_foreign_folder_and_overwrites_only_on_request(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(CorpusExistsError, match="not a generated corpus"):
        generate_corpus(foreign, 5, seed=1)
    assert (foreign / "keep.txt").read_text() == "mine"
    first = generate_corpus(tmp_path / "c", 12, seed=1)
    with pytest.raises(CorpusExistsError, match="overwrite"):
        generate_corpus(first.root, 6, seed=2)
    second = generate_corpus(first.root, 6, seed=2, overwrite=True)
    assert len(_digests(second.root)) == 6 and (second.root / MARKER_FILE).exists()
    with pytest.raises(ValueError, match="at least 1"):
        generate_corpus(tmp_path / "none", 0, seed=1)


def test_mutation_changes_the_requested_share_deterministically_and_still_parses(tmp_path):
    a = generate_corpus(tmp_path / "a", 40, seed=3)
    b = generate_corpus(tmp_path / "b", 40, seed=3)
    before = _digests(a.root)
    changed = mutate_corpus(a.root, 0.1, seed=5)
    assert changed == mutate_corpus(b.root, 0.1, seed=5) and len(changed) == 4
    after = _digests(a.root)
    assert {p for p in before if before[p] != after[p]} == set(changed)
    assert _digests(b.root) == after
    # a later revision replaces the earlier block instead of piling up
    sizes = {p: (a.root / p).stat().st_size for p in changed}
    mutate_corpus(a.root, 1.0, seed=5, revision=2)
    assert all((a.root / p).stat().st_size == sizes[p] for p in changed)
    for path in changed:
        lineage = parse_file_bytes((a.root / path).read_bytes(), DOMAIN_DIALECTS[path.split("/")[0]], path)
        assert any(f"audit.change_log_{path.split('/')[1]}" in s.targets for s in lineage.statements)
    with pytest.raises(ValueError, match="fraction"):
        mutate_corpus(a.root, 1.5, seed=5)
