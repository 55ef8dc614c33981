"""Spec of pipeline.parse_stage: cold parse fills the cache, warm run reuses it, damage never fails a run;
a domain's files resolved against the corpus-wide catalog (real files, real parse cache and results store,
real worker pool)."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.corpus.manifest import build_manifest, save_manifest
from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline.pipeline import parse_stage
from lineage_pipeline.pipeline.parse_pool import PoolKeeper
from lineage_pipeline.pipeline.parse_stage import (
    FileRef,
    OtherDomain,
    ParseOptions,
    corpus_digest,
    other_domain_files,
    parse_domain_files,
)
from lineage_pipeline.pipeline.parse_worker import CHANGED_MESSAGE
from lineage_pipeline.stores.parse_cache import TOUCH_AFTER_S, ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline_tests.conftest import DEMO_CORPUS

pytestmark = pytest.mark.integration  # parses in real worker processes

DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}
OPTIONS = ParseOptions(workers=2, chunk_size=4)
DAY = 86400.0


def _cache(path: Path, **kwargs) -> ParseCache:
    return ParseCache(path, **{"max_entries": 10_000, "ttl_seconds": 30 * DAY, **kwargs})


def _results(cache: ParseCache) -> ParseResults:
    """The results store paired with ``cache`` (one per cache file, so two caches never share results)."""
    return ParseResults(cache.path.with_name(cache.path.stem + ".results.sqlite"))


def parse_manifest(manifest, cache, max_file_bytes, options=OPTIONS, others=()):
    """One domain's parse as the old first-pass-only entry point reported it: its ``ParseOutcome``."""
    outcome, _ = parse_domain_files(manifest, others, cache, _results(cache), max_file_bytes, options)
    return outcome


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, root)
    return root


def _manifest(root, domain="core"):
    return build_manifest(root, domain, [".sql"], DIALECTS, "postgres")


def _stored(cache, manifest):
    return cache.get_many((e.sha256, e.dialect, e.path) for e in manifest.files)


def _handed_on(cache, manifest) -> dict[str, FileLineage]:
    """What the graph stage reads for the domain: path -> lineage in the results store."""
    return dict(_results(cache).read_many(e.path for e in manifest.files))


