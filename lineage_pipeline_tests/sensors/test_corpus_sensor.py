"""Spec of sql_corpus_sensor ticked through Dagster's build_sensor_context with an injected clock.

Real files in a temp corpus, a real SQLite state store and a real (temporary) Dagster instance; the
clock is the only thing the tests drive by hand.
"""

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from lineage_pipeline.sensors.batching import BULK_PRIORITY, CURSOR_VERSION, INTERACTIVE_PRIORITY, BatchPolicy
from lineage_pipeline.sensors.corpus_sensor import CorpusSensorConfig, build_corpus_sensor
from lineage_pipeline.sensors.state_store import StateStore
from lineage_pipeline.settings import IngestionSettings


class Clock:
    """Wall time the test advances explicitly."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A corpus folder, the sensor over it, and the cursor carried from tick to tick."""

    def __init__(self, root: Path, instance: dg.DagsterInstance, **policy: object) -> None:
        self.corpus = root / "corpus"
        self.corpus.mkdir()
        self.instance = instance
        self.config = CorpusSensorConfig(
            corpus_root=self.corpus,
            extensions=[".sql"],
            state_path=root / "state" / "corpus_state.sqlite",
            policy=BatchPolicy(**policy),
            interval_seconds=1,
            metrics_dir=root / "metrics",
        )
        self.clock = Clock()
        self.sensor = build_corpus_sensor(self.config, self.clock)
        self.cursor: str | None = None

    def write(self, relative: str, text: str) -> Path:
        path = self.corpus / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def tick(self, advance: float = 0.0, cursor: str | None = "carry") -> dg.SensorResult:
        """Evaluate once; apply its partition requests to the instance as the daemon would."""
        self.clock.now += advance
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor if cursor == "carry" else cursor)
        result = self.sensor(context)
        self.cursor = result.cursor
        for request in result.dynamic_partitions_requests or []:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
        return result

    def settle(self, window: float = 10.0) -> dg.SensorResult:
        """See the changes, then tick after the debounce window so the pending batch goes out."""
        seen = self.tick()
        if seen.run_requests or seen.dynamic_partitions_requests:
            return seen
        return self.tick(advance=window)


def changed_paths(request: dg.RunRequest) -> list[str] | None:
    config = request.run_config["ops"].get("sql_corpus")
    return None if config is None else config["config"]["changed_paths"]


def skip_text(result: dg.SensorResult) -> str:
    return result.skip_reason.skip_message if result.skip_reason else ""


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        yield instance


@pytest.fixture
def make(tmp_path, instance):
    def build(**policy: object) -> Harness:
        return Harness(tmp_path, instance, **policy)

    return build


def baseline(harness: Harness, files: dict[str, str]) -> None:
    """Write ``files``, let the sensor see and flush them, so later tests start from a quiet state."""
    for relative, text in files.items():
        harness.write(relative, text)
    harness.tick()
    harness.settle()
    assert not json.loads(harness.cursor)["pending"]


def test_saves_inside_the_window_coalesce_into_one_debounced_run(make):
    harness = make(debounce_window_seconds=5)
    for version in range(10):
        harness.write("core/a.sql", f"INSERT INTO dw.t SELECT {version} AS v FROM stg.s;")
        result = harness.tick(advance=1)
        assert result.run_requests == [] and "waiting" in skip_text(result)
    assert json.loads(harness.cursor)["pending"]["core"]["paths"] == ["core/a.sql"]
    early = harness.tick(advance=4.9)
    assert early.run_requests == [], "4.9 s of quiet is inside a 5 s window"
    (run,) = harness.tick(advance=0.2).run_requests
    assert run.partition_key == "core" and changed_paths(run) == ["core/a.sql"]
    assert run.tags["lineage/flush"] == "debounce" and run.tags["lineage/batch_size"] == "1"
    assert run.tags["dagster/priority"] == INTERACTIVE_PRIORITY
    assert harness.tick(advance=10).run_requests == []


