"""Spec of sensors.batching: coalescing, triggers, bounded cursor, partial flushes, run keys."""

import json

from lineage_pipeline.graph.writer import GUARD_MIN_FILES
from lineage_pipeline.sensors.batching import (
    CURSOR_VERSION,
    MAX_CURSOR_PATHS,
    Batch,
    BatchPolicy,
    SensorCursor,
    absorb,
    add_changes,
    decide,
    flush_trigger,
    mark_domains,
    parse_cursor,
)

POLICY = BatchPolicy(debounce_window_seconds=5, batch_size_threshold=50, max_in_flight_runs=4)


def cursor(*paths: str, at: float = 100.0) -> SensorCursor:
    return add_changes(SensorCursor(epoch="e" * 32, generation=1), list(paths), at)


def test_parse_cursor_accepts_only_the_current_format():
    good = cursor("core/a.sql")
    assert parse_cursor(good.to_json()) == good
    older = {**json.loads(good.to_json()), "version": CURSOR_VERSION - 1}
    for raw in (None, "", "{oops", "[]", '"123"', json.dumps({"version": 1, "pending": {}}), json.dumps(older),
                json.dumps({"version": CURSOR_VERSION, "generation": -1, "epoch": "x"})):
        assert parse_cursor(raw) is None, raw


def test_repeated_saves_are_one_entry_and_the_window_restarts():
    state = cursor("core/a.sql", "core/a.sql", at=100)
    state = add_changes(state, ["core/a.sql", "risk/b.sql"], 103)
    assert {d: p.paths for d, p in state.pending.items()} == {"core": ["core/a.sql"], "risk": ["risk/b.sql"]}
    assert (state.first_change, state.last_change, state.pending_files) == (100, 103, 2)


def test_triggers():
    state = cursor("core/a.sql", at=100)
    assert flush_trigger(state, 104.9, POLICY, manual=False) is None
    assert flush_trigger(state, 105, POLICY, manual=False) == "debounce"
    assert flush_trigger(state, 100, POLICY, manual=True) == "manual"
    assert flush_trigger(state, 100, POLICY.model_copy(update={"debounce_window_seconds": 0}), False) == "realtime"
    assert flush_trigger(state, 100, POLICY.model_copy(update={"enable_batching": False}), False) == "unbatched"
    many = cursor(*(f"core/f{i}.sql" for i in range(50)))
    assert flush_trigger(many, 100, POLICY, manual=False) == "threshold"
    assert flush_trigger(SensorCursor(epoch="e", generation=0), 999, POLICY, manual=True) is None


def test_cursor_collapses_the_busiest_domains_past_the_bound():
    paths = [f"big/f{i:06}.sql" for i in range(100_000)] + ["core/a.sql"]
    state = cursor(*paths)
    assert state.pending["big"].full and state.pending["big"].paths == []
    assert state.pending["core"].paths == ["core/a.sql"]
    assert len(state.to_json()) < 2_000
    mid = cursor(*(f"d{i % 3}/f{i}.sql" for i in range(MAX_CURSOR_PATHS + 30)))
    assert mid.pending_files <= MAX_CURSOR_PATHS and any(p.full for p in mid.pending.values())


def test_waiting_and_back_pressure_explain_themselves():
    state = cursor("core/a.sql", at=100)
    waiting = decide(state, 102, POLICY, in_flight=0)
    assert waiting.batches == [] and waiting.cursor == state and "waiting for 5s without changes" in waiting.reason
    blocked = decide(state, 200, POLICY, in_flight=4)
    assert blocked.batches == [] and blocked.cursor == state
    assert blocked.reason.startswith("back-pressure: 4 run(s) of the job queued or running (max 4)")


