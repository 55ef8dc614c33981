"""Spec of sensors.state_store: last-seen manifest, generations, change journal, flush requests."""

from lineage_pipeline.sensors import state_store
from lineage_pipeline.sensors.changes import ChangeSet, Seen
from lineage_pipeline.sensors.state_store import StateStore


def added(*paths: str) -> ChangeSet:
    return ChangeSet(added=list(paths), upserts={p: Seen(1, 1, 1, p) for p in paths})


def test_commit_and_reload(tmp_path):
    path = tmp_path / "state" / "s.sqlite"
    with StateStore(path) as store:
        epoch = store.epoch
        assert store.generation == 0 and store.load() == {}
        assert store.commit(added("core/a.sql", "b.sql")) == 1
        touched = ChangeSet(unchanged_content=["b.sql"], upserts={"b.sql": Seen(1, 2, 2, "b.sql")})
        assert store.commit(touched) == 1, "a touch is recorded but is not a change"
        assert store.commit(ChangeSet(deleted=["core/a.sql"], removals=["core/a.sql"])) == 2
    with StateStore(path) as store:
        assert store.epoch == epoch and store.generation == 2
        assert store.load() == {"b.sql": Seen(1, 2, 2, "b.sql")}
        assert store.domains() == {"_root"}


def test_journal_replays_changes_since_a_generation(tmp_path, monkeypatch):
    monkeypatch.setattr(state_store, "JOURNAL_GENERATIONS", 3)
    with StateStore(tmp_path / "s.sqlite") as store:
        for name in "abcde":
            store.commit(added(f"{name}.sql"))
        assert store.changes_since(5) == []
        assert store.changes_since(3) == ["d.sql", "e.sql"]
        assert store.changes_since(1) is None, "older than the journal keeps: caller must rescan"


def test_flush_requests_count_up(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        assert store.flush_requests == 0
        assert store.request_flush() == 1 and store.request_flush() == 2
    with StateStore(tmp_path / "s.sqlite") as store:
        assert store.flush_requests == 2


def test_a_new_store_has_a_new_epoch(tmp_path):
    with StateStore(tmp_path / "one.sqlite") as one, StateStore(tmp_path / "two.sqlite") as two:
        assert one.epoch != two.epoch
