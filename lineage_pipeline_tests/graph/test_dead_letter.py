"""Spec of graph.dead_letter: durable JSONL entries, safe under concurrent writers, clear errors."""

import multiprocessing
from pathlib import Path

import pytest

from lineage_pipeline.graph.dead_letter import DeadLetterFile, DeadLetterFileError, dead_letter_entry, dead_letter_path


def _entry(statement="merge:FEEDS", row=None, domain="core"):
    row = row if row is not None else {"src": "a.t", "dst": "b.t", "file": "core/x.sql", "rev": "r1"}
    return dead_letter_entry(statement, row, ValueError("rejected"), "run-1", domain)


def test_entry_carries_file_rev_error_run_and_time():
    entry = _entry()
    assert (entry.file, entry.rev, entry.error, entry.run_id) == ("core/x.sql", "r1", "ValueError: rejected", "run-1")
    assert entry.time.endswith("+00:00")
    assert dead_letter_entry("unlink:READS", "core/y.sql", ValueError("x"), "r", "core").file == "core/y.sql"
    assert dead_letter_entry("tables", {"key": "a.t", "name": "t"}, ValueError("x"), "r", "core").file is None


def test_append_read_by_domain_and_discard_files(tmp_path):
    dead_letters = DeadLetterFile(tmp_path / "dl" / "failed_ingestion.jsonl")
    assert dead_letters.read() == []
    dead_letters.append([_entry(), _entry(domain="risk", row={"src": "r", "dst": "s", "file": "risk/z.sql", "rev": "r"})])
    dead_letters.append([_entry("tables", {"key": "a.t"})])
    assert [e.domain for e in dead_letters.read()] == ["core", "risk", "core"]
    assert [e.statement for e in dead_letters.read("core")] == ["merge:FEEDS", "tables"]
    assert dead_letters.discard_files(["core/x.sql"]) == 1
    assert [e.statement for e in dead_letters.read()] == ["merge:FEEDS", "tables"]
    assert dead_letters.read()[0].domain == "risk"


def test_exclusive_rewrites_with_kept_entries_only_on_success(tmp_path):
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    dead_letters.append([_entry(), _entry("tables", {"key": "a.t"})])
    with pytest.raises(RuntimeError):
        with dead_letters.exclusive() as (entries, keep):
            raise RuntimeError("replay crashed")
    assert len(dead_letters.read()) == 2, "a crash leaves the file as it was"
    with dead_letters.exclusive() as (entries, keep):
        keep.append(entries[1])
    assert [e.statement for e in dead_letters.read()] == ["tables"]


def _append_many(path: str, worker: int) -> None:
    dead_letters = DeadLetterFile(path)
    for i in range(50):
        dead_letters.append([_entry(row={"src": f"w{worker}", "dst": str(i), "file": f"f{worker}", "rev": "r"})])


def test_concurrent_processes_never_interleave_lines(tmp_path):
    path = tmp_path / "failed_ingestion.jsonl"
    processes = [multiprocessing.get_context("spawn").Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    entries = DeadLetterFile(path).read()
    assert sorted((e.row["src"], int(e.row["dst"])) for e in entries) == sorted((f"w{w}", i) for w in range(4) for i in range(50))


def test_corrupt_line_is_named(tmp_path):
    path = tmp_path / "failed_ingestion.jsonl"
    DeadLetterFile(path).append([_entry()])
    with open(path, "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(DeadLetterFileError, match=r"failed_ingestion.jsonl:2: not a dead-letter entry"):
        DeadLetterFile(path).read()


def test_path_defaults_to_the_data_dir_and_resolves_relative_paths_there(tmp_path):
    assert dead_letter_path(tmp_path) == tmp_path / "failed_ingestion.jsonl"
    assert dead_letter_path(tmp_path, "dl/rejected.jsonl") == tmp_path / "dl" / "rejected.jsonl"
    assert dead_letter_path(tmp_path, "/var/x.jsonl") == Path("/var/x.jsonl")
