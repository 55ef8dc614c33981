"""Spec of pipeline.parse_stage: cold parse fills the cache, warm run reuses it, damage never fails a run."""

import shutil

import pytest

from lineage_pipeline.corpus.manifest import build_manifest
from lineage_pipeline.parsing.models import FileLineage
from lineage_pipeline.pipeline.parse_stage import ONCE_MARK, ParseOptions, parse_manifest, prestart_workers
from lineage_pipeline.pipeline.parse_worker import CHANGED_MESSAGE
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline_tests.conftest import DEMO_CORPUS

DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}
OPTIONS = ParseOptions(workers=2, chunk_size=4)


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, root)
    return root


def _manifest(root, domain="core"):
    return build_manifest(root, domain, [".sql"], DIALECTS, "postgres")


def _stored(cache, manifest):
    return cache.get_many((e.sha256, e.dialect, e.path) for e in manifest.files)


def test_cold_then_warm_gives_the_same_figures_from_the_cache(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = ParseCache(tmp_path / "cache.sqlite")
    cold = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert (cold.files, cold.hits, cold.misses) == (len(manifest.files), 0, len(manifest.files))
    assert cold.workers == 2 and len(cold.file_ms) == cold.files and cold.percentile_ms(95) >= cold.percentile_ms(50) > 0
    warm = parse_manifest(manifest, ParseCache(tmp_path / "cache.sqlite"), 5_000_000, OPTIONS)
    assert (warm.hits, warm.misses, warm.hit_rate, warm.workers, warm.file_ms) == (cold.files, 0, 1.0, 0, [])
    assert (warm.statements, warm.column_edges, warm.errors) == (cold.statements, cold.column_edges, cold.errors)
    assert cold.statements > 0 and cold.column_edges > 0
    stats = cache.get_stats()
    assert (stats.hits, stats.misses, stats.entries) == (cold.files, cold.files, cold.files)
    assert set(_stored(cache, manifest)) == {(e.sha256, e.dialect, e.path) for e in manifest.files}


def test_other_domains_files_parsed_in_the_same_stream_are_stored_but_not_counted(corpus, tmp_path):
    manifest, other = _manifest(corpus), _manifest(corpus, "reporting")
    cache = ParseCache(tmp_path / "cache.sqlite")
    seen = []
    outcome = parse_manifest(manifest, cache, 5_000_000, OPTIONS, also=other.files, on_also=seen.append)
    alone = parse_manifest(manifest, ParseCache(tmp_path / "alone.sqlite"), 5_000_000, OPTIONS)
    assert sorted(r.task.path for r in seen) == [e.path for e in other.files]
    assert all(r.encoded.summary.statements > 0 and r.ms > 0 for r in seen)
    assert (outcome.files, outcome.misses, outcome.statements, len(outcome.file_ms)) == (
        alone.files, alone.misses, alone.statements, len(alone.file_ms)
    ), "the outcome is the domain's own"
    assert set(_stored(cache, other)) == {(e.sha256, e.dialect, e.path) for e in other.files}


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_the_start_method_option_decides_how_workers_start(corpus, tmp_path, start_method):
    options = ParseOptions(workers=2, chunk_size=4, start_method=start_method)
    outcome = parse_manifest(_manifest(corpus), ParseCache(tmp_path / "cache.sqlite"), 5_000_000, options)
    started = {"fork": outcome.workers_forked, "spawn": outcome.workers_spawned}
    assert started == {start_method: 2, ({"fork", "spawn"} - {start_method}).pop(): 0}
    assert outcome.misses == outcome.files and not outcome.worker_crashes


def test_a_changed_file_is_parsed_again_and_only_it(corpus, tmp_path):
    cache = ParseCache(tmp_path / "cache.sqlite")
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


def test_a_parser_version_bump_parses_everything_again(corpus, tmp_path):
    manifest = _manifest(corpus)
    parse_manifest(manifest, ParseCache(tmp_path / "cache.sqlite", parser_version="old"), 5_000_000, OPTIONS)
    outcome = parse_manifest(manifest, ParseCache(tmp_path / "cache.sqlite", parser_version="new"), 5_000_000, OPTIONS)
    assert (outcome.hits, outcome.misses) == (0, len(manifest.files))


def test_a_garbage_cache_file_is_rebuilt_and_the_run_succeeds(corpus, tmp_path):
    manifest = _manifest(corpus)
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 4000)
    cache = ParseCache(path)
    outcome = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert outcome.cache_check.problem and outcome.cache_check.moved_to.exists()
    assert outcome.misses == len(manifest.files)
    assert len(_stored(cache, manifest)) == len(manifest.files)


