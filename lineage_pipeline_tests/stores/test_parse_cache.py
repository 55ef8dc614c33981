"""Spec of stores.parse_cache: keyed reuse, LRU and TTL with an injected clock, persisted stats, self-repair."""

import multiprocessing
import sqlite3

import pytest

from lineage_pipeline.parsing import parse_sql
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, ParseIssue, StatementLineage
from lineage_pipeline.stores.parse_cache import TOUCH_AFTER_S, CacheKey, ParseCache, encode

LINEAGE = FileLineage(
    path="core/a.sql", dialect="tsql",
    statements=[StatementLineage(
        index=0, kind="INSERT", sources=["s.a"], targets=["t.b"],
        columns=[ColumnEdge(target="t.b.x", sources=["s.a.x"]), ColumnEdge(target="t.b.y", sources=["s.a.y"])],
    )],
    errors=[ParseIssue(statement=1, line=4, message="bad")],
)
DAY = 86400.0


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _cache(tmp_path, **kwargs) -> ParseCache:
    return ParseCache(
        tmp_path / "cache.sqlite",
        parser_version=kwargs.pop("parser_version", "1"),
        max_entries=kwargs.pop("max_entries", 10_000),
        ttl_seconds=kwargs.pop("ttl_seconds", 30 * DAY),
        **kwargs,
    )


def _hits(cache: ParseCache, *hashes: str) -> list[str]:
    return [key.sha256 for key, summary in cache.lookup(CacheKey(h, "tsql") for h in hashes) if summary is not None]


def _present(cache: ParseCache, *hashes: str) -> list[str]:
    """Hashes with an entry, read without touching recency or stats."""
    found = cache.get_many((h, "tsql", "x.sql") for h in hashes)
    return [h for h in hashes if (h, "tsql", "x.sql") in found]


def test_round_trip_restores_path_and_summary(tmp_path):
    cache = _cache(tmp_path)
    cache.put_many([("h1", "tsql", LINEAGE)])
    assert cache.get("h1", "tsql", "core/a.sql") == LINEAGE
    assert cache.get("h1", "tsql", "copy/a.sql") == LINEAGE.model_copy(update={"path": "copy/a.sql"})
    ((_, summary),) = cache.lookup([CacheKey("h1", "tsql")])
    assert (summary.statements, summary.column_edges, summary.errors) == (1, 2, tuple(LINEAGE.errors))


def test_hit_miss_and_cumulative_stats(tmp_path):
    cache = _cache(tmp_path)
    cache.put_many([("h1", "tsql", LINEAGE)])
    assert _hits(cache, "h1", "h2") == ["h1"]
    assert _hits(_cache(tmp_path), "h1") == ["h1"]  # another instance (process) adds to the same counters
    stats = _cache(tmp_path).get_stats()
    assert (stats.hits, stats.misses, stats.hit_rate, stats.entries, stats.evictions) == (2, 1, round(2 / 3, 4), 1, 0)
    assert stats.bytes == len(encode(LINEAGE).payload)


def test_other_content_dialect_or_parser_version_misses(tmp_path):
    _cache(tmp_path).put_many([("h1", "tsql", LINEAGE)])
    cache = _cache(tmp_path)
    assert _hits(cache, "h2") == []
    assert [k for k, s in cache.lookup([CacheKey("h1", "snowflake")]) if s] == []
    assert [k for k, s in cache.lookup([CacheKey("h1", "tsql", context="catalog-digest")]) if s] == []
    bumped = _cache(tmp_path, parser_version="2")
    assert _hits(bumped, "h1") == [] and bumped.get("h1", "tsql", "a.sql") is None
    assert bumped.prune() == 1  # entries of another parser version are dropped
    assert _cache(tmp_path).get("h1", "tsql", "a.sql") is None


def test_lru_evicts_least_recently_used_beyond_max_entries(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, max_entries=3, clock=clock)
    for name in ("a", "b", "c"):
        clock.now += TOUCH_AFTER_S + 1
        cache.put_many([(name, "tsql", LINEAGE)])
    clock.now += TOUCH_AFTER_S + 1
    assert _hits(cache, "a") == ["a"]  # a is now more recent than b and c
    clock.now += TOUCH_AFTER_S + 1
    cache.put_many([("d", "tsql", LINEAGE)])
    assert _present(cache, "a", "b", "c", "d") == ["a", "c", "d"]
    clock.now += TOUCH_AFTER_S + 1
    cache.put_many([("e", "tsql", LINEAGE)])
    assert _present(cache, "a", "b", "c", "d", "e") == ["a", "d", "e"]  # c was the least recently used left
    stats = cache.get_stats()
    assert (stats.entries, stats.evictions) == (3, 2)