def test_threshold_flushes_without_waiting_one_run_per_domain(make, instance):
    harness = make(debounce_window_seconds=60, batch_size_threshold=5)
    for i in range(3):
        harness.write(f"sales/s{i}.sql", f"SELECT {i} FROM sales.t;")
    for i in range(2):
        harness.write(f"risk/r{i}.sql", f"SELECT {i} FROM risk.t;")
    result = harness.tick()
    runs = {r.partition_key: r for r in result.run_requests}
    assert set(runs) == {"risk", "sales"}
    assert changed_paths(runs["sales"]) == ["sales/s0.sql", "sales/s1.sql", "sales/s2.sql"]
    assert changed_paths(runs["risk"]) == ["risk/r0.sql", "risk/r1.sql"]
    assert {r.tags["lineage/flush"] for r in runs.values()} == {"threshold"}
    (added,) = result.dynamic_partitions_requests
    assert isinstance(added, dg.AddDynamicPartitionsRequest) and sorted(added.partition_keys) == ["risk", "sales"]
    assert sorted(instance.get_dynamic_partitions("corpus_domain")) == ["risk", "sales"]


def test_realtime_mode_flushes_at_the_first_tick(make):
    harness = make(debounce_window_seconds=0)
    harness.write("core/a.sql", "SELECT 1 FROM t;")
    (run,) = harness.tick().run_requests
    assert run.tags["lineage/flush"] == "realtime" and changed_paths(run) == ["core/a.sql"]


def test_batching_disabled_is_one_run_per_changed_file(make):
    harness = make(enable_batching=False, max_in_flight_runs=10)
    for name in ("a", "b", "c"):
        harness.write(f"core/{name}.sql", f"SELECT 1 FROM {name};")
    runs = harness.tick().run_requests
    assert sorted(changed_paths(r)[0] for r in runs) == ["core/a.sql", "core/b.sql", "core/c.sql"]
    assert all(len(changed_paths(r)) == 1 and r.tags["lineage/flush"] == "unbatched" for r in runs)
    assert len({r.run_key for r in runs}) == 3


def test_deleted_file_is_named_in_the_run(make):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;", "core/b.sql": "SELECT 1 FROM b;"})
    (harness.corpus / "core" / "b.sql").unlink()
    assert harness.tick().run_requests == []
    (run,) = harness.settle().run_requests
    assert changed_paths(run) == ["core/b.sql"] and run.run_config["ops"]["lineage_graph"]["config"]["force_delete"] is False


def test_deleted_folder_retires_its_partition_after_the_retire_run(make, instance):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;", "gone/x.sql": "SELECT 1 FROM x;"})
    assert sorted(instance.get_dynamic_partitions("corpus_domain")) == ["core", "gone"]
    shutil.rmtree(harness.corpus / "gone")
    (run,) = harness.settle().run_requests
    assert run.partition_key == "gone" and changed_paths(run) is None
    assert run.run_config["ops"]["lineage_graph"]["config"]["force_delete"] is True
    assert run.tags["lineage/retire"] == "true" and run.tags["dagster/priority"] == BULK_PRIORITY
    in_flight = create_run_for_test(
        instance, job_name="ingest_corpus", status=dg.DagsterRunStatus.STARTED, tags={**run.tags, "dagster/partition": "gone"}
    )
    assert not harness.settle().dynamic_partitions_requests, "partition stays while its retire run is in flight"
    instance.delete_run(in_flight.run_id)
    create_run_for_test(
        instance, job_name="ingest_corpus", status=dg.DagsterRunStatus.SUCCESS, tags={**run.tags, "dagster/partition": "gone"}
    )
    (deleted,) = harness.settle().dynamic_partitions_requests
    assert isinstance(deleted, dg.DeleteDynamicPartitionsRequest) and list(deleted.partition_keys) == ["gone"]
    assert instance.get_dynamic_partitions("corpus_domain") == ["core"]
    assert json.loads(harness.cursor)["retiring"] == []