def test_cold_then_warm_gives_the_same_figures_from_the_cache(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = _cache(tmp_path / "cache.sqlite")
    cold = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert (cold.files, cold.hits, cold.misses) == (len(manifest.files), 0, len(manifest.files))
    assert cold.workers == 2 and len(cold.file_ms) == cold.files and cold.percentile_ms(95) >= cold.percentile_ms(50) > 0
    assert cold.results_written >= cold.files and cold.provisional == []
    warm = parse_manifest(manifest, _cache(tmp_path / "cache.sqlite"), 5_000_000, OPTIONS)
    assert (warm.hits, warm.misses, warm.hit_rate, warm.workers, warm.file_ms) == (cold.files, 0, 1.0, 0, [])
    assert (warm.statements, warm.column_edges, warm.errors) == (cold.statements, cold.column_edges, cold.errors)
    assert cold.statements > 0 and cold.column_edges > 0
    assert warm.results_written == 0, "the results store already holds every file's result"
    stats = cache.get_stats()
    assert (stats.hits, stats.misses) == (cold.files, cold.files)
    first_pass_entries = len({(e.sha256, e.dialect) for e in manifest.files})
    assert stats.entries - first_pass_entries == len({p for p, r in _results(cache).stored("core").items() if r.key.context})
    assert set(_stored(cache, manifest)) == {(e.sha256, e.dialect, e.path) for e in manifest.files}
    assert set(_handed_on(cache, manifest)) == {e.path for e in manifest.files}


def test_unchanged_files_come_from_the_results_store_and_every_file_is_looked_up_hourly(corpus, tmp_path, monkeypatch):
    """A file whose results row holds its final first pass needs no cache lookup; once an hour a run looks
    every file up anyway, which refreshes the entries' last use so unchanged files never expire."""
    looked_up: list = []
    lookup = ParseCache.lookup

    def counting_lookup(self, keys, *args, **kwargs):
        keys = list(keys)
        if kwargs.get("defines") is False:  # the first pass's (the catalog's lookups read what files define)
            looked_up.extend(keys)
        return lookup(self, keys, *args, **kwargs)

    monkeypatch.setattr(ParseCache, "lookup", counting_lookup)
    now = [1_000_000.0]
    path = tmp_path / "cache.sqlite"
    manifest = _manifest(corpus)
    cold = parse_manifest(manifest, _cache(path, clock=lambda: now[0]), 5_000_000)
    changed = sorted((corpus / "core").glob("*.sql"))[0]
    changed.write_text(changed.read_text() + "\nINSERT INTO dw.extra (a) SELECT b FROM stg.src;\n")
    manifest = _manifest(corpus)
    # a catalog-resolved row is not the file's first pass: that one is still looked up
    resolved = {file for file, row in _results(_cache(path)).stored("core").items() if row.key.context}
    runs = {}
    for name, later in (("same hour", 60.0), ("next hour", TOUCH_AFTER_S)):
        now[0] += later
        looked_up.clear()
        runs[name] = parse_manifest(manifest, _cache(path, clock=lambda: now[0]), 5_000_000)
        runs[name].looked_up = len(looked_up)  # type: ignore[attr-defined]
    assert runs["same hour"].looked_up == len(resolved | {changed.relative_to(corpus).as_posix()}) < len(manifest.files)
    assert runs["next hour"].looked_up == len(manifest.files)
    same, next_hour = runs["same hour"], runs["next hour"]
    assert (same.hits, same.misses, next_hour.hits, next_hour.misses) == (len(manifest.files) - 1, 1, len(manifest.files), 0)
    assert (same.statements, same.column_edges) == (next_hour.statements, next_hour.column_edges)
    assert (same.errors, same.warnings) == (next_hour.errors, next_hour.warnings)
    assert next_hour.statements > cold.statements, "the changed file's new statement is counted"
    stats = _cache(path).get_stats()
    assert stats.hits == 2 * len(manifest.files) - 1, "files taken from the results store count as hits"


def test_other_domains_files_parsed_in_the_same_stream_are_stored_but_not_counted(corpus, tmp_path):
    manifest, other = _manifest(corpus), _manifest(corpus, "reporting")
    cache = _cache(tmp_path / "cache.sqlite")
    outcome, report = parse_domain_files(manifest, [other], cache, _results(cache), 5_000_000, OPTIONS)
    alone = parse_manifest(manifest, _cache(tmp_path / "alone.sqlite"), 5_000_000, OPTIONS)
    assert report.corpus_files_parsed == len(other.files) and len(report.file_ms) >= len(other.files)
    assert all(ms > 0 for ms in report.file_ms)
    assert all(summary.statements > 0 for _, summary in cache.lookup(
        [parse_stage.first_pass_key(e) for e in other.files], count=False))
    assert (outcome.files, outcome.misses, outcome.statements, len(outcome.file_ms)) == (
        alone.files, alone.misses, alone.statements, len(alone.file_ms)
    ), "the outcome is the domain's own"
    assert set(_stored(cache, other)) == {(e.sha256, e.dialect, e.path) for e in other.files}
    assert set(_results(cache).stored("reporting")) == set(), "only the domain's own files are handed on"


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_the_start_method_option_decides_how_workers_start(corpus, tmp_path, start_method):
    options = ParseOptions(workers=2, chunk_size=4, start_method=start_method)
    outcome = parse_manifest(_manifest(corpus), _cache(tmp_path / "cache.sqlite"), 5_000_000, options)
    started = {"fork": outcome.workers_forked, "spawn": outcome.workers_spawned}
    assert started == {start_method: 2, ({"fork", "spawn"} - {start_method}).pop(): 0}
    assert outcome.misses == outcome.files and not outcome.worker_crashes


def test_a_changed_file_is_parsed_again_and_only_it(corpus, tmp_path):
    cache = _cache(tmp_path / "cache.sqlite")
    parse_manifest(_manifest(corpus), cache, 5_000_000, OPTIONS)
    changed = sorted((corpus / "core").glob("*.sql"))[0]
    changed.write_text(changed.read_text() + "\nINSERT INTO dw.extra (a) SELECT b FROM stg.src;\n")
    manifest = _manifest(corpus)
    outcome = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert (outcome.misses, outcome.hits) == (1, len(manifest.files) - 1)
    relative = changed.relative_to(corpus).as_posix()
    entry = next(e for e in manifest.files if e.path == relative)
    lineage = cache.get(entry.sha256, entry.dialect, entry.path)
    assert any(s.targets == ["dw.extra"] for s in lineage.statements)
    assert any(s.targets == ["dw.extra"] for s in _handed_on(cache, manifest)[relative].statements)


def test_an_edited_file_takes_its_unchanged_statements_from_its_previous_parse(corpus, tmp_path):
    """Only the appended statement is read; what is handed on is exactly a fresh parse of the new content."""
    cache = _cache(tmp_path / "cache.sqlite")
    parse_manifest(_manifest(corpus), cache, 5_000_000, OPTIONS)
    changed = corpus / "core" / "usp_load_dim_date.sql"
    before = _handed_on(cache, _manifest(corpus))["core/usp_load_dim_date.sql"]
    changed.write_text(changed.read_text() + "\nINSERT INTO dw.extra (a) SELECT b FROM stg.src;\n")
    manifest = _manifest(corpus)
    outcome = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert outcome.misses == 1 and outcome.statements_reused == len(before.statements) > 0
    handed = _handed_on(cache, manifest)["core/usp_load_dim_date.sql"]
    assert handed == parse_file_bytes(changed.read_bytes(), "tsql", "core/usp_load_dim_date.sql")
    cold = _cache(tmp_path / "cold.sqlite")
    assert parse_manifest(manifest, cold, 5_000_000, OPTIONS).statements_reused == 0, "nothing to reuse on a cold parse"
    assert _handed_on(cold, manifest)["core/usp_load_dim_date.sql"] == handed


def test_the_results_rows_of_files_gone_go_and_the_others_stay(corpus, tmp_path):
    cache = _cache(tmp_path / "cache.sqlite")
    before = _manifest(corpus)
    parse_manifest(before, cache, 5_000_000, OPTIONS)
    gone, renamed = sorted((corpus / "core").glob("*.sql"))[:2]
    gone.unlink()
    renamed.rename(renamed.with_name("renamed_" + renamed.name))  # a row for the new path, the old one to go
    parse_manifest(_manifest(corpus), cache, 5_000_000, OPTIONS)
    after = _manifest(corpus)
    assert set(_results(cache).stored("core")) == {e.path for e in after.files}
    assert _results(cache).count("core") == len(after.files) == len(before.files) - 1


def test_a_parser_version_bump_parses_everything_again(corpus, tmp_path):
    manifest = _manifest(corpus)
    parse_manifest(manifest, _cache(tmp_path / "cache.sqlite", parser_version="old"), 5_000_000, OPTIONS)
    outcome = parse_manifest(manifest, _cache(tmp_path / "cache.sqlite", parser_version="new"), 5_000_000, OPTIONS)
    assert (outcome.hits, outcome.misses) == (0, len(manifest.files))


def test_a_garbage_cache_file_is_rebuilt_and_the_run_succeeds(corpus, tmp_path):
    manifest = _manifest(corpus)
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 4000)
    cache = _cache(path)
    outcome = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert outcome.cache_check.problem and outcome.cache_check.moved_to.exists()
    assert outcome.misses == len(manifest.files)
    assert len(_stored(cache, manifest)) == len(manifest.files)