def test_a_hit_rewrites_its_entry_only_once_per_touch_interval(tmp_path):
    """Every run of a large corpus looked up every file, and each hit rewrote its row: a write per file."""
    clock = Clock()
    cache = _cache(tmp_path, clock=clock)
    cache.put_many([("a", "tsql", LINEAGE)])
    used = lambda: cache.file.db().execute("SELECT last_used_at FROM entries").fetchone()[0]  # noqa: E731
    first = used()
    clock.now += TOUCH_AFTER_S / 2
    assert _hits(cache, "a") == ["a"] and used() == first
    clock.now += TOUCH_AFTER_S
    assert _hits(cache, "a") == ["a"] and used() == clock.now


def test_the_bound_holds_during_a_run_too(tmp_path):
    # the running ingest's results are kept by the parse results store, so the cache need not exceed its bound
    clock = Clock()
    cache = _cache(tmp_path, max_entries=2, clock=clock)
    cache.put_many([("old", "tsql", LINEAGE)])
    clock.now += 10
    cache.put_many([(f"run{i}", "tsql", LINEAGE) for i in range(3)])
    assert _present(cache, "old", "run0", "run1", "run2") == ["run1", "run2"]
    assert cache.prune() == 0
    assert cache.get_stats().entries == 2


def test_ttl_expiry_with_injected_clock(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, ttl_seconds=30 * DAY, clock=clock)
    cache.put_many([("old", "tsql", LINEAGE)])
    clock.now += 20 * DAY
    cache.put_many([("young", "tsql", LINEAGE)])
    clock.now += 15 * DAY  # old unused for 35 days, young for 15
    assert _hits(cache, "old", "young") == ["young"]
    assert cache.prune() == 1
    assert cache.get("old", "tsql", "a.sql") is None and cache.get_stats().entries == 1


def _fill(cache: ParseCache, n: int) -> None:
    cache.put_many([(f"h{i}", "tsql", LINEAGE.model_copy(update={"path": f"f{i}.sql"})) for i in range(n)])


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path):
    path.write_bytes(b"\x00\xffnot a database at all" * 500)


def _foreign_schema(path):
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, payload TEXT)")
        db.execute("INSERT INTO entries (payload) VALUES ('x')")


def _old_layout(path):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='0' WHERE name='schema_version'")


def _bad_payload(path):
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET payload=x'00112233'")


@pytest.mark.parametrize("damage", [_truncate, _garbage, _foreign_schema, _old_layout, _bad_payload])
def test_damaged_file_is_moved_aside_and_rebuilt(tmp_path, damage, caplog):
    path = tmp_path / "cache.sqlite"
    cache = _cache(tmp_path)
    _fill(cache, 300)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage(path)
    report = _cache(tmp_path).verify_integrity(sample_size=10)
    assert report.problem and report.moved_to and report.moved_to.exists()
    assert "moved to" in caplog.text
    rebuilt = _cache(tmp_path)
    assert rebuilt.verify_integrity().problem is None
    assert rebuilt.get_stats().entries == 0
    rebuilt.put_many([("h1", "tsql", LINEAGE)])
    assert _hits(rebuilt, "h1") == ["h1"]


def test_sound_file_passes_verification_untouched(tmp_path):
    cache = _cache(tmp_path)
    _fill(cache, 50)
    report = cache.verify_integrity(sample_size=10)
    assert report.problem is None and report.moved_to is None
    assert cache.get_stats().entries == 50
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_disabled_cache_never_hits_and_stores_nothing(tmp_path):
    # the graph stage's results are in the parse results store (stores/test_parse_results.py), not here
    _cache(tmp_path).put_many([("h1", "tsql", LINEAGE)])
    disabled = _cache(tmp_path, enabled=False)
    assert _hits(disabled, "h1", "h2") == []
    assert disabled.put_many([("h2", "tsql", LINEAGE)]) == 0
    assert set(disabled.get_many([("h1", "tsql", "a.sql"), ("h2", "tsql", "b.sql")])) == {("h1", "tsql", "a.sql")}
    stats = disabled.get_stats()
    assert (stats.hits, stats.misses, stats.entries) == (0, 0, 1)


def test_clear_empties_entries_and_resets_counters(tmp_path):
    cache = _cache(tmp_path, max_entries=1)
    _fill(cache, 3)
    _hits(cache, "h2", "nope")
    cache.clear()
    assert cache.get_stats().as_dict() == {"hits": 0, "misses": 0, "hit_rate": 0.0, "entries": 0, "bytes": 0, "evictions": 0}