def test_rename_names_both_paths(make):
    harness = make()
    baseline(harness, {"core/old.sql": "SELECT 1 FROM a;"})
    os.rename(harness.corpus / "core" / "old.sql", harness.corpus / "core" / "new.sql")
    (run,) = harness.settle().run_requests
    assert changed_paths(run) == ["core/new.sql", "core/old.sql"]


def test_touch_and_unchanged_save_trigger_nothing(make):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;"})
    path = harness.corpus / "core" / "a.sql"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    path.write_text("SELECT 1 FROM a;")
    result = harness.settle()
    assert result.run_requests == [] and skip_text(result) == "no pending changes"
    assert json.loads(harness.cursor)["pending"] == {}


def test_copy_with_an_old_mtime_is_noticed(make, tmp_path):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;"})
    recorded = (harness.corpus / "core" / "a.sql").stat()
    elsewhere = tmp_path / "elsewhere.sql"
    elsewhere.write_text("SELECT 9 FROM z;")
    os.utime(elsewhere, ns=(0, 10**9))  # 1970: older than anything the sensor has seen
    shutil.copy2(elsewhere, harness.corpus / "core" / "copied.sql")
    # same size and even the same mtime as recorded: only the content (and ctime) differ
    replacement = harness.corpus / "core" / "a.sql"
    replacement.write_text("SELECT 2 FROM a;")
    os.utime(replacement, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))
    (run,) = harness.settle().run_requests
    assert changed_paths(run) == ["core/a.sql", "core/copied.sql"]


def test_back_pressure_accumulates_and_says_why(make, instance):
    harness = make(max_in_flight_runs=2)
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;", "risk/b.sql": "SELECT 1 FROM b;"})
    busy = [create_run_for_test(instance, job_name="ingest_corpus", status=dg.DagsterRunStatus.STARTED) for _ in range(2)]
    harness.write("core/a.sql", "SELECT 2 FROM a;")
    harness.write("risk/b.sql", "SELECT 2 FROM b;")
    harness.tick()
    held = harness.settle()
    assert held.run_requests == []
    assert "back-pressure: 2 run(s) of the job queued or running (max 2)" in skip_text(held)
    harness.write("risk/c.sql", "SELECT 3 FROM c;")
    harness.tick(advance=1)
    assert sorted(json.loads(harness.cursor)["pending"]["risk"]["paths"]) == ["risk/b.sql", "risk/c.sql"]
    instance.report_run_canceled(busy[0])
    (first,) = harness.settle().run_requests  # room for one: the rest waits, still pending
    assert json.loads(harness.cursor)["pending"]
    instance.report_run_canceled(busy[1])
    (second,) = harness.settle().run_requests
    assert {first.partition_key, second.partition_key} == {"core", "risk"}
    assert json.loads(harness.cursor)["pending"] == {}


def test_bulk_batches_get_a_lower_priority_than_interactive_ones(make):
    harness = make(batch_size_threshold=50)
    for i in range(30):
        harness.write(f"bulk/f{i:02}.sql", f"SELECT {i} FROM t;")
    harness.write("core/a.sql", "SELECT 1 FROM a;")
    runs = {r.partition_key: r for r in harness.settle().run_requests}
    assert runs["bulk"].tags["dagster/priority"] == BULK_PRIORITY and runs["bulk"].tags["lineage/batch_size"] == "30"
    assert runs["core"].tags["dagster/priority"] == INTERACTIVE_PRIORITY
    assert int(INTERACTIVE_PRIORITY) > int(BULK_PRIORITY)


def test_lineage_flush_request_skips_the_wait(make):
    harness = make(debounce_window_seconds=600)
    harness.write("core/a.sql", "SELECT 1 FROM a;")
    assert harness.tick().run_requests == []
    with StateStore(harness.config.state_path) as store:
        store.request_flush()
    (run,) = harness.tick(advance=1).run_requests
    assert run.tags["lineage/flush"] == "manual"
    assert harness.tick(advance=1).run_requests == [], "a flush request is served once"