def test_cache_disabled_reuses_nothing_but_hands_results_on(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = ParseCache(tmp_path / "cache.sqlite", enabled=False)
    first = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    second = parse_manifest(manifest, cache, 5_000_000, OPTIONS)
    assert first.misses == second.misses == len(manifest.files) and second.hits == 0
    assert not second.cache_enabled
    assert len(_stored(cache, manifest)) == len(manifest.files)
    stats = cache.get_stats()
    assert (stats.hits, stats.misses) == (0, 0)


def test_bad_files_are_errors_not_failures(corpus, tmp_path):
    manifest = _manifest(corpus, "staging")
    outcome = parse_manifest(manifest, ParseCache(tmp_path / "cache.sqlite"), 5_000_000, OPTIONS)
    assert outcome.files == len(manifest.files) and outcome.errors
    assert all(e.path.startswith("staging/") and e.message for e in outcome.errors)


def test_a_run_drops_expired_entries_but_keeps_fresh_ones(corpus, tmp_path):
    path = tmp_path / "cache.sqlite"
    old = ParseCache(path, clock=lambda: 1_000.0)
    old.put_many([("stale", "tsql", FileLineage(path="x.sql", dialect="tsql"))])
    manifest = _manifest(corpus)
    parse_manifest(manifest, ParseCache(path, ttl_seconds=3600), 5_000_000, OPTIONS)
    cache = ParseCache(path)
    assert cache.get("stale", "tsql", "x.sql") is None
    assert cache.get_stats().entries == len({(e.sha256, e.dialect) for e in manifest.files})


def test_a_file_that_timed_out_is_reported_not_cached_and_parsed_next_time(corpus, tmp_path):
    slow = corpus / "core" / "zz_generated_load.sql"
    slow.write_text("".join(f"INSERT INTO dw.t{i % 7} (a) SELECT x + {i} FROM stg.s{i % 5};\n" for i in range(15_000)))
    manifest = _manifest(corpus)
    cache = ParseCache(tmp_path / "cache.sqlite")
    first = parse_manifest(manifest, cache, 10_000_000, ParseOptions(workers=2, chunk_size=4, file_timeout_s=0.5))
    (timeout,) = [e for e in first.errors if e.path == "core/zz_generated_load.sql"]
    assert "file_timeout_s" in timeout.message and first.worker_timeouts == 1 and first.files == len(manifest.files)
    entry = next(e for e in manifest.files if e.path == "core/zz_generated_load.sql")
    assert first.once_contexts == {entry.path: ONCE_MARK}, "stored for this run under a context of its own"
    assert cache.get(entry.sha256, entry.dialect, entry.path) is None
    handed_on = cache.get_many([(entry.sha256, entry.dialect, entry.path)], first.once_contexts)
    assert handed_on[(entry.sha256, entry.dialect, entry.path)].errors  # the graph stage gets it as an error
    second = parse_manifest(manifest, cache, 10_000_000, ParseOptions(workers=2, chunk_size=4, file_timeout_s=300))
    assert (second.misses, second.hits) == (1, len(manifest.files) - 1)
    assert not [e for e in second.errors if e.path == "core/zz_generated_load.sql"]
    assert len(cache.get(entry.sha256, entry.dialect, entry.path).statements) == 15_000


def test_a_file_changed_after_the_scan_is_parsed_as_read_but_never_cached_as_the_scanned_content(corpus, tmp_path):
    manifest = _manifest(corpus)
    entry = manifest.files[0]
    scanned = (corpus / entry.path).read_text()
    (corpus / entry.path).write_text("INSERT INTO dw.edited (a) SELECT b FROM stg.edited;\n")  # after the scan
    cache = ParseCache(tmp_path / "cache.sqlite")
    outcome = parse_manifest(manifest, cache, 10_000_000, OPTIONS)
    assert outcome.once_contexts == {entry.path: ONCE_MARK}
    assert [e.message for e in outcome.errors if e.path == entry.path] == [CHANGED_MESSAGE]
    assert cache.get(entry.sha256, entry.dialect, entry.path) is None, "the scanned content's key holds nothing"
    run_only = cache.get_many([(entry.sha256, entry.dialect, entry.path)], outcome.once_contexts)
    (lineage,) = run_only.values()
    assert lineage.statements[0].targets == ["dw.edited"], "lineage of the content read, for this run's graph stage"
    (corpus / entry.path).write_text(scanned)  # the scanned content is back: it must be parsed, not served
    again = parse_manifest(_manifest(corpus), cache, 10_000_000, OPTIONS)
    assert (again.misses, again.once_contexts) == (1, {})
    assert "dw.edited" not in {t for s in cache.get(entry.sha256, entry.dialect, entry.path).statements for t in s.targets}


def test_workers_are_started_early_only_when_each_has_a_file_to_parse(corpus, tmp_path):
    manifest = _manifest(corpus)
    cache = ParseCache(tmp_path / "cache.sqlite")
    options = ParseOptions(workers=2, chunk_size=4, start_method="fork")
    assert prestart_workers(manifest, cache, 10_000_000, options)
    outcome = parse_manifest(manifest, cache, 10_000_000, options)
    assert outcome.workers_forked == 2 and outcome.misses == len(manifest.files), "the early workers did the parse"
    assert not prestart_workers(manifest, cache, 10_000_000, options), "everything cached: no workers"
    changed = manifest.files[0]
    (corpus / changed.path).write_text("INSERT INTO dw.x (a) SELECT b FROM stg.y;\n")
    assert not prestart_workers(_manifest(corpus), cache, 10_000_000, options), "one miss would want one worker"
