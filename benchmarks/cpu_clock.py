"""CPU time a measured stretch of work used, by part: this process (all its threads), its child processes
(the parse workers) and the embedded graph server (a daemon, not a child).

Divided by the cores the process may run on, the total is the shortest wall time the same work could take
here if every core were busy throughout: how far a pass is from what this machine can do.
"""

import os
import resource
from dataclasses import asdict, dataclass

import psutil


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS says, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS)
        return os.cpu_count() or 1


@dataclass(frozen=True)
class CpuSeconds:
    """User + system CPU seconds of each part."""

    pass_process: float = 0.0
    parse_workers: float = 0.0
    graph_server: float = 0.0

    @property
    def total(self) -> float:
        return self.pass_process + self.parse_workers + self.graph_server

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 3) for name, value in asdict(self).items()}


def _cpu(times) -> float:
    return times.user + times.system


def _rusage(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _live_children() -> dict[int, float]:
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            found[child.pid] = _cpu(child.cpu_times())
        except psutil.Error:  # exited between listing and reading: its time shows up once it is reaped
            continue
    return found


def _process_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return _cpu(psutil.Process(pid).cpu_times())
    except psutil.Error:
        return None


class CpuClock:
    """Started before the work, read after it. Children count whether still running or already reaped
    (a worker replaced mid-pass; one already running at the start and reaped before the end counts
    whole, as the OS sums reaped children); ``server_pid`` is looked up by the caller at each end, so a
    server restarted during the work counts from its restart."""

    def __init__(self, server_pid: int | None = None):
        self._own = _rusage(resource.RUSAGE_SELF)
        self._reaped = _rusage(resource.RUSAGE_CHILDREN)
        self._children = _live_children()
        self._server_pid = server_pid
        self._server = _process_cpu(server_pid)

    def read(self, server_pid: int | None = None) -> CpuSeconds:
        children = sum(cpu - self._children.get(pid, 0.0) for pid, cpu in _live_children().items())
        server = _process_cpu(server_pid)
        if server is not None and server_pid == self._server_pid and self._server is not None:
            server -= self._server
        return CpuSeconds(
            pass_process=_rusage(resource.RUSAGE_SELF) - self._own,
            parse_workers=children + _rusage(resource.RUSAGE_CHILDREN) - self._reaped,
            graph_server=server or 0.0,
        )