def test_cursor_stays_small_with_100k_files(make):
    harness = make()
    for domain in range(10):
        folder = harness.corpus / f"d{domain}"
        folder.mkdir()
        for i in range(10_000):
            (folder / f"f{i:05}.sql").write_text(f"select {i};")
    result = harness.tick()
    cursor = harness.cursor
    assert len(cursor) < 64_000, len(cursor)
    pending = json.loads(cursor)["pending"]
    assert all(entry["full"] for entry in pending.values())
    with StateStore(harness.config.state_path) as store:
        recorded = len(store.load())
    assert 0 < recorded <= 100_000  # a slow disk defers the rest of the hashing to later ticks
    launched = {r.partition_key for r in result.run_requests}
    assert len(launched) == 4, "4 in flight at most"
    assert launched | set(pending) == {f"d{d}" for d in range(10)} and not launched & set(pending)
    assert all(changed_paths(r) is None for r in result.run_requests)


@pytest.mark.parametrize("bad_cursor", ["{not json", '{"version": 1, "last_mtime": 12345}', '"1700000000.0"'])
def test_corrupt_or_older_cursor_rescans_known_domains(make, bad_cursor):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;", "risk/b.sql": "SELECT 1 FROM b;"})
    result = harness.tick(cursor=bad_cursor)
    runs = {r.partition_key: r for r in result.run_requests}
    assert set(runs) == {"core", "risk"} and all(changed_paths(r) is None for r in runs.values())
    assert {r.tags["lineage/flush"] for r in runs.values()} == {"recovery"}
    assert json.loads(harness.cursor)["version"] == CURSOR_VERSION


def test_retried_tick_reuses_run_keys_and_a_lost_cursor_write_is_replayed(make):
    harness = make(debounce_window_seconds=0)
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;"})
    before = harness.cursor
    harness.write("core/a.sql", "SELECT 2 FROM a;")
    (first,) = harness.tick().run_requests
    # the tick's cursor was never saved: the same cursor comes back, the store already has the change
    (again,) = harness.tick(cursor=before).run_requests
    assert again.run_key == first.run_key and changed_paths(again) == ["core/a.sql"]


def test_empty_or_missing_root_is_not_a_mass_deletion(make):
    harness = make()
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;"})
    (harness.corpus / "core" / "a.sql").unlink()
    result = harness.settle()
    assert result.run_requests == [] and "not treating that as a deletion" in skip_text(result)
    shutil.rmtree(harness.corpus)
    result = harness.settle()
    assert result.run_requests == [] and "cannot scan the corpus" in skip_text(result)


def test_editor_litter_hidden_folders_and_escaping_links_are_ignored(make, tmp_path):
    harness = make(debounce_window_seconds=0)
    baseline(harness, {"core/a.sql": "SELECT 1 FROM a;"})
    for litter in ("core/a.sql~", "core/.a.sql.swp", "core/x.tmp", ".git/y.sql", "core/.hidden/z.sql"):
        harness.write(litter, "garbage")
    outside = tmp_path / "outside.sql"
    outside.write_text("SELECT 1 FROM secret;")
    os.symlink(outside, harness.corpus / "core" / "link.sql")
    result = harness.tick()
    assert result.run_requests == [] and skip_text(result) == "no pending changes"


def test_description_shows_the_knobs(make):
    harness = make(enable_batching=False, debounce_window_seconds=2.5, batch_size_threshold=7, max_in_flight_runs=3)
    description = harness.sensor.description
    for text in ("ENABLE_BATCHING=False", "DEBOUNCE_WINDOW_SECONDS=2.5", "BATCH_SIZE_THRESHOLD=7",
                 "MAX_IN_FLIGHT_RUNS=3", "SENSOR_INTERVAL_SECONDS=1"):
        assert text in description