def test_partial_room_launches_interactive_batches_first_and_keeps_the_rest():
    state = cursor(*(f"bulk/f{i}.sql" for i in range(20)), "core/a.sql", "risk/b.sql")
    decision = decide(state, 200, POLICY, in_flight=2)
    assert [b.domain for b in decision.batches] == ["core", "risk"]
    assert list(decision.cursor.pending) == ["bulk"] and decision.cursor.last_change == state.last_change
    assert "1 more held back" in decision.reason
    final = decide(decision.cursor, 200, POLICY, in_flight=0)
    assert [(b.domain, b.size) for b in final.batches] == [("bulk", 20)]
    assert final.cursor.pending == {} and final.cursor.first_change is None


def test_unbatched_is_one_batch_per_file_and_whole_domains_stay_whole():
    state = mark_domains(cursor("core/a.sql", "core/b.sql"), {"gone"}, 100, retire=True)
    decision = decide(state, 100, POLICY.model_copy(update={"enable_batching": False}), in_flight=0)
    assert [(b.domain, b.paths, b.retire) for b in decision.batches] == [
        ("core", ("core/a.sql",), False), ("core", ("core/b.sql",), False), ("gone", None, True)]


def test_run_keys_are_deterministic_and_unique_per_batch():
    batch = Batch("core", ("core/a.sql",), False, "debounce")
    assert batch.run_key("epoch-1", 7) == Batch("core", ("core/a.sql",), False, "threshold").run_key("epoch-1", 7)
    others = {
        batch.run_key("epoch-1", 8),
        batch.run_key("epoch-2", 7),
        Batch("core", ("core/b.sql",), False, "debounce").run_key("epoch-1", 7),
        Batch("core", None, False, "recovery").run_key("epoch-1", 7),
        Batch("core", None, True, "threshold").run_key("epoch-1", 7),
    }
    assert batch.run_key("epoch-1", 7) not in others and len(others) == 5


def test_absorb_retires_vanished_folders_and_revives_returning_ones():
    state = absorb(cursor("core/a.sql"), ["core/b.sql", "gone/x.sql"], {"core", "gone"}, {"core"}, 101)
    assert state.pending["core"].paths == ["core/a.sql", "core/b.sql"]
    assert state.pending["gone"].retire and state.pending["gone"].full
    back = absorb(state.model_copy(update={"retiring": ["old"]}), ["gone/y.sql"], {"core"}, {"core", "gone", "old"}, 102)
    assert back.pending["gone"].full and not back.pending["gone"].retire
    assert back.retiring == []


def deleting(domain: str, count: int, at: float) -> SensorCursor:
    """``count`` files of ``domain`` seen deleted at ``at`` (a tick catching ``rm -rf`` part way)."""
    gone = [f"{domain}/f{i:05}.sql" for i in range(count)]
    return add_changes(SensorCursor(epoch="e" * 32, generation=1), gone, at, deleted=gone)


def test_domain_losing_files_is_held_on_threshold_and_flushed_once_quiet():
    state = deleting("ops", 50, at=100)
    assert flush_trigger(state, 101, POLICY, manual=False) is None, "50 deletions reach the threshold, but held"
    held = decide(state, 101, POLICY, in_flight=0)
    assert held.batches == [] and held.cursor == state
    assert "ops: 50 file(s) deleted, waiting for the deletion to finish (5s without changes in the domain)" in held.reason
    more = add_changes(state, [f"ops/g{i}.sql" for i in range(10)], 103, deleted=[f"ops/g{i}.sql" for i in range(10)])
    assert more.pending["ops"].deletions == 60 and decide(more, 107.9, POLICY, in_flight=0).batches == []
    (batch,) = decide(more, 108, POLICY, in_flight=0).batches
    assert (batch.domain, batch.size, batch.retire, batch.trigger) == ("ops", 60, False, "threshold")


def test_the_guards_floor_of_deletions_holds_a_domain_whatever_else_changed_in_it():
    # no share of the domain is judged: a tick can catch the start of an rm -rf, which the run would see further on
    state = add_changes(deleting("big", GUARD_MIN_FILES, at=100), [f"big/n{i}.sql" for i in range(60)], 100)
    assert decide(state, 101, POLICY, in_flight=0).batches == []
    fewer = add_changes(deleting("big", GUARD_MIN_FILES - 1, at=100), [f"big/n{i}.sql" for i in range(60)], 100)
    assert [(b.domain, b.trigger) for b in decide(fewer, 101, POLICY, in_flight=0).batches] == [("big", "threshold")]


