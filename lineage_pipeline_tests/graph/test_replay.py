"""Spec of graph.replay: dead-lettered rows are applied once the cause is fixed, and the graph then
equals a clean ingest; rows that still fail stay in the file with their new error."""

import pytest

from lineage_pipeline.graph.dead_letter import DeadLetterFile
from lineage_pipeline.graph.embedded_server import server_status
from lineage_pipeline.graph.replay import UnknownStatementError, replay_failed
from lineage_pipeline_tests.graph.test_dead_letter import _entry
from lineage_pipeline_tests.graph.test_writer import (
    X,
    Y,
    clean_ingest_snapshot,
    snapshot,
    sync,
)

FILES = {"core/x.sql": ("r1", X), "core/y.sql": ("r1", Y)}


@pytest.fixture
def rejected(store, tmp_path):
    """Two files synced under a constraint that rejects stg.orders (and what needs it)."""
    store.forbid_duplicate_table_names()
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    sync(store.backend, "core", FILES, writer_kw={"dead_letters": dead_letters, "run_id": "run-1"})
    assert len(dead_letters.read()) == 4
    return store, dead_letters


def test_replay_while_cause_persists_keeps_entries_with_new_error(rejected):
    store, dead_letters = rejected
    before = snapshot(store.backend)
    report = replay_failed(store.backend, dead_letters)
    assert report.applied == [] and len(report.still_failing) == 4
    assert [e.statement for e in dead_letters.read()] == ["tables", "merge:READS", "merge:FEEDS", "merge:HAS_COLUMN"]
    assert snapshot(store.backend) == before


def test_replay_after_fix_applies_everything_and_equals_clean_ingest(rejected):
    store, dead_letters = rejected
    store.allow_duplicate_table_names()
    report = replay_failed(store.backend, dead_letters)
    assert len(report.applied) == 4 and report.still_failing == []
    assert dead_letters.read() == []
    replayed = snapshot(store.backend)
    assert ("FEEDS", "stg.orders", "dw.orders_fact", "core/x.sql", "r1") in replayed[1]
    assert replayed == clean_ingest_snapshot(store.backend, "core", FILES)


def test_replay_of_one_domain_leaves_the_others(rejected):
    store, dead_letters = rejected
    store.allow_duplicate_table_names()
    dead_letters.append([_entry(domain="risk", row={"src": "a", "dst": "b", "file": "risk/r.sql", "rev": "r"})])
    report = replay_failed(store.backend, dead_letters, domain="core")
    assert len(report.applied) == 4
    assert [e.domain for e in dead_letters.read()] == ["risk"]


def test_unknown_statement_is_refused_and_file_kept(store, tmp_path):
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    dead_letters.append([_entry(statement="MATCH (n) DETACH DELETE n")])
    with pytest.raises(UnknownStatementError, match="unknown statement"):
        replay_failed(store.backend, dead_letters)
    assert len(dead_letters.read()) == 1


def test_replaying_a_row_with_a_key_the_store_crashes_on_keeps_it_and_never_sends_it(store, tmp_path):
    from lineage_pipeline_tests.graph.test_writer_faults import PADDED

    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    sync(store.backend, "core", {"core/padded.sql": ("r1", PADDED)}, writer_kw={"dead_letters": dead_letters})
    pid = server_status(store.config.data_dir).pid if store.config.backend == "falkordb" else None
    report = replay_failed(store.backend, dead_letters)
    assert report.applied == [] and len(report.still_failing) == 4
    assert all("InvalidKeyError" in e.error for e in dead_letters.read())
    if pid is not None:
        assert server_status(store.config.data_dir).pid == pid, "nothing was sent that crashes the server"
