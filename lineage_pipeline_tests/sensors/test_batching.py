"""Spec of sensors.batching: coalescing, triggers, bounded cursor, partial flushes, run keys."""

import json

from lineage_pipeline.sensors.batching import (
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
    for raw in (None, "", "{oops", "[]", '"123"', json.dumps({"version": 1, "pending": {}}),
                json.dumps({"version": 2, "generation": -1, "epoch": "x"})):
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