def test_other_domains_flush_on_threshold_while_one_is_held():
    state = add_changes(deleting("ops", 25, at=100), [f"sales/s{i}.sql" for i in range(50)] + ["core/a.sql"], 100)
    decision = decide(state, 101, POLICY, in_flight=0)
    assert [(b.domain, b.trigger) for b in decision.batches] == [("core", "threshold"), ("sales", "threshold")]
    assert list(decision.cursor.pending) == ["ops"] and decision.cursor.pending["ops"].deletions == 25
    assert "threshold flush: 2 run(s); ops: 25 file(s) deleted, waiting" in decision.reason
    later = decide(decision.cursor, 105, POLICY, in_flight=0)
    assert [(b.domain, b.size, b.trigger) for b in later.batches] == [("ops", 25, "debounce")]


def test_held_deletions_do_not_count_towards_the_threshold_and_go_out_once_their_domain_is_quiet():
    state = add_changes(deleting("ops", 60, at=100), ["core/a.sql"], 104)
    assert flush_trigger(state, 104, POLICY, manual=False) is None, "60 held deletions + 1 edit: below the threshold"
    busy = add_changes(state, [f"sales/s{i}.sql" for i in range(50)], 104)
    assert {b.domain for b in decide(busy, 104, POLICY, in_flight=0).batches} == {"core", "sales"}
    # the corpus is still busy, but ops has had no change for the window: the threshold flush takes it along
    assert {b.domain for b in decide(busy, 105, POLICY, in_flight=0).batches} == {"core", "ops", "sales"}


def test_edits_and_a_few_deletions_are_not_held():
    edits = cursor(*(f"core/f{i}.sql" for i in range(60)))
    assert [(b.domain, b.trigger) for b in decide(edits, 100, POLICY, in_flight=0).batches] == [("core", "threshold")]
    few = add_changes(edits, ["core/gone.sql"], 100, deleted=["core/gone.sql"])
    assert few.pending["core"].deletions == 1 and decide(few, 100, POLICY, in_flight=0).batches


def test_a_folder_gone_is_retired_on_threshold_without_waiting():
    state = deleting("ops", 25, at=100)
    gone = absorb(state, [f"ops/f{i:02}.sql" for i in range(25, 30)], {"ops"}, set(), 101,
                  deleted=[f"ops/f{i:02}.sql" for i in range(25, 30)])
    (batch,) = decide(gone, 101, POLICY, in_flight=0).batches
    assert (batch.domain, batch.paths, batch.retire, batch.trigger) == ("ops", None, True, "threshold")


def test_manual_and_realtime_flushes_do_not_hold():
    state = deleting("ops", 25, at=100)
    assert [b.domain for b in decide(state, 100, POLICY, in_flight=0, manual=True).batches] == ["ops"]
    realtime = POLICY.model_copy(update={"debounce_window_seconds": 0})
    assert [b.trigger for b in decide(state, 100, realtime, in_flight=0).batches] == ["realtime"]


def test_collapsed_domain_keeps_its_deletions_and_stays_held():
    state = deleting("big", 0, at=100)
    gone = [f"big/f{i:04}.sql" for i in range(MAX_CURSOR_PATHS + 1)]
    state = add_changes(state, gone, 100, deleted=gone)
    assert state.pending["big"].full and state.pending["big"].paths == []
    assert state.pending["big"].deletions == MAX_CURSOR_PATHS + 1
    assert decide(state, 101, POLICY, in_flight=0).batches == [], "a whole-domain rescan now would see it half gone"
    later = add_changes(state, ["big/x.sql"], 102, deleted=["big/x.sql"])
    assert later.pending["big"].deletions == MAX_CURSOR_PATHS + 2, "counted after the collapse too"
    (batch,) = decide(later, 107, POLICY, in_flight=0).batches
    assert (batch.domain, batch.paths, batch.retire) == ("big", None, False)