def _writer(path, worker):
    cache = ParseCache(path, parser_version="1", max_entries=10_000, ttl_seconds=30 * DAY)
    for i in range(40):
        cache.put_many([(f"w{worker}-{i}", "tsql", LINEAGE)])
        list(cache.lookup([CacheKey(f"w{worker}-{i}", "tsql"), CacheKey("absent", "tsql")]))


@pytest.mark.integration  # spawned processes
def test_two_processes_write_at_once(tmp_path):
    path = tmp_path / "cache.sqlite"
    ParseCache(path, parser_version="1", max_entries=10_000, ttl_seconds=30 * DAY)
    processes = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, w)) for w in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0
    cache = ParseCache(path, parser_version="1", max_entries=10_000, ttl_seconds=30 * DAY)
    keys = [(f"w{w}-{i}", "tsql", "x.sql") for w in range(2) for i in range(40)]
    assert len(cache.get_many(keys)) == 80
    stats = cache.get_stats()
    assert (stats.hits, stats.misses, stats.entries) == (80, 80, 80)
    assert cache.verify_integrity().problem is None


def test_a_non_reusable_result_is_never_stored_nor_a_hit(tmp_path):
    # it is handed on through the parse results store with final=False (stores/test_parse_results.py)
    cache = _cache(tmp_path)
    assert cache.put_encoded([(CacheKey("h1", "tsql"), encode(LINEAGE, reusable=False))]) == 0
    assert _hits(cache, "h1") == []
    assert cache.get("h1", "tsql", "a.sql") is None
    cache.put_many([("h1", "tsql", LINEAGE)])  # a later real parse replaces it
    assert _hits(cache, "h1") == ["h1"]


def test_summary_carries_the_catalog_facts_without_decoding(tmp_path):
    table = parse_sql("CREATE TABLE dw.a (x INT, y INT);", "tsql", "core/t.sql")
    view = parse_sql("CREATE VIEW dw.v AS SELECT * FROM dw.a;", "tsql", "core/v.sql")
    cache = _cache(tmp_path)
    cache.put_many([("t", "tsql", table), ("v", "tsql", view)])
    found = {key.sha256: s for key, s in cache.lookup([CacheKey("t", "tsql"), CacheKey("v", "tsql")])}
    assert (found["t"].defines, found["t"].dependencies) == ((("dw.a", ("x", "y")),), ())
    # the view defines dw.v, but only a catalog can tell its columns
    assert (found["v"].defines, found["v"].dependencies) == ((("dw.v", ()),), ("dw.a",))


def test_encoded_gives_the_stored_results_of_reusable_entries_for_the_exact_key(tmp_path):
    resolved = LINEAGE.model_copy(update={"statements": []})
    cache = _cache(tmp_path)
    cache.put_encoded([(CacheKey("h1", "tsql"), encode(LINEAGE)), (CacheKey("h1", "tsql", "ctx"), encode(resolved))])
    keys = [CacheKey("h1", "tsql"), CacheKey("h1", "tsql", "ctx"), CacheKey("h1", "tsql", "other"), CacheKey("h2", "tsql")]
    found = dict(cache.encoded(keys))
    assert set(found) == set(keys[:2]), "absent keys and other contexts are left out"
    assert found[keys[0]].payload == encode(LINEAGE).payload and found[keys[1]].payload == encode(resolved).payload
    assert (found[keys[0]].summary.statements, found[keys[1]].summary.statements) == (1, 0)
    assert list(_cache(tmp_path, parser_version="2").encoded(keys)) == []
    stats = cache.get_stats()
    assert (stats.hits, stats.misses) == (0, 0), "reading encoded results counts nothing"


def _put_resolved(cache: ParseCache, sha256: str, context: str = "ctx") -> None:
    cache.put_encoded([(CacheKey(sha256, "tsql", context), encode(LINEAGE))])


def _resolved_present(cache: ParseCache, sha256: str, context: str = "ctx") -> bool:
    return bool(list(cache.encoded([CacheKey(sha256, "tsql", context)])))


def test_resolved_entries_do_not_count_against_the_bound_of_first_pass_entries(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, max_entries=2, clock=clock)
    cache.put_many([("a", "tsql", LINEAGE), ("b", "tsql", LINEAGE)])
    clock.now += 1
    _put_resolved(cache, "a")
    _put_resolved(cache, "b")
    assert _present(cache, "a", "b") == ["a", "b"] and _resolved_present(cache, "a") and _resolved_present(cache, "b")
    assert cache.get_stats().evictions == 0
    clock.now += 1
    _put_resolved(cache, "a", "other")  # resolved entries have a bound of their own: the LRU one goes
    assert not _resolved_present(cache, "a") and _resolved_present(cache, "b") and _resolved_present(cache, "a", "other")