def test_cache_disabled_reuses_nothing_but_hands_results_on(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = _cache(tmp_path / "cache.sqlite", enabled=False)
    first = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    second = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert first.misses == second.misses == len(manifest.files) and second.hits == 0
    assert not second.cache_enabled
    assert len(_stored(cache, manifest)) == 0, "a disabled cache stores nothing"
    assert set(_handed_on(cache, manifest)) == {e.path for e in manifest.files}, "the results store still gets them"
    stats = cache.get_stats()
    assert (stats.hits, stats.misses) == (0, 0)


def test_bad_files_are_errors_not_failures(corpus, tmp_path):
    manifest = _manifest(corpus, "staging")
    outcome = parse_manifest(manifest, _cache(tmp_path / "cache.sqlite"), 5_000_000, OPTIONS)
    assert outcome.files == len(manifest.files) and outcome.errors
    assert all(e.path.startswith("staging/") and e.message for e in outcome.errors)


def test_a_run_drops_expired_entries_but_keeps_fresh_ones(corpus, tmp_path):
    path = tmp_path / "cache.sqlite"
    old = _cache(path, clock=lambda: 1_000.0)
    old.put_many([("stale", "tsql", FileLineage(path="x.sql", dialect="tsql"))])
    manifest = _manifest(corpus)
    parse_manifest(manifest, _cache(path, ttl_seconds=3600), 5_000_000, OPTIONS)
    cache = _cache(path)
    assert cache.get("stale", "tsql", "x.sql") is None
    resolved = len({p for p, r in _results(cache).stored("core").items() if r.key.context})
    assert cache.get_stats().entries == len({(e.sha256, e.dialect) for e in manifest.files}) + resolved


def test_a_file_that_timed_out_is_reported_not_cached_and_parsed_next_time(corpus, tmp_path):
    slow = corpus / "core" / "zz_generated_load.sql"
    slow.write_text("".join(f"INSERT INTO dw.t{i % 7} (a) SELECT x + {i} FROM stg.s{i % 5};\n" for i in range(15_000)))
    manifest = _manifest(corpus)
    cache = _cache(tmp_path / "cache.sqlite")
    first = parse_manifest(manifest, cache, 10_000_000, ParseOptions(workers=2, chunk_size=4, file_timeout_s=0.5))
    (timeout,) = [e for e in first.errors if e.path == "core/zz_generated_load.sql"]
    assert "file_timeout_s" in timeout.message and first.worker_timeouts == 1 and first.files == len(manifest.files)
    entry = next(e for e in manifest.files if e.path == "core/zz_generated_load.sql")
    assert first.provisional == [entry.path], "stored for this run only"
    assert _results(cache).stored("core")[entry.path].final is False
    assert cache.get(entry.sha256, entry.dialect, entry.path) is None
    assert _handed_on(cache, manifest)[entry.path].errors  # the graph stage gets it as an error
    second = parse_manifest(manifest, cache, 10_000_000, ParseOptions(workers=2, chunk_size=4, file_timeout_s=300))
    assert (second.misses, second.hits) == (1, len(manifest.files) - 1)
    assert not [e for e in second.errors if e.path == "core/zz_generated_load.sql"]
    assert len(cache.get(entry.sha256, entry.dialect, entry.path).statements) == 15_000
    assert second.provisional == [] and _results(cache).stored("core")[entry.path].final
    assert len(_handed_on(cache, manifest)[entry.path].statements) == 15_000


def test_a_file_changed_after_the_scan_is_parsed_as_read_but_never_cached_as_the_scanned_content(corpus, tmp_path):
    manifest = _manifest(corpus)
    entry = manifest.files[0]
    scanned = (corpus / entry.path).read_text()
    (corpus / entry.path).write_text("INSERT INTO dw.edited (a) SELECT b FROM stg.edited;\n")  # after the scan
    cache = _cache(tmp_path / "cache.sqlite")
    outcome = parse_manifest(manifest, cache, 10_000_000, OPTIONS)
    assert outcome.provisional == [entry.path]
    assert [e.message for e in outcome.errors if e.path == entry.path] == [CHANGED_MESSAGE]
    assert cache.get(entry.sha256, entry.dialect, entry.path) is None, "the scanned content's key holds nothing"
    stored = _results(cache).stored("core")[entry.path]
    assert not stored.final and stored.key.sha256 == entry.sha256, "kept under the scanned key, for this run only"
    lineage = _handed_on(cache, manifest)[entry.path]
    assert lineage.statements[0].targets == ["dw.edited"], "lineage of the content read, for this run's graph stage"
    (corpus / entry.path).write_text(scanned)  # the scanned content is back: it must be parsed, not served
    again = parse_manifest(_manifest(corpus), cache, 10_000_000, OPTIONS)
    assert (again.misses, again.provisional) == (1, [])
    assert _results(cache).stored("core")[entry.path].final
    assert "dw.edited" not in {t for s in cache.get(entry.sha256, entry.dialect, entry.path).statements for t in s.targets}


def test_workers_start_at_the_first_parse_one_per_miss_up_to_the_setting(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = _cache(tmp_path / "cache.sqlite")
    options = ParseOptions(workers=2, chunk_size=4, start_method="fork")
    with PoolKeeper() as pools:
        outcome = parse_manifest(manifest, cache, 10_000_000, replace(options, pools=pools))
        assert (outcome.workers, outcome.workers_forked, outcome.misses) == (2, 2, len(manifest.files))
        cached = parse_manifest(manifest, cache, 10_000_000, replace(options, pools=pools))
        assert (cached.workers, cached.workers_forked) == (0, 0), "everything cached: no workers"
    (corpus / manifest.files[0].path).write_text("INSERT INTO dw.x (a) SELECT b FROM stg.y;\n")
    with PoolKeeper() as pools:
        one = parse_manifest(_manifest(corpus), cache, 10_000_000, replace(options, pools=pools))
        assert (one.workers, one.workers_forked, one.misses) == (1, 1, 1), "one miss wants one worker"


# -- the catalog pass ---------------------------------------------------------------------------------

CATALOG_DIALECTS = {"core": "tsql", "reporting": "bigquery"}
CATALOG_OPTIONS = ParseOptions(workers=2, chunk_size=2)


@pytest.fixture
def catalog_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "core").mkdir(parents=True)
    (root / "reporting").mkdir()
    (root / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT, balance DECIMAL(18, 2));\n")
    (root / "core" / "load.sql").write_text("INSERT INTO core.accounts (account_id, balance) SELECT id, bal FROM stg.a;\n")
    (root / "reporting" / "v_accounts.sql").write_text("CREATE VIEW rpt.v_accounts AS SELECT * FROM core.accounts;\n")
    (root / "reporting" / "v_unknown.sql").write_text("CREATE VIEW rpt.v_unknown AS SELECT * FROM ext.nowhere;\n")
    return root


def _run(root: Path, cache: ParseCache, domain: str = "reporting"):
    """Parse ``domain`` with the catalog of the whole corpus; the report's ``contexts`` are each file's
    catalog context as the results store holds it after the run ('' = first pass)."""
    manifest = build_manifest(root, domain, [".sql"], CATALOG_DIALECTS, "postgres")
    others = other_domain_files(root, domain, [".sql"], CATALOG_DIALECTS, "postgres", root.parent / "manifests")
    outcome, report = parse_domain_files(manifest, others, cache, _results(cache), 5_000_000, CATALOG_OPTIONS)
    report.contexts = _contexts(cache, domain)
    return manifest, outcome, report


def _contexts(cache: ParseCache, domain: str) -> dict[str, str]:
    return {path: row.key.context for path, row in _results(cache).stored(domain).items()}


def _resolved(cache: ParseCache, manifest) -> dict[str, FileLineage]:
    """The lineage the graph stage gets for each file of ``manifest``."""
    return _handed_on(cache, manifest)


def _edges(lineage: FileLineage) -> set[tuple[str, tuple[str, ...]]]:
    return {(edge.target, tuple(edge.sources)) for s in lineage.statements for edge in s.columns}


def test_star_over_a_table_of_another_domain_expands(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite")
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


def test_a_changed_definition_changes_the_context_and_the_lineage(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite")
    _, _, before = _run(corpus, cache)
    (corpus / "core" / "tables.sql").write_text(
        "CREATE TABLE core.accounts (account_id INT, balance DECIMAL(18, 2), currency CHAR(3));\n"
    )
    manifest, _, after = _run(corpus, cache)
    path = "reporting/v_accounts.sql"
    assert after.contexts[path] not in ("", before.contexts[path])
    assert after.corpus_files_parsed == 1 and after.resolved_parsed == 1
    assert ("rpt.v_accounts.currency", ("core.accounts.currency",)) in _edges(_resolved(cache, manifest)[path])


def test_an_unrelated_definition_change_keeps_the_context(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite")
    _, _, before = _run(corpus, cache)
    (corpus / "core" / "other.sql").write_text("CREATE TABLE core.branches (branch_id INT);\n")
    _, _, after = _run(corpus, cache)
    assert after.contexts == before.contexts and after.resolved_parsed == 0 and after.catalog_tables == 3


def test_warm_rerun_parses_nothing(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite")
    _, _, cold = _run(corpus, cache)
    manifest, outcome, warm = _run(corpus, _cache(tmp_path / "cache.sqlite"))
    assert (outcome.misses, warm.corpus_files_parsed, warm.resolved_parsed) == (0, 0, 0)
    assert warm.resolved_hits >= 1 and warm.contexts == cold.contexts
    assert len(_edges(_resolved(cache, manifest)["reporting/v_accounts.sql"])) == 2
    # the cache's hit/miss counters describe the domain's own files only, not the catalog pass
    assert (cache.get_stats().hits, cache.get_stats().misses) == (2, 2)


def test_a_view_over_a_star_view_resolves_in_a_later_round(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    (corpus / "core" / "v_core.sql").write_text("CREATE VIEW core.v_core AS SELECT * FROM core.accounts;\n")
    (corpus / "reporting" / "v_top.sql").write_text("CREATE VIEW rpt.v_top AS SELECT * FROM core.v_core;\n")
    cache = _cache(tmp_path / "cache.sqlite")
    manifest, _, report = _run(corpus, cache)
    assert _edges(_resolved(cache, manifest)["reporting/v_top.sql"]) == {
        ("rpt.v_top.account_id", ("core.v_core.account_id",)),
        ("rpt.v_top.balance", ("core.v_core.balance",)),
    }
    assert report.catalog_tables == 4  # core.accounts and the three views over it, once resolved


def test_files_of_the_domain_are_resolved_against_each_other_without_other_domains(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite")
    (corpus / "reporting" / "base.sql").write_text("CREATE TABLE rpt.base (k INT, v INT);\n")
    (corpus / "reporting" / "v_base.sql").write_text("CREATE VIEW rpt.v_base AS SELECT * FROM rpt.base;\n")
    manifest = build_manifest(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres")
    _, report = parse_domain_files(manifest, [], cache, _results(cache), 5_000_000, CATALOG_OPTIONS)
    assert report.corpus_files == 4 and _contexts(cache, "reporting")["reporting/v_accounts.sql"] == ""
    assert _edges(_resolved(cache, manifest)["reporting/v_base.sql"]) == {
        ("rpt.v_base.k", ("rpt.base.k",)), ("rpt.v_base.v", ("rpt.base.v",)),
    }


def _slim(manifest):
    """What ``other_domain_files`` keeps of a domain's manifest: path, content hash and dialect per file."""
    return OtherDomain(manifest.domain, [FileRef(e.path, e.sha256, e.dialect) for e in manifest.files])


def test_other_domain_files_are_fresh_even_when_the_saved_manifest_is_stale(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    manifests = tmp_path / "manifests"
    save_manifest(build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres"), manifests)
    (corpus / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT);\n")
    (corpus / "core" / "new.sql").write_text("SELECT 1;\n")
    (found,) = other_domain_files(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres", manifests)
    assert found == _slim(build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres"))
    assert [e.path for e in found.files] == ["core/load.sql", "core/new.sql", "core/tables.sql"]


def test_a_domain_whose_manifest_is_saved_is_not_read_again_for_another_domains_catalog(
    catalog_corpus, tmp_path, reads, monkeypatch
):
    corpus = catalog_corpus
    monkeypatch.setattr(manifest_module, "RACY_WINDOW_NS", 0)  # the fixture's files count as settled at once
    manifests = tmp_path / "manifests"
    (first,) = other_domain_files(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres", manifests)
    assert sorted(reads) == ["core/load.sql", "core/tables.sql"], "nothing saved yet: read"
    save_manifest(build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres"), manifests)
    reads.clear()
    (again,) = other_domain_files(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres", manifests)
    assert reads == [] and again == first
    (corpus / "core" / "load.sql").write_text("INSERT INTO core.accounts (account_id) SELECT 1;\n")
    (changed,) = other_domain_files(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres", manifests)
    assert reads == ["core/load.sql"], "only the file whose stat signature changed"
    assert changed == _slim(build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres"))


def test_a_small_cache_keeps_what_the_graph_stage_will_read(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    cache = _cache(tmp_path / "cache.sqlite", max_entries=1)
    manifest, _, report = _run(corpus, cache)
    assert report.contexts["reporting/v_accounts.sql"], "resolved"
    assert set(_resolved(cache, manifest)) == {e.path for e in manifest.files}
    assert all(row.final for row in _results(cache).stored("reporting").values())


def _counting_build(monkeypatch) -> list[str]:
    """Wrap the real catalog build so a test can tell whether other domains' facts were read."""
    calls: list[str] = []
    real = parse_stage._missing_first_passes

    def counted(others, *args):
        calls.append(",".join(o.domain for o in others))
        return real(others, *args)

    monkeypatch.setattr(parse_stage, "_missing_first_passes", counted)
    return calls


_CORE_DEPENDENT = "INSERT INTO core.copy SELECT * FROM rpt.v_accounts;\n"
"""A core file whose lineage the catalog can change (a star over a view the other domain defines)."""


def test_the_catalog_is_built_once_per_corpus_state_and_reused_by_every_domain(catalog_corpus, tmp_path, monkeypatch):
    corpus = catalog_corpus
    (corpus / "core" / "from_rpt.sql").write_text(_CORE_DEPENDENT)
    calls = _counting_build(monkeypatch)
    cache = _cache(tmp_path / "cache.sqlite")
    _, _, first = _run(corpus, cache, "reporting")
    _, _, second = _run(corpus, cache, "core")
    _, _, again = _run(corpus, cache, "reporting")
    assert calls == ["reporting,core"]  # built by the first run only (its own looked-up files, then the others)
    assert (first.catalog_reused, second.catalog_reused, again.catalog_reused) == (False, True, True)
    assert second.corpus_files_parsed == 0 and second.catalog_tables == first.catalog_tables == 2
    assert again.contexts == first.contexts


def test_a_domain_no_catalog_can_change_neither_builds_nor_reads_one(catalog_corpus, tmp_path, monkeypatch):
    corpus = catalog_corpus
    calls = _counting_build(monkeypatch)
    loads: list[str] = []
    cache = _cache(tmp_path / "cache.sqlite")
    real_load = cache.load_catalog
    monkeypatch.setattr(cache, "load_catalog", lambda digest: loads.append(digest) or real_load(digest))
    manifest, outcome, core = _run(corpus, cache, "core")  # a table and an INSERT with its column list
    assert (core.catalog_needed, core.catalog_tables, core.corpus_files_parsed) == (False, 0, 0)
    assert calls == [] and loads == [] and outcome.misses == 2
    assert set(core.contexts.values()) == {""}, "first-pass results are final"
    _, _, reporting = _run(corpus, cache, "reporting")  # views over SELECT *: it builds the catalog
    assert reporting.catalog_needed and calls == ["reporting,core"] and len(loads) == 1


def test_a_changed_defining_file_rebuilds_the_catalog(catalog_corpus, tmp_path, monkeypatch):
    corpus = catalog_corpus
    calls = _counting_build(monkeypatch)
    cache = _cache(tmp_path / "cache.sqlite")
    (corpus / "core" / "from_rpt.sql").write_text(_CORE_DEPENDENT)
    _run(corpus, cache, "reporting")
    (corpus / "core" / "tables.sql").write_text("CREATE TABLE core.accounts (account_id INT, currency CHAR(3));\n")
    _, _, core = _run(corpus, cache, "core")
    manifest, _, reporting = _run(corpus, cache, "reporting")
    assert calls == ["reporting,core", "core,reporting"] and not core.catalog_reused and reporting.catalog_reused
    assert _edges(_resolved(cache, manifest)["reporting/v_accounts.sql"]) == {
        ("rpt.v_accounts.account_id", ("core.accounts.account_id",)),
        ("rpt.v_accounts.currency", ("core.accounts.currency",)),
    }


def test_a_reused_catalog_resolves_exactly_as_a_fresh_build(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    (corpus / "core" / "from_rpt.sql").write_text(_CORE_DEPENDENT)
    reused = _cache(tmp_path / "reused.sqlite")
    _run(corpus, reused, "reporting")
    manifest, outcome, via_snapshot = _run(corpus, reused, "core")
    fresh = _cache(tmp_path / "fresh.sqlite")
    _, fresh_outcome, built = _run(corpus, fresh, "core")
    assert via_snapshot.catalog_reused and not built.catalog_reused
    assert via_snapshot.contexts == built.contexts and via_snapshot.contexts["core/from_rpt.sql"]
    assert (outcome.statements, outcome.column_edges) == (fresh_outcome.statements, fresh_outcome.column_edges)
    assert _resolved(reused, manifest) == _resolved(fresh, manifest)
    assert ("core.copy.balance", ("rpt.v_accounts.balance",)) in _edges(_resolved(fresh, manifest)["core/from_rpt.sql"])
    others = other_domain_files(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres", tmp_path / "manifests")
    digest = corpus_digest([manifest, *others], reused.parser_version)
    assert reused.load_catalog(digest) is not None and reused.load_catalog(digest) == fresh.load_catalog(digest)


def test_with_the_cache_off_a_corpus_state_is_parsed_for_its_catalog_once(catalog_corpus, tmp_path, monkeypatch):
    corpus = catalog_corpus
    calls = _counting_build(monkeypatch)
    cache = _cache(tmp_path / "cache.sqlite", enabled=False)
    (corpus / "core" / "from_rpt.sql").write_text(_CORE_DEPENDENT)
    _, _, first = _run(corpus, cache, "reporting")
    _, outcome, second = _run(corpus, cache, "core")
    assert first.corpus_files_parsed == 3 and second.corpus_files_parsed == 0 and calls == ["reporting,core"]
    assert second.catalog_reused and outcome.misses == 3  # the domain's own files are still parsed: only the catalog is kept


def test_the_corpus_digest_depends_on_every_file_fact_not_on_domain_order(catalog_corpus):
    corpus = catalog_corpus
    core = build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres")
    reporting = build_manifest(corpus, "reporting", [".sql"], CATALOG_DIALECTS, "postgres")
    digest = corpus_digest([core, reporting], "v1")
    assert corpus_digest([reporting, core], "v1") == digest
    assert corpus_digest([core, reporting], "v2") != digest
    assert corpus_digest([build_manifest(corpus, "core", [".sql"], {"core": "postgres"}, "postgres"), reporting], "v1") != digest
    (corpus / "core" / "load.sql").write_text("SELECT 2;\n")
    assert corpus_digest([build_manifest(corpus, "core", [".sql"], CATALOG_DIALECTS, "postgres"), reporting], "v1") != digest


def test_a_corpus_the_size_of_the_cache_bound_is_not_parsed_again_on_the_next_pass(catalog_corpus, tmp_path):
    corpus = catalog_corpus
    """Four files and a bound of four: the catalog-resolved entry does not push needed results out."""
    cache = _cache(tmp_path / "cache.sqlite", max_entries=4)
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


def test_previous_parses_are_read_a_batch_at_a_time_as_the_pool_takes_tasks():
    """What a mass edit holds of earlier parses stays bounded: one batch beyond the chunks in flight."""
    from lineage_pipeline.pipeline.parse_pool import FileTask
    from lineage_pipeline.pipeline.parse_stage import _PREVIOUS_BATCH, _WithPrevious

    asked: list[int] = []

    def previous(paths):
        asked.append(len(paths))
        return {path: (b"payload", b"memo") for path in paths if not path.endswith("7.sql")}

    tasks = [FileTask(f"d/{n}.sql", "tsql") for n in range(2 * _PREVIOUS_BATCH + 50)]
    wrapped = _WithPrevious(tasks, previous)
    assert len(wrapped) == len(tasks) and asked == []
    first = next(iter(wrapped))
    assert first.previous == (b"payload", b"memo") and asked == [_PREVIOUS_BATCH]
    given = list(wrapped)
    assert [task.path for task in given] == [task.path for task in tasks]
    assert [task.previous is None for task in given] == [task.path.endswith("7.sql") for task in tasks]
    assert asked[1:] == [_PREVIOUS_BATCH, _PREVIOUS_BATCH, 50]
