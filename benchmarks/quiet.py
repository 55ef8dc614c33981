"""Wait before a measured pass until the machine is quiet: what earlier passes wrote is on disk, and the
graph server does no work of its own (no child of it, such as an append-only-log rewrite or an index
garbage collection, and next to no CPU use over a short window).

After a cold 100k-file ingest the kernel still has gigabytes to write back and the server rewrites its
log; a pass started then measures that work, not its own.
"""

import os
import time
from collections.abc import Callable

import psutil

IDLE_SHARE = 0.05
"""The server counts as idle when it used at most this share of one core over a window."""
WINDOW_S = 0.5
TIMEOUT_S = 120.0


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def wait_for_quiet(
    server_pid: int | None,
    *,
    idle_share: float = IDLE_SHARE,
    window_s: float = WINDOW_S,
    timeout_s: float = TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Flush the file system, then wait until the process ``server_pid`` (None: none) has no child and
    used at most ``idle_share`` of a core over ``window_s``, at most ``timeout_s``; returns the seconds waited."""
    started = time.monotonic()
    os.sync()
    if server_pid is None:
        return time.monotonic() - started
    try:
        server = psutil.Process(server_pid)
        while time.monotonic() - started < timeout_s:
            before = _cpu_s(server)
            sleep(window_s)
            if not server.children() and _cpu_s(server) - before <= idle_share * window_s:
                break
    except psutil.NoSuchProcess:  # the server stopped: nothing left to wait for
        pass
    return time.monotonic() - started
