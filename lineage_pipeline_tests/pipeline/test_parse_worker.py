"""Spec of pipeline.parse_worker: the fresh-interpreter protocol (READY, one answer per file, None stops)
and the peak RSS it reports."""

import hashlib
import socket
import subprocess
import sys
from multiprocessing.connection import Connection

import psutil
import pytest

from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.pipeline.parse_worker import CHANGED_MESSAGE, READY, peak_rss, read_and_parse
from lineage_pipeline.stores.parse_cache import decode


@pytest.mark.integration  # a real worker process
def test_a_fresh_worker_says_ready_answers_each_file_and_stops_on_none(tmp_path):
    (tmp_path / "a.sql").write_text("INSERT INTO dw.t (a) SELECT x FROM stg.s;\n")
    (tmp_path / "big.sql").write_text("SELECT 1;\n" * 100)
    # a parent that has been large: a fresh worker's peak must be its own, not the parent's (ru_maxrss
    # would carry the parent's over the exec)
    ballast = bytearray(256 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    parent, child = socket.socketpair()
    with child:
        process = subprocess.Popen(
            [sys.executable, "-m", "lineage_pipeline.pipeline.parse_worker", str(child.fileno()), str(tmp_path), "500"],
            pass_fds=[child.fileno()],
        )
    conn = Connection(parent.detach())
    try:
        assert conn.poll(60) and conn.recv() == READY
        a_sha = hashlib.sha256((tmp_path / "a.sql").read_bytes()).hexdigest()
        conn.send([
            ("a.sql", "tsql", None, a_sha, None), ("big.sql", "tsql", None, None, None), ("../x.sql", "tsql", None, None, None)
        ])
        answers = [conn.recv() for _ in range(3)]
        conn.send(None)
        assert process.wait(30) == 0
    finally:
        process.kill()
        process.wait()
        conn.close()
    (ms, encoded, peak), (_, too_big, _), (_, outside, _) = answers
    del ballast
    assert ms > 0 and 10 * 2**20 < peak < 200 * 2**20
    expected = parse_file_bytes((tmp_path / "a.sql").read_bytes(), "tsql", "a.sql")
    assert decode(encoded.payload, "a.sql") == expected and encoded.reusable
    assert "over the 500-byte limit" in decode(too_big.payload, "big.sql").errors[0].message
    assert "cannot read file" in decode(outside.payload, "../x.sql").errors[0].message


def test_peak_rss_is_this_process_high_water_mark():
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    rss = psutil.Process().memory_info().rss  # read first: the peak read after it covers it even if memory grew
    assert peak_rss() >= rss >= 64 * 2**20
    del block


def test_a_file_whose_content_is_not_the_scanned_one_is_parsed_as_read_and_flagged(tmp_path):
    (tmp_path / "a.sql").write_text("INSERT INTO dw.t (a) SELECT x FROM stg.s;\n")
    scanned = hashlib.sha256((tmp_path / "a.sql").read_bytes()).hexdigest()
    parsed, as_scanned = read_and_parse(tmp_path, "a.sql", "tsql", 10_000, sha256=scanned)
    assert as_scanned and not parsed.lineage.errors and parsed.memo
    (tmp_path / "a.sql").write_text("INSERT INTO dw.u (a) SELECT x FROM stg.s;\n")
    parsed, as_scanned = read_and_parse(tmp_path, "a.sql", "tsql", 10_000, sha256=scanned)
    assert not as_scanned and parsed.lineage.statements[0].targets == ["dw.u"]
    assert [e.message for e in parsed.lineage.errors] == [CHANGED_MESSAGE]
    assert parsed.memo is None, "a result kept for this run only leaves nothing to reuse"
    assert read_and_parse(tmp_path, "a.sql", "tsql", 10_000)[1], "no scanned hash: nothing to compare"


def _imports_of_a_worker(root, warm: str) -> str:
    """``-X importtime`` of a fresh worker that warms up in ``warm``, says READY, parses a.sql (tsql), stops."""
    parent, child = socket.socketpair()
    with child:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "lineage_pipeline.pipeline.parse_worker", str(child.fileno()),
             str(root), "100000", warm],
            pass_fds=[child.fileno()], stderr=subprocess.PIPE, text=True,
        )
    conn = Connection(parent.detach())
    try:
        assert conn.poll(60) and conn.recv() == READY
        conn.send([("a.sql", "tsql", None, None, None)])
        (_, encoded, _) = conn.recv()
        conn.send(None)
        _, imports = process.communicate(timeout=30)
    finally:
        process.kill()
        conn.close()
    assert decode(encoded.payload, "a.sql").statements[0].targets == ["dw.t"]
    return imports


@pytest.mark.integration  # a real worker process
def test_a_worker_warms_up_in_the_dialects_it_is_given_before_it_says_ready(tmp_path):
    """The parser's first use in a dialect loads its modules: with a warm-up that happens before READY
    (not charged to a file); a dialect that fails to warm up is skipped."""
    (tmp_path / "a.sql").write_text("INSERT INTO dw.t (a) SELECT x FROM stg.s;\n")
    lazily_loaded = "sqlglot.typing.snowflake"  # imported on the first Snowflake parse only
    assert lazily_loaded not in _imports_of_a_worker(tmp_path, "")
    assert lazily_loaded in _imports_of_a_worker(tmp_path, "snowflake,bogus")


def test_a_result_a_statement_budget_cut_short_is_kept_for_this_run_only(tmp_path, monkeypatch):
    """A time budget is a limit of one run, not a fact of the content: such a result is never reusable."""
    from lineage_pipeline.parsing import budget
    from lineage_pipeline.pipeline.parse_worker import read_and_parse

    (tmp_path / "d").mkdir()
    sql = "INSERT INTO a.t (x) SELECT s.x FROM a.s AS s JOIN a.u AS u ON u.x = s.x;\n"
    (tmp_path / "d" / "f.sql").write_text(sql)
    full = read_and_parse(tmp_path, "d/f.sql", "tsql", 10_000_000)[0].lineage
    assert not any(issue.limited for issue in full.errors) and full.statements[0].columns
    def spent(self: budget.Deadline) -> None:  # a budget used up at once, as on a pathological statement
        raise budget.BudgetExceeded("statement exceeded its 2s time budget")

    monkeypatch.setattr(budget.Deadline, "check", spent)
    parsed, final = read_and_parse(tmp_path, "d/f.sql", "tsql", 10_000_000)
    assert any(issue.limited for issue in parsed.lineage.errors) and not final, parsed.lineage.errors
    assert parsed.memo is None
