"""Spec of graph.dead_letter: durable JSONL entries, safe under concurrent writers, whole lines only
(a full disk never cuts one), a damaged line never blocks the file."""

import errno
import multiprocessing
import resource
from pathlib import Path

import pytest

from lineage_pipeline.graph.dead_letter import (
    DeadLetterFile,
    DeadLetterWriteError,
    dead_letter_entry,
    dead_letter_path,
)
from lineage_pipeline_tests.small_fs import fill


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
    with pytest.raises(RuntimeError), dead_letters.exclusive() as (entries, keep):
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


def test_damaged_line_is_skipped_with_a_warning_and_kept_aside_on_rewrite(tmp_path, caplog):
    path = tmp_path / "failed_ingestion.jsonl"
    DeadLetterFile(path).append([_entry()])
    with open(path, "a") as handle:
        handle.write('{"statement": "tables", "row": {"ke')  # cut mid-line, as a full disk leaves it
    dead_letters = DeadLetterFile(path)
    assert [e.statement for e in dead_letters.read()] == ["merge:FEEDS"]
    assert "failed_ingestion.jsonl:2: skipped, not a dead-letter entry" in caplog.text
    dead_letters.append([_entry("tables", {"key": "a.t"})])
    assert [e.statement for e in dead_letters.read()] == ["merge:FEEDS", "tables"], "the cut line swallows no new entry"
    with dead_letters.exclusive() as (entries, keep):
        keep.extend(entries)
    assert path.read_text().count("\n") == 2
    assert dead_letters.damaged_path.read_text() == '{"statement": "tables", "row": {"ke\n'


def _append_past_a_size_limit(path: str, limit: int, queue) -> None:
    """In a child process (the limit is process-wide): the kernel cuts a write at RLIMIT_FSIZE with
    EFBIG once part of it fit - the same partial write a full disk makes (CPython ignores SIGXFSZ)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        DeadLetterFile(path).append([_entry(row={"src": "s" * 200, "dst": str(i), "file": "f", "rev": "r"}) for i in range(3)])
    except OSError as error:
        queue.put(error.errno)
    else:
        queue.put(None)


@pytest.mark.integration  # a child process / a mount
def test_append_cut_short_by_the_os_leaves_nothing_of_it(tmp_path):
    path = tmp_path / "failed_ingestion.jsonl"
    DeadLetterFile(path).append([_entry()])
    before = path.read_bytes()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_append_past_a_size_limit, args=(str(path), len(before) + 300, queue))
    child.start()
    child.join(60)
    assert queue.get(timeout=5) == errno.EFBIG, "the append failed with the OS error"
    assert path.read_bytes() == before, "not half an entry: all of the append or none of it"
    DeadLetterFile(path).append([_entry("tables", {"key": "a.t"})])
    assert [e.statement for e in DeadLetterFile(path).read()] == ["merge:FEEDS", "tables"]


@pytest.mark.integration  # a child process / a mount
def test_append_on_a_full_disk_leaves_the_file_whole_and_works_once_space_is_freed(small_fs):
    path = small_fs / "failed_ingestion.jsonl"
    dead_letters = DeadLetterFile(path)
    dead_letters.append([_entry()])
    before = path.read_bytes()
    ballast = fill(small_fs)
    with pytest.raises(OSError) as raised:
        dead_letters.append([_entry(row={"src": "s" * 3000, "dst": str(i), "file": "f", "rev": "r"}) for i in range(40)])
    assert raised.value.errno == errno.ENOSPC and isinstance(raised.value, DeadLetterWriteError)
    assert "cannot record 40 rejected row(s)" in str(raised.value) and "free space" in str(raised.value)
    assert path.read_bytes() == before
    ballast.unlink()
    dead_letters.append([_entry("tables", {"key": "a.t"})])
    assert [e.statement for e in dead_letters.read()] == ["merge:FEEDS", "tables"]


@pytest.mark.integration  # a mount
def test_rewrite_on_a_full_disk_leaves_the_file_as_it_was(small_fs):
    path = small_fs / "failed_ingestion.jsonl"
    dead_letters = DeadLetterFile(path)
    dead_letters.append([_entry(), _entry("tables", {"key": "a.t"})])
    before = path.read_bytes()
    ballast = fill(small_fs)
    with pytest.raises(DeadLetterWriteError, match="cannot rewrite .* it is unchanged"):
        dead_letters.discard_files(["core/x.sql"])
    assert path.read_bytes() == before and [p.name for p in small_fs.iterdir() if p.suffix == ".tmp"] == []
    ballast.unlink()
    assert dead_letters.discard_files(["core/x.sql"]) == 1


def test_discard_domain_drops_only_that_domains_entries(tmp_path):
    dead_letters = DeadLetterFile(tmp_path / "failed_ingestion.jsonl")
    dead_letters.append([_entry(), _entry("tables", {"key": "a.t"}), _entry(domain="risk")])
    assert dead_letters.discard_domain("core") == 2
    assert [e.domain for e in dead_letters.read()] == ["risk"]


def test_path_defaults_to_the_data_dir_and_resolves_relative_paths_there(tmp_path):
    assert dead_letter_path(tmp_path) == tmp_path / "failed_ingestion.jsonl"
    assert dead_letter_path(tmp_path, "dl/rejected.jsonl") == tmp_path / "dl" / "rejected.jsonl"
    assert dead_letter_path(tmp_path, "/var/x.jsonl") == Path("/var/x.jsonl")
