"""Spec of pipeline.catalog_stage: a domain's files resolved against the corpus-wide catalog (real files,
real parse cache, real worker pool)."""

from pathlib import Path

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.corpus.manifest import build_manifest, save_manifest
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline.pipeline.catalog_stage import corpus_digest, other_domain_manifests, parse_with_catalog
from lineage_pipeline.pipeline.parse_stage import ParseOptions
from lineage_pipeline.stores.parse_cache import ParseCache

DIALECTS = {"core": "tsql", "reporting": "bigquery"}
OPTIONS = ParseOptions(workers=2, chunk_size=2)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "core").mkdir(parents=True)
    (root / "reporting").mkdir()
    (root / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT, balance DECIMAL(18, 2));\n")
    (root / "core" / "load.sql").write_text("INSERT INTO core.accounts (account_id, balance) SELECT id, bal FROM stg.a;\n")
    (root / "reporting" / "v_accounts.sql").write_text("CREATE VIEW rpt.v_accounts AS SELECT * FROM core.accounts;\n")
    (root / "reporting" / "v_unknown.sql").write_text("CREATE VIEW rpt.v_unknown AS SELECT * FROM ext.nowhere;\n")
    return root


def _run(root: Path, cache: ParseCache, domain: str = "reporting"):
    manifest = build_manifest(root, domain, [".sql"], DIALECTS, "postgres")
    others = other_domain_manifests(root, domain, [".sql"], DIALECTS, "postgres", root.parent / "manifests")
    outcome, report = parse_with_catalog(manifest, others, cache, 5_000_000, OPTIONS)
    return manifest, outcome, report


def _resolved(cache: ParseCache, manifest) -> dict[str, FileLineage]:
    keys = [(e.sha256, e.dialect, e.path) for e in manifest.files]
    return {key[2]: lineage for key, lineage in cache.get_many(keys, cache.contexts(keys)).items()}


def _edges(lineage: FileLineage) -> set[tuple[str, tuple[str, ...]]]:
    return {(edge.target, tuple(edge.sources)) for s in lineage.statements for edge in s.columns}