def test_content_no_longer_in_the_corpus_is_evicted_before_recently_used_content(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, max_entries=2, clock=clock)
    cache.put_many([("needed", "tsql", LINEAGE)])
    clock.now += 1
    cache.put_many([("stale", "tsql", LINEAGE)])  # more recent, but the corpus no longer has it
    clock.now += 1
    cache.put_encoded([(CacheKey("new", "tsql"), encode(LINEAGE))], live={("needed", "tsql"), ("new", "tsql")})
    assert _present(cache, "needed", "stale", "new") == ["needed", "new"]
    clock.now += 1
    cache.put_many([("newer", "tsql", LINEAGE)])  # without a corpus to go by: least recently used
    assert _present(cache, "needed", "new", "newer") == ["new", "newer"]


def test_an_evicted_first_pass_entry_takes_its_resolved_entries_along(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, max_entries=1, clock=clock)
    cache.put_many([("a", "tsql", LINEAGE)])
    _put_resolved(cache, "a")
    clock.now += 1
    cache.put_many([("b", "tsql", LINEAGE)])
    assert _present(cache, "a", "b") == ["b"] and not _resolved_present(cache, "a")
    assert cache.get_stats().evictions == 2


def test_a_cache_file_made_before_the_resolved_entries_index_counts_and_evicts_the_same(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, max_entries=2, clock=clock)
    cache.put_many([("a", "tsql", LINEAGE)])
    cache.close()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:  # the layout of a file made by an earlier release
        db.execute("DROP INDEX entries_resolved")
    cache = _cache(tmp_path, max_entries=2, clock=clock)
    _put_resolved(cache, "a")
    for name in ("b", "c"):
        clock.now += 1
        cache.put_many([(name, "tsql", LINEAGE)])
    assert _present(cache, "a", "b", "c") == ["b", "c"] and not _resolved_present(cache, "a")
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name='entries_resolved'").fetchone()


def test_catalog_snapshots_keep_column_order_and_only_the_most_recent(tmp_path):
    from lineage_pipeline.stores.parse_cache import CATALOG_SNAPSHOTS

    clock = Clock()
    cache = _cache(tmp_path, clock=clock, enabled=False)  # kept whether or not results are reused
    assert cache.load_catalog("d0") is None
    cache.save_catalog("d0", {"s.t": ("z", "a", "m"), "s.u": ["k"]})
    assert cache.load_catalog("d0") == {"s.t": ("z", "a", "m"), "s.u": ("k",)}
    for n in range(1, CATALOG_SNAPSHOTS + 1):
        clock.now += 1
        cache.save_catalog(f"d{n}", {"s.t": (str(n),)})
    assert cache.load_catalog("d0") is None and cache.load_catalog(f"d{CATALOG_SNAPSHOTS}") == {"s.t": (str(CATALOG_SNAPSHOTS),)}
    cache.clear()
    assert cache.load_catalog(f"d{CATALOG_SNAPSHOTS}") is None


def test_a_cache_of_the_previous_layout_is_moved_aside(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache = _cache(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE catalogs")
    report = cache.verify_integrity()
    assert report.problem and "not a parse cache" in report.problem and report.moved_to.exists()
    assert cache.load_catalog("any") is None


def test_a_prune_asked_for_at_most_hourly_scans_the_entries_once_an_hour(tmp_path):
    clock = Clock()
    cache = _cache(tmp_path, ttl_seconds=1 * DAY, clock=clock)
    cache.put_many([("old", "tsql", LINEAGE)])
    assert cache.prune(every_s=3600) == 0 and cache.entry_count() == 1
    clock.now += 2 * DAY
    cache.put_many([("new", "tsql", LINEAGE)])
    assert cache.prune(every_s=3 * DAY) == 0, "pruned less than the interval ago: nothing is read"
    assert cache.entry_count() == 2
    assert cache.prune(every_s=3600) == 1 and _present(cache, "old", "new") == ["new"]
    assert cache.prune() == 0, "without an interval it always prunes"


def test_entries_are_counted_once_per_process_and_another_writers_entries_at_the_next_count(tmp_path):
    mine, theirs = _cache(tmp_path, max_entries=5), _cache(tmp_path, max_entries=5)
    mine.put_many([("a", "tsql", LINEAGE)])
    theirs.put_many([(name, "tsql", LINEAGE) for name in "bcde"])
    mine.put_many([(name, "tsql", LINEAGE) for name in "fg"])  # counted from its own writes: 3, not the 7 there are
    assert mine.get_stats().entries == 7
    later = _cache(tmp_path, max_entries=5)
    later.put_many([("h", "tsql", LINEAGE)])  # a new process counts the table: 8 > 5
    assert later.get_stats().entries == 5
