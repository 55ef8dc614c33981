"""Spec of pipeline.parse_worker: the fresh-interpreter protocol (READY, one answer per file, None stops)
and the peak RSS it reports."""

import socket
import subprocess
import sys
from multiprocessing.connection import Connection

import psutil

from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.pipeline.parse_worker import READY, peak_rss
from lineage_pipeline.stores.parse_cache import decode


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
        conn.send([("a.sql", "tsql", None), ("big.sql", "tsql", None), ("../x.sql", "tsql", None)])
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
    assert decode(encoded.payload, "a.sql") == expected
    assert "over the 500-byte limit" in decode(too_big.payload, "big.sql").errors[0].message
    assert "cannot read file" in decode(outside.payload, "../x.sql").errors[0].message


def test_peak_rss_is_this_process_high_water_mark():
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    assert peak_rss() >= psutil.Process().memory_info().rss >= 64 * 2**20
    del block