def test_star_over_a_table_of_another_domain_expands(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
    manifest, outcome, report = _run(corpus, cache)
    assert (outcome.files, report.corpus_files, report.corpus_files_parsed) == (2, 4, 2)
    assert report.catalog_tables == 2 and report.files_resolved == 1  # core.accounts, then rpt.v_accounts resolved
    assert report.contexts["reporting/v_accounts.sql"] and report.contexts["reporting/v_unknown.sql"] == ""
    resolved = _resolved(cache, manifest)
    assert _edges(resolved["reporting/v_accounts.sql"]) == {
        ("rpt.v_accounts.account_id", ("core.accounts.account_id",)),
        ("rpt.v_accounts.balance", ("core.accounts.balance",)),
    }
    assert report.column_edges_added == 1  # one `*` edge became two column edges
    assert outcome.column_edges == 3  # the outcome reports the lineage the graph gets
    # no definition anywhere: the star stays explicit, never guessed
    assert _edges(resolved["reporting/v_unknown.sql"]) == {("rpt.v_unknown.*", ("ext.nowhere.*",))}


def test_a_changed_definition_changes_the_context_and_the_lineage(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
    _, _, before = _run(corpus, cache)
    (corpus / "core" / "tables.sql").write_text(
        "CREATE TABLE core.accounts (account_id INT, balance DECIMAL(18, 2), currency CHAR(3));\n"
    )
    manifest, _, after = _run(corpus, cache)
    path = "reporting/v_accounts.sql"
    assert after.contexts[path] not in ("", before.contexts[path])
    assert after.corpus_files_parsed == 1 and after.resolved_parsed == 1
    assert ("rpt.v_accounts.currency", ("core.accounts.currency",)) in _edges(_resolved(cache, manifest)[path])


def test_an_unrelated_definition_change_keeps_the_context(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
    _, _, before = _run(corpus, cache)
    (corpus / "core" / "other.sql").write_text("CREATE TABLE core.branches (branch_id INT);\n")
    _, _, after = _run(corpus, cache)
    assert after.contexts == before.contexts and after.resolved_parsed == 0 and after.catalog_tables == 3


def test_warm_rerun_parses_nothing(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
    _, _, cold = _run(corpus, cache)
    manifest, outcome, warm = _run(corpus, ParseCache(tmp_path / "cache.sqlite"))
    assert (outcome.misses, warm.corpus_files_parsed, warm.resolved_parsed) == (0, 0, 0)
    assert warm.resolved_hits >= 1 and warm.contexts == cold.contexts
    assert len(_edges(_resolved(cache, manifest)["reporting/v_accounts.sql"])) == 2
    # the cache's hit/miss counters describe the domain's own files only, not the catalog pass
    assert (cache.get_stats().hits, cache.get_stats().misses) == (2, 2)


def test_a_view_over_a_star_view_resolves_in_a_later_round(corpus, tmp_path):
    (corpus / "core" / "v_core.sql").write_text("CREATE VIEW core.v_core AS SELECT * FROM core.accounts;\n")
    (corpus / "reporting" / "v_top.sql").write_text("CREATE VIEW rpt.v_top AS SELECT * FROM core.v_core;\n")
    cache = ParseCache(tmp_path / "cache.sqlite")
    manifest, _, report = _run(corpus, cache)
    assert _edges(_resolved(cache, manifest)["reporting/v_top.sql"]) == {
        ("rpt.v_top.account_id", ("core.v_core.account_id",)),
        ("rpt.v_top.balance", ("core.v_core.balance",)),
    }
    assert report.catalog_tables == 4  # core.accounts and the three views over it, once resolved


def test_files_of_the_domain_are_resolved_against_each_other_without_other_domains(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
    (corpus / "reporting" / "base.sql").write_text("CREATE TABLE rpt.base (k INT, v INT);\n")
    (corpus / "reporting" / "v_base.sql").write_text("CREATE VIEW rpt.v_base AS SELECT * FROM rpt.base;\n")
    manifest = build_manifest(corpus, "reporting", [".sql"], DIALECTS, "postgres")
    _, report = parse_with_catalog(manifest, [], cache, 5_000_000, OPTIONS)
    assert report.corpus_files == 4 and report.contexts["reporting/v_accounts.sql"] == ""
    assert _edges(_resolved(cache, manifest)["reporting/v_base.sql"]) == {
        ("rpt.v_base.k", ("rpt.base.k",)), ("rpt.v_base.v", ("rpt.base.v",)),
    }


def test_other_domain_manifests_are_fresh_even_when_the_saved_one_is_stale(corpus, tmp_path):
    manifests = tmp_path / "manifests"
    save_manifest(build_manifest(corpus, "core", [".sql"], DIALECTS, "postgres"), manifests)
    (corpus / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT);\n")
    (corpus / "core" / "new.sql").write_text("SELECT 1;\n")
    (found,) = other_domain_manifests(corpus, "reporting", [".sql"], DIALECTS, "postgres", manifests)
    assert found == build_manifest(corpus, "core", [".sql"], DIALECTS, "postgres")
    assert [e.path for e in found.files] == ["core/load.sql", "core/new.sql", "core/tables.sql"]


def test_a_domain_this_process_scanned_is_not_read_again_for_another_domains_catalog(corpus, tmp_path, reads, monkeypatch):
    monkeypatch.setattr(manifest_module, "RACY_WINDOW_NS", 0)  # the fixture's files count as settled at once
    manifests = tmp_path / "no-saved-manifests"
    (first,) = other_domain_manifests(corpus, "reporting", [".sql"], DIALECTS, "postgres", manifests)
    assert sorted(reads) == ["core/load.sql", "core/tables.sql"], "nothing saved, nothing built yet: read"
    reads.clear()
    (again,) = other_domain_manifests(corpus, "reporting", [".sql"], DIALECTS, "postgres", manifests)
    assert reads == [] and again == first
    (corpus / "core" / "load.sql").write_text("INSERT INTO core.accounts (account_id) SELECT 1;\n")
    (changed,) = other_domain_manifests(corpus, "reporting", [".sql"], DIALECTS, "postgres", manifests)
    assert reads == ["core/load.sql"], "only the file whose stat signature changed"
    assert changed == build_manifest(corpus, "core", [".sql"], DIALECTS, "postgres")


def test_a_small_cache_keeps_what_the_graph_stage_will_read(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite", max_entries=1)
    manifest, _, report = _run(corpus, cache)
    keys = [(e.sha256, e.dialect, e.path) for e in manifest.files]
    assert set(cache.get_many(keys, report.contexts)) == set(keys)


def _counting_build(monkeypatch) -> list[str]:
    """Wrap the real catalog build so a test can tell whether other domains' facts were read."""
    from lineage_pipeline.pipeline import catalog_stage

    calls: list[str] = []
    real = catalog_stage._missing_first_passes

    def counted(others, *args):
        calls.append(",".join(o.domain for o in others))
        return real(others, *args)

    monkeypatch.setattr(catalog_stage, "_missing_first_passes", counted)
    return calls


def test_the_catalog_is_built_once_per_corpus_state_and_reused_by_every_domain(corpus, tmp_path, monkeypatch):
    calls = _counting_build(monkeypatch)
    cache = ParseCache(tmp_path / "cache.sqlite")
    _, _, first = _run(corpus, cache, "reporting")
    _, _, second = _run(corpus, cache, "core")
    _, _, again = _run(corpus, cache, "reporting")
    assert calls == ["core"]  # built by the first run only; the others did not read other domains' facts
    assert (first.catalog_reused, second.catalog_reused, again.catalog_reused) == (False, True, True)
    assert second.corpus_files_parsed == 0 and second.catalog_tables == first.catalog_tables == 2
    assert again.contexts == first.contexts


def test_a_changed_defining_file_rebuilds_the_catalog(corpus, tmp_path, monkeypatch):
    calls = _counting_build(monkeypatch)
    cache = ParseCache(tmp_path / "cache.sqlite")
    _run(corpus, cache, "reporting")
    (corpus / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT, currency CHAR(3));\n")
    _, _, core = _run(corpus, cache, "core")
    manifest, _, reporting = _run(corpus, cache, "reporting")
    assert calls == ["core", "reporting"] and not core.catalog_reused and reporting.catalog_reused
    assert _edges(_resolved(cache, manifest)["reporting/v_accounts.sql"]) == {
        ("rpt.v_accounts.account_id", ("core.accounts.account_id",)),
        ("rpt.v_accounts.currency", ("core.accounts.currency",)),
    }


def test_a_reused_catalog_resolves_exactly_as_a_fresh_build(corpus, tmp_path):
    # a core file that depends on a view defined (through a star) in the other domain
    (corpus / "core" / "from_rpt.sql").write_text("INSERT INTO core.copy SELECT * FROM rpt.v_accounts;\n")
    reused = ParseCache(tmp_path / "reused.sqlite")
    _run(corpus, reused, "reporting")
    manifest, outcome, via_snapshot = _run(corpus, reused, "core")
    fresh = ParseCache(tmp_path / "fresh.sqlite")
    _, fresh_outcome, built = _run(corpus, fresh, "core")
    assert via_snapshot.catalog_reused and not built.catalog_reused
    assert via_snapshot.contexts == built.contexts and via_snapshot.contexts["core/from_rpt.sql"]
    assert (outcome.statements, outcome.column_edges) == (fresh_outcome.statements, fresh_outcome.column_edges)
    assert _resolved(reused, manifest) == _resolved(fresh, manifest)
    assert ("core.copy.balance", ("rpt.v_accounts.balance",)) in _edges(_resolved(fresh, manifest)["core/from_rpt.sql"])
    others = other_domain_manifests(corpus, "core", [".sql"], DIALECTS, "postgres", tmp_path / "manifests")
    digest = corpus_digest([manifest, *others], reused.parser_version)
    assert reused.load_catalog(digest) is not None and reused.load_catalog(digest) == fresh.load_catalog(digest)


def test_with_the_cache_off_a_corpus_state_is_parsed_for_its_catalog_once(corpus, tmp_path, monkeypatch):
    calls = _counting_build(monkeypatch)
    cache = ParseCache(tmp_path / "cache.sqlite", enabled=False)
    _, _, first = _run(corpus, cache, "reporting")
    _, outcome, second = _run(corpus, cache, "core")
    assert first.corpus_files_parsed == 2 and second.corpus_files_parsed == 0 and calls == ["core"]
    assert outcome.misses == 2  # the domain's own files are still parsed: only the catalog is kept


def test_the_corpus_digest_depends_on_every_file_fact_not_on_domain_order(corpus):
    core = build_manifest(corpus, "core", [".sql"], DIALECTS, "postgres")
    reporting = build_manifest(corpus, "reporting", [".sql"], DIALECTS, "postgres")
    digest = corpus_digest([core, reporting], "v1")
    assert corpus_digest([reporting, core], "v1") == digest
    assert corpus_digest([core, reporting], "v2") != digest
    assert corpus_digest([build_manifest(corpus, "core", [".sql"], {"core": "postgres"}, "postgres"), reporting], "v1") != digest
    (corpus / "core" / "load.sql").write_text("SELECT 2;\n")
    assert corpus_digest([build_manifest(corpus, "core", [".sql"], DIALECTS, "postgres"), reporting], "v1") != digest


def test_a_corpus_the_size_of_the_cache_bound_is_not_parsed_again_on_the_next_pass(corpus, tmp_path):
    """Four files and a bound of four: the catalog-resolved entry does not push needed results out."""
    cache = ParseCache(tmp_path / "cache.sqlite", max_entries=4)
    for domain in ("reporting", "core"):
        _run(corpus, cache, domain)
    (corpus / "core" / "load.sql").write_text("INSERT INTO core.accounts (account_id) SELECT id FROM stg.b;\n")
    (corpus / "reporting" / "v_unknown.sql").write_text("CREATE VIEW rpt.v_unknown AS SELECT * FROM ext.elsewhere;\n")
    parsed = resolved = 0
    for domain in ("core", "reporting"):  # the other order than the first pass's
        _, outcome, report = _run(corpus, cache, domain)
        parsed += outcome.misses + report.corpus_files_parsed
        resolved += report.resolved_parsed
    # only the two new revisions are parsed; v_accounts' resolution (core.accounts unchanged) is reused
    assert (parsed, resolved) == (2, 0) and cache.get_stats().entries == 4 + 1