def test_knobs_come_from_the_settings_layer(monkeypatch):
    monkeypatch.setenv("BATCH_SIZE_THRESHOLD", "7")
    monkeypatch.setenv("ENABLE_BATCHING", "false")
    monkeypatch.setenv("DEBOUNCE_WINDOW_SECONDS", "9")
    monkeypatch.setenv("LINEAGE_DEBOUNCE_WINDOW_SECONDS", "1.5")  # the prefixed spelling wins
    monkeypatch.setenv("LINEAGE_MAX_IN_FLIGHT_RUNS", "2")
    monkeypatch.setenv("LINEAGE_SENSOR_INTERVAL_SECONDS", "3")
    config = CorpusSensorConfig.from_settings(IngestionSettings())
    assert config.policy == BatchPolicy(
        enable_batching=False, debounce_window_seconds=1.5, batch_size_threshold=7, max_in_flight_runs=2
    )
    assert config.interval_seconds == 3
    assert build_corpus_sensor(config).minimum_interval_seconds == 3


def test_repeated_saves_count_as_deduplicated_events_and_pending_is_the_queue_size(make):
    from lineage_pipeline.observability.server import exposition
    from lineage_pipeline_tests.observability.support import samples

    def deduplicated() -> float:
        return samples(exposition(harness.config.metrics_dir).decode()).get("events_deduplicated_total", 0.0)

    harness = make(debounce_window_seconds=5)
    before = deduplicated()
    for version in range(4):
        harness.write("core/a.sql", f"INSERT INTO dw.t SELECT {version} AS v FROM stg.s;")
        harness.tick(advance=1)
    harness.write("core/b.sql", "INSERT INTO dw.u SELECT 1 AS v FROM stg.s;")
    harness.tick(advance=1)
    assert deduplicated() - before == 3, "saves 2-4 of a.sql merge into its pending entry; b.sql is new"
    assert samples(exposition(harness.config.metrics_dir).decode())["queue_size"] == 2


def test_a_folder_being_deleted_is_held_on_threshold_then_retired_by_one_run(make):
    """Issue 17 defect 6: a tick that sees ``rm -rf`` half done must not launch an ordinary run of that
    domain (its scan would see a mass deletion and the graph's deletion guard would fail the run)."""
    harness = make(debounce_window_seconds=5, batch_size_threshold=20)
    baseline(harness, {f"ops/f{i:02}.sql": f"SELECT {i} FROM ops.t;" for i in range(30)})
    for i in range(25):
        (harness.corpus / "ops" / f"f{i:02}.sql").unlink()
    for i in range(20):
        harness.write(f"sales/s{i:02}.sql", f"SELECT {i} FROM sales.t;")
    partial = harness.tick(advance=1)
    assert [r.partition_key for r in partial.run_requests] == ["sales"], "other domains still flush on threshold"
    assert json.loads(harness.cursor)["pending"]["ops"]["deletions"] == 25
    waiting = harness.tick(advance=1)
    assert waiting.run_requests == []
    assert "ops: 25 file(s) deleted, waiting for the deletion to finish" in skip_text(waiting)
    shutil.rmtree(harness.corpus / "ops")
    (retire,) = harness.tick(advance=1).run_requests
    assert retire.partition_key == "ops" and changed_paths(retire) is None and retire.tags["lineage/retire"] == "true"
    assert harness.tick(advance=10).run_requests == [], "one retire run, nothing after it"


def test_deletions_replayed_from_the_journal_still_hold_their_domain(make):
    harness = make(debounce_window_seconds=5, batch_size_threshold=20)
    baseline(harness, {f"ops/f{i:02}.sql": f"SELECT {i} FROM ops.t;" for i in range(30)})
    before = harness.cursor
    for i in range(25):
        (harness.corpus / "ops" / f"f{i:02}.sql").unlink()
    assert harness.tick(advance=1).run_requests == []
    replayed = harness.tick(advance=1, cursor=before)  # that tick's cursor was never saved: the store replays it
    assert replayed.run_requests == [] and "ops: 25 file(s) deleted, waiting" in skip_text(replayed)
